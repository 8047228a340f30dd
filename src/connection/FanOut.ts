/**
 * The one fan-out: while there are members, one subscription to the forge and one fiber that
 * encodes each integer once per encoding and writes those bytes to every member of a set.
 */
import { Effect, type Fiber, FiberId, Queue, RcRef } from "effect"
import { randomBytes } from "node:crypto"
import { ForgeConfig, ServerConfig } from "../Config.js"
import { IntegerForge, sequenceNameOf } from "../forge/IntegerForge.js"
import { Metrics } from "../ops/Metrics.js"
import type { Encoding } from "../wire/Encoding.js"
import { type ResumePoint, sharedName } from "../wire/ResumePoint.js"
import { type Counted, resumePlan } from "./Resume.js"

/**
 * Told the last integer before a member's first, and the name its sequence goes by (a restart's
 * new one, for a client whose integers are gone), before any of them is written to it.
 */
export type Opening = (startsAfter: number, sequence: string) => void

/** A member's encoding, for the name its sequence goes by (event ids carry it). */
export type EncodingOf = (sequence: string) => Encoding

/** Starts a fiber through a runtime that the owning layer's scope owns. */
export type Run = <A, E>(effect: Effect.Effect<A, E>) => Fiber.RuntimeFiber<A, E>

// A replay is written in pieces of at most this many integers: one write per integer would queue
// up to REPLAY_CAPACITY buffers on a socket that is not reading, and Node 24 fails such a socket's
// writev (EINVAL) and destroys it.
const replayBatch = 1024

// At most this many integers a pass, so that a backlog does not hold the event loop for long.
const maxBatch = 64

/** A connection as the fan-out sees it; its place is set only by `makeMembers`, which counts skips. */
export abstract class Member {
  #encoding: Encoding | undefined = undefined
  // Live integers up to this one are skipped: it resumed after an integer this instance has not
  // delivered yet (a shared sequence, heard a moment after another instance did).
  #skipUpTo: number | undefined = undefined
  abstract get isOpen(): boolean
  abstract get bufferedAmount(): number
  abstract write(bytes: Buffer): void
  abstract shed(): void

