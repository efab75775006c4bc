#!/usr/bin/env node
/**
 * Entry point of the `switchyard` command.
 *
 * @since 0.1.0
 */
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import { run, usageError, withoutColour } from "./Cli.js"

const usage = usageError(process.argv.slice(2))
if (usage !== undefined) {
  process.stderr.write(`${usage}\n`)
  process.exit(1)
}

// Colours only on a terminal, and never with NO_COLOR set (https://no-color.org).
const noColour = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== ""
withoutColour(run(process.argv), {
  stdout: noColour || !process.stdout.isTTY,
  stderr: noColour || !process.stderr.isTTY
}).pipe(
  // A usage error (bad flag, missing argument) has been printed to stderr already: exit 1 without
  // also logging it as a crash on stdout, where it would corrupt `--format json` output.
  Effect.catchIf(ValidationError.isValidationError, () =>
    Effect.sync(() => {
      process.exitCode = 1
    })),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain
)
