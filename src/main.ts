/**
 * The service: the layers of App.ts, configured from the environment, run until a signal.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Layer } from "effect"
import { serverOn } from "./App.js"
import { ForgeConfig, ServerConfig } from "./Config.js"
import * as ForgeChoice from "./forge/ForgeChoice.js"
import * as StartupLog from "./http/StartupLog.js"
import * as Logging from "./ops/Logging.js"
import * as ShutdownSignals from "./ops/ShutdownSignals.js"
import { mapStacksOf } from "./ops/SourceMappedStacks.js"

mapStacksOf(import.meta.url)

const Main = StartupLog.layer.pipe(
  Layer.provide(serverOn(ForgeChoice.fromEnv)),
  Layer.provide([ForgeConfig.layer, ServerConfig.layer, ShutdownSignals.layer])
)

// The start-failure report sits outside the logger's layer, whose own settings (LOG_LEVEL,
// LOG_FORMAT) can be what failed; it writes to stderr, not through the logger.
Layer.launch(Main).pipe(
  Effect.provide(Logging.layer),
  Effect.tapErrorCause(StartupLog.reportStartFailure),
  NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true })
)