  /** The members, and the one delivery loop over them. */
  static makeMembers(maxBufferedBytes: number) {
    const members = new Set<Member>()
    // Nearly always 0, so that delivering looks at skip points only when some member has one.
    let ahead = 0
    const skip = (member: Member, upTo: number | undefined) => {
      if (member.#skipUpTo !== undefined) ahead--
      if (upTo !== undefined) ahead++
      member.#skipUpTo = upTo
    }
    const add = (member: Member, encoding: Encoding, skipUpTo: number | undefined) => {
      member.#encoding = encoding
      skip(member, skipUpTo)
      members.add(member)
    }
    const remove = (member: Member) => {
      skip(member, undefined)
      return members.delete(member)
    }
    // The count of members written to.
    const deliver = (n: number): number => {
      let sent = 0
      const someAhead = ahead > 0
      for (const member of members) {
        if (!member.isOpen) continue
        if (someAhead && member.#skipUpTo !== undefined) {
          if (n <= member.#skipUpTo) continue
          skip(member, undefined)
        }
        if (member.bufferedAmount > maxBufferedBytes) member.shed()
        else {
          member.write(member.#encoding!.bytesOf(n))
          sent++
        }
      }
      return sent
    }
    return { add, remove, deliver, has: (member: Member) => members.has(member), size: () => members.size }
  }
}

const writeReplay = (member: Member, encoding: Encoding, range: { readonly from: number; readonly to: number }) => {
  for (let from = range.from; from <= range.to; from += replayBatch) {
    const pieces: Array<Buffer> = []
    for (let n = from; n <= Math.min(range.to, from + replayBatch - 1); n++) pieces.push(encoding.encode(n))
    member.write(Buffer.concat(pieces))
  }
}

export const makeFanOut = (run: Run) =>
  Effect.gen(function*() {
    const forge = yield* IntegerForge
    const metrics = yield* Metrics
    const { maxBufferedBytes } = yield* ServerConfig
    const { replayCapacity } = yield* ForgeConfig
    const sequence = sequenceNameOf(forge)
    const shared = forge.sequence === undefined
    const members = Member.makeMembers(maxBufferedBytes)
    // The last integer written to the members, while the fan-out runs. When it does not, no
    // delivery is pending and the forge's own last integer is the one everyone has seen.
    let delivered: number | undefined
    // Run at the end of the next pass, in the same step, however busy the event loop is.
    let afterPass: Array<() => void> = []

    const fanOut = yield* RcRef.make({
      acquire: Effect.gen(function*() {
        const integers = yield* forge.subscribe
        // Everything forged before the subscription is either delivered already or was
        // forged while nobody listened; everything after comes through `integers`.
        yield* Effect.acquireRelease(
          Effect.map(forge.status, (status) => (delivered = status.last)),
          () => Effect.sync(() => (delivered = undefined))
        )
        yield* Queue.takeBetween(integers, 1, maxBatch).pipe(
          Effect.map((batch) => {
            for (const n of batch) {
              metrics.messagesSent(members.deliver(n))
              delivered = n
            }
            if (afterPass.length > 0) {
              const now = afterPass
              afterPass = []
              for (const f of now) f()
            }
          }),
          Effect.forever,
          Effect.forkScoped
        )
      })
    })

    // The first member to join starts a fiber that holds the fan-out; the last to leave interrupts it.
    let holder: Fiber.RuntimeFiber<never> | undefined
    const letGo = () => {
      holder?.unsafeInterruptAsFork(FiberId.none)
      holder = undefined
    }
    // Synchronous from the replay to joining the members: no delivery can fall between the last
    // replayed integer and the first live one. A plain client that asks for nothing again has no
    // place to take but the live one.
    const enter = (
      member: Member,
      encodingOf: EncodingOf,
      since: ResumePoint | undefined,
      opening: Opening | undefined,
      counted?: Counted
    ) => {
      const plan = resumePlan(since, delivered ?? forge.statusNow().last, replayCapacity, sequence, shared, counted)
      const encoding = encodingOf(plan.sequence)
      opening?.(plan.startsAfter, plan.sequence)
      if (plan.replay !== undefined && member.isOpen) writeReplay(member, encoding, plan.replay)
      members.add(member, encoding, plan.skipUpTo)
      if (members.size() === 1) holder = run(Effect.scoped(Effect.zipRight(RcRef.get(fanOut), Effect.never)))
    }
    // Members whose point is ahead of this instance, until Redis says how far it has counted.
    const waiting = new Set<Member>()
    const join = (member: Member, encodingOf: EncodingOf, since?: ResumePoint, opening?: Opening) => {
      if (members.has(member) || waiting.has(member)) return
      const ahead = shared && since !== undefined && since.after > (delivered ?? forge.statusNow().last)
      if (!ahead) return enter(member, encodingOf, since, opening)
      waiting.add(member)
      run(Effect.map(forge.counted, (forged) => {
        if (!waiting.delete(member) || !member.isOpen) return
        const fresh = `${sharedName}-${randomBytes(6).toString("base64url")}`
        enter(member, encodingOf, since, opening, forged === undefined ? undefined : { forged, fresh })
      }))
    }
    const leave = (member: Member) => {
      waiting.delete(member)
      if (members.remove(member) && members.size() === 0) letGo()
    }
    // Whatever is left when the fan-out itself goes (a failed start): it stops with it.
    yield* Effect.addFinalizer(() => Effect.sync(letGo))

    /** Runs `f` right after the members are next written an integer, in the same step. */
    const atNextPass = (f: () => void) => void afterPass.push(f)
    return { join, leave, size: members.size, atNextPass }
  })
