/**
 * The service: the layers of App.ts, configured from the environment, run until a signal.
 */
import { Effect, Layer } from "effect"
import { serverOn } from "./App.js"
import { ForgeConfig, ServerConfig } from "./Config.js"
import * as ForgeChoice from "./forge/ForgeChoice.js"
import * as StartupLog from "./http/StartupLog.js"
import * as Logging from "./ops/Logging.js"
import * as ShutdownSignals from "./ops/ShutdownSignals.js"

const Main = StartupLog.layer.pipe(
  Layer.provide(serverOn(ForgeChoice.fromEnv)),
  Layer.provide([ForgeConfig.layer, ServerConfig.layer])
)

Layer.launch(Main).pipe(
  ShutdownSignals.untilSignal(ShutdownSignals.logged),
  Effect.tapErrorCause(StartupLog.reportStartFailure),
  Effect.provide(Logging.layer),
  ShutdownSignals.runMain
)
