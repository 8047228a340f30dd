/**
 * The integer forge: the one source of 1, 2, 3, … that every client hears, ticking only while
 * someone listens. This file is the interface; `InProcessForge.ts` forges in this process,
 * `RedisForge.ts` shares one sequence between instances, and `ForgeChoice.ts` picks one.
 */
import { Context, type Effect, type Queue, type Scope } from "effect"
import { sharedName } from "../wire/ResumePoint.js"
import type { RedisCommandFailed } from "./RedisTransaction.js"

/** With the shared forge: each instance's count of connections, posted where every instance reads it. */
export interface LoadBoard {
  /**
   * Posts this instance's count, kept for `ttlMs` unless posted again, and reads every posted
   * count still alive (this instance's included), by instance.
   */
  readonly post: (connections: number, ttlMs: number) => Effect.Effect<ReadonlyMap<string, number>, RedisCommandFailed>
  /** Takes this instance's count off the board, for the others to stop counting it at once. */
  readonly leave: Effect.Effect<void>
}

/** What an operator or a test can see of the forge at any moment. */
export interface ForgeStatus {
  /** Whether the ticking fiber is alive. */
  readonly running: boolean
  /** The last integer forged (0 before the first). */
  readonly last: number
  /** How many subscriptions are open. */
  readonly subscribers: number
  /**
   * With a shared forge (Redis): whether this instance holds the lease and forges, and whether
   * Redis answers. Absent for the in-process forge.
   */
  readonly shared?: { readonly leader: boolean; readonly redisReachable: boolean }
}

export class IntegerForge extends Context.Tag("IntegerForge/IntegerForge")<IntegerForge, {
  /**
   * A subscription to the integers forged from now on, open for the life of the caller's scope.
   * The first integer it receives is the next one forged. The scope's closing releases it,
   * whatever the reason (completion, failure, interruption, even halfway through subscribing).
   */
  readonly subscribe: Effect.Effect<Queue.Dequeue<number>, never, Scope.Scope>
  readonly status: Effect.Effect<ForgeStatus>
  /** The status at this moment, read synchronously: for callbacks that need no fiber. */
  readonly statusNow: () => ForgeStatus
  /**
   * Names this sequence, for a forge whose sequence starts over when it does (the in-process
   * one, with each process): a client that sees another name after a reconnect knows the
   * integers it has are from a sequence that is gone. Undefined for the shared forge, whose
   * sequence goes on through the instances' restarts.
   */
  readonly sequence: string | undefined
  /**
   * The shared forge: the highest integer Redis has counted, read now; undefined when Redis does
   * not answer within a moment, and for the in-process forge.
   */
  readonly counted: Effect.Effect<number | undefined>
  /** Where instances sharing the forge see one another's load; undefined for the in-process forge. */
  readonly loads: LoadBoard | undefined
}>() {}

/**
 * The name a client carries from one connection to the next to say whose integers it has
 * (Socket.IO's recovery `pid` begins with it): the in-process forge's `sequence`, which each
 * process draws anew, or one name for the shared sequence, the same on every instance and after
 * their restarts.
 */
export const sequenceNameOf = (forge: Context.Tag.Service<IntegerForge>): string => forge.sequence ?? sharedName
