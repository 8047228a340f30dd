/**
 * Commands that show the integers of the service at `host` (`name:port`), first what works right
 * after `npm install`: curl; wscat, a development dependency; websocat.
 */
export const tryItCommands = (host: string): ReadonlyArray<string> => [
  `curl -N -H 'Accept: text/event-stream' http://${host}/_ws/`,
  `npx wscat -c ws://${host}/_ws/`,
  `websocat ws://${host}/_ws/`
]
