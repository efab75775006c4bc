import type { Errors, Model, Plan, Plugin } from "@switchyard/core"
import { Events, Router, State } from "@switchyard/core"
import { ScriptedProvider } from "@switchyard/core/testing"
import { Clock, Effect, Either, Fiber, Random, TestClock } from "effect"

/** A route's target that is another route (a nested route). */
export const routeTarget = (route: string) => ({
  kind: "route" as const,
  id: `route:${route}`,
  route,
  weight: 1,
  priority: 0
})

export const request: Model.GenerateRequest = { messages: [{ role: "user", content: "hello" }] }

/** Builds a router over scripted providers and returns it with the providers' call logs. */
export const build = (
  plan: Plan.PolicyPlan,
  scripts: Record<string, (call: ScriptedProvider.Call) => ScriptedProvider.Outcome>,
  stages: ReadonlyArray<Plugin.Stage> = []
) =>
  Effect.gen(function*() {
    const providers = new Map<string, ScriptedProvider.ScriptedProvider>()
    for (const [name, script] of Object.entries(scripts)) providers.set(name, ScriptedProvider.make(name, script))
    const sink = Events.collect()
    const router = yield* Router.make({
      plan,
      providers: new Map([...providers].map(([name, provider]) => [name, provider.model])),
      stages
    }).pipe(Effect.provideService(Events.Events, sink), Effect.provide(State.layerMemory))
    const calls = () =>
      [...providers.values()].flatMap((provider) => provider.calls).sort((a, b) => a.startedAt - b.startedAt)
    return { router, providers, calls, events: sink.events }
  })

/** Runs one request to completion on the TestClock; returns the result and its latency. */
export const run = <A>(effect: Effect.Effect<A, Errors.SwitchyardError>) =>
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const fiber = yield* Effect.fork(Effect.either(effect).pipe(Effect.zip(Clock.currentTimeMillis)))
    yield* TestClock.adjust("100 hours")
    const [result, end] = yield* Fiber.join(fiber)
    return { result, latency: end - start, start }
  })

export const seeded = (seed: number) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.withRandom(effect, Random.make(seed))

export const isLeft = Either.isLeft
