import { Effect, Fiber, Runtime, Duration, Exit, Cause } from "effect"
const f = () => Promise.resolve(42)
const prog = Effect.promise(f)
const N = 20000
async function time(name: string, mk: () => Promise<unknown>) {
  for (let i = 0; i < 2000; i++) await mk()
  const t0 = performance.now()
  for (let i = 0; i < N; i++) await mk()
  const t1 = performance.now()
  console.log(name.padEnd(40), ((t1 - t0) * 1000 / N).toFixed(2), "us/op")
}
const sync = Effect.succeed(42)
for (let r = 0; r < 2; r++) {
await time("direct", () => f())
await time("runPromise(promise)", () => Effect.runPromise(prog))
await time("runPromise(promise)+timeoutFail", () => Effect.runPromise(prog.pipe(Effect.timeoutFail({ duration: 1000, onTimeout: () => "t" }))))
await time("sync + timeoutFail", () => Effect.runPromise(sync.pipe(Effect.timeoutFail({ duration: 1000, onTimeout: () => "t" }))))
await time("fork+sleep-interrupt", () => Effect.runPromise(Effect.gen(function*() {
  const sleeper = yield* Effect.fork(Effect.sleep(1000))
  const r = yield* prog
  yield* Fiber.interruptFork(sleeper)
  return r
})))
await time("withFiberRuntime+setTimeout interrupt", () => Effect.runPromise(Effect.withFiberRuntime<number>((fiber) => {
  const h = setTimeout(() => fiber.unsafeInterruptAsFork(fiber.id()), 1000)
  return Effect.ensuring(prog, Effect.sync(() => clearTimeout(h)))
})))
}
