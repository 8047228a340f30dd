/**
 * The service: the layers of App.ts, configured from the environment, run until a signal.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { serverOn } from "./App.js"
import { ForgeConfig, ServerConfig } from "./Config.js"
import * as ForgeChoice from "./ForgeChoice.js"
import * as Logging from "./Logging.js"
import * as StartupLog from "./StartupLog.js"

const Main = StartupLog.layer.pipe(
  Layer.provide(serverOn(ForgeChoice.fromEnv)),
  Layer.provide([ForgeConfig.layer, ServerConfig.layer]),
  Layer.provide(Logging.layer)
)

Layer.launch(Main).pipe(
  Effect.tapErrorCause(StartupLog.reportStartFailure),
  NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true })
)
