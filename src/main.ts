/**
 * The service: the layers of App.ts, configured from the environment, run until a signal.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Layer } from "effect"
import { serverOn } from "./App.js"
import { ForgeConfig, ServerConfig } from "./Config.js"
import * as ForgeChoice from "./forge/ForgeChoice.js"
import * as StartupLog from "./http/StartupLog.js"
import * as Logging from "./ops/Logging.js"

const Main = StartupLog.layer.pipe(
  Layer.provide(serverOn(ForgeChoice.fromEnv)),
  Layer.provide([ForgeConfig.layer, ServerConfig.layer]),
  Layer.provide(Logging.layer)
)

Layer.launch(Main).pipe(
  Effect.tapErrorCause(StartupLog.reportStartFailure),
  // A start that failed has released what it built; leave at once. Left to runMain, Node 24
  // sometimes stayed up after the error (3 runs in 30 with PORT=abc).
  Effect.catchAllCause((cause) => Cause.isInterruptedOnly(cause) ? Effect.void : Effect.sync(() => process.exit(1))),
  NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true })
)
