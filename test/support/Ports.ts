/**
 * Whether something listens on a loopback port, as a client finds out: by connecting.
 */
import { Duration, Effect, Schedule } from "effect"
import * as Net from "node:net"

/** True when a connection to the port is refused (nothing listens), false when it is accepted. */
export const refusesConnections = (port: number) =>
  Effect.async<boolean>((resume) => {
    const socket = Net.connect({ port, host: "127.0.0.1" })
    socket.on("connect", () => {
      socket.destroy()
      resume(Effect.succeed(false))
    })
    socket.on("error", (error: NodeJS.ErrnoException) => resume(Effect.succeed(error.code === "ECONNREFUSED")))
  })

/** Waits until the port accepts connections; dies with `describe()` after `within`. */
export const untilAccepting = (port: number, describe: () => string, within = Duration.seconds(10)) =>
  refusesConnections(port).pipe(
    Effect.filterOrFail((refused) => !refused, () => new Error("not accepting yet")),
    Effect.retry(Schedule.spaced(Duration.millis(20))),
    Effect.timeoutFail({ duration: within, onTimeout: () => new Error(describe()) }),
    Effect.orDie,
    Effect.asVoid
  )
