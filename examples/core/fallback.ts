/**
 * A runnable example of @switchyard/core on its own: a fallback route over two scripted providers,
 * the first of which is down. Run: npx tsx examples/core/fallback.ts
 */
import { Errors, Router, State } from "@switchyard/core"
import { Plans, ScriptedProvider } from "@switchyard/core/testing"
import { Effect } from "effect"

const primary = ScriptedProvider.make("primary", () => ({
  _tag: "fail",
  latencyMs: 20,
  error: new Errors.Unavailable({ message: "503 Service Unavailable", status: 503 })
}))
const backup = ScriptedProvider.make("backup", () => ({ _tag: "ok", latencyMs: 80, text: "Hello from the backup" }))

const program = Effect.gen(function*() {
  const router = yield* Router.make({
    plan: Plans.route({
      providers: ["primary", "backup"],
      retry: { maxAttempts: 2, backoff: { kind: "exponential", baseMs: 50, maxDelayMs: 1_000 } },
      timeout: { totalMs: 5_000, attemptMs: 2_000 }
    }),
    providers: new Map([["primary", primary.model], ["backup", backup.model]])
  })
  const response = yield* router.generate({ messages: [{ role: "user", content: "Hi" }] })
  console.log(`${response.provider} answered: ${response.text}`)
  for (const attempt of response.attempts) {
    console.log(`  attempt on ${attempt.target}: ${attempt.outcome} after ${attempt.durationMs} ms`)
  }
})

Effect.runPromise(program.pipe(Effect.provide(State.layerMemory)))
