/**
 * What the shared forge keeps in Redis, and the Lua scripts that change it. Redis runs a script
 * atomically, so taking part in the forge (lease, counter, publish) is one step that no other
 * instance can interleave with.
 */

/** The keys and the channel of one deployment, all under its prefix. */
export const redisNames = (prefix: string) => ({
  leader: `${prefix}:leader`,
  counter: `${prefix}:counter`,
  channel: `${prefix}:integers`
})

/**
 * KEYS: leader, counter. ARGV: this instance, lease in ms, channel, highest integer seen here.
 * Returns the integer forged, or -1 when another instance holds the lease.
 *
 * Every instance that takes part raises the counter to the highest integer it has seen, leader
 * or not: a Redis that restarted empty is brought back up to the sequence within one interval,
 * whichever instance happens to take the lease first.
 */
export const forgeScript = `
local floor = tonumber(ARGV[4])
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if current < floor then redis.call('SET', KEYS[2], floor) end
local leader = redis.call('GET', KEYS[1])
if not leader then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  leader = ARGV[1]
elseif leader == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if leader ~= ARGV[1] then return -1 end
local n = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[3], n)
return n
`

/** KEYS: leader. ARGV: this instance. Gives the lease back only if this instance holds it. */
export const releaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`
