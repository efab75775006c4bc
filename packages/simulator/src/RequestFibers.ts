/**
 * Reused fibers for simulated requests. A simulation runs hundreds of thousands of short requests, a
 * few dozen at a time; forking a fiber for each took about a fifth of a simulated request's wall time
 * (S1 with the default chaos policy: 14,131–19,949 simulated requests per second with a fiber per
 * request, 19,529–23,411 with this pool). Here a fiber that has finished its request waits for the
 * next one instead of ending, and a new fiber is forked only when every fiber is busy, so the pool
 * grows to the largest number of requests in flight at once.
 *
 * One difference from a fiber per request: a fiber that a request forks and leaves running is
 * interrupted when the pool is, not when its request ends. Switchyard's router leaves none (it stops
 * its own hedged targets and deadline timers).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Runtime from "effect/Runtime"

/**
 * A pool of request fibers. Made with {@link make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestFibers {
  /**
   * Runs `effect` on a waiting fiber, or on a new one when none waits, and calls `onExit` with its
   * exit (defects and interruptions included) when it ends.
   */
  readonly run: <A, E>(effect: Effect.Effect<A, E>, onExit: (exit: Exit.Exit<A, E>) => void) => void
  /** The fibers of the pool, busy or waiting, until they are interrupted. */
  readonly size: number
  /** Interrupts every fiber of the pool, busy or waiting; a busy one's `onExit` is not called. */
  readonly interruptAll: () => void
}

interface Job {
  readonly effect: Effect.Effect<unknown, unknown>
  readonly onExit: (exit: Exit.Exit<unknown, unknown>) => void
}

/**
 * Makes a pool whose fibers run under `runtime` (its clock, scheduler and services).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (runtime: Runtime.Runtime<never>): RequestFibers => {
  const fork = Runtime.runFork(runtime)
  const fibers = new Set<Fiber.RuntimeFiber<void>>()
  // Each waiting fiber's way to be handed its next job.
  const waiting: Array<(job: Job) => void> = []
  let interrupted = false

  const serve = (first: Job): Effect.Effect<void> => {
    let job = first
    let loop: Effect.Effect<void> = Effect.void
    const next = Effect.flatMap(
      Effect.async<void>((resume) => {
        waiting.push((handed) => {
          job = handed
          resume(Effect.void)
        })
      }),
      () => loop
    )
    const report = (exit: Exit.Exit<unknown, unknown>) => {
      if (!interrupted) job.onExit(exit)
      return next
    }
    // One step reports either exit (`Effect.exit` and then a report took two).
    loop = Effect.matchCauseEffect(Effect.suspend(() => job.effect), {
      onFailure: (cause) => report(Exit.failCause(cause)),
      onSuccess: (value) => report(Exit.succeed(value))
    })
    return loop
  }

  return {
    run: <A, E>(effect: Effect.Effect<A, E>, onExit: (exit: Exit.Exit<A, E>) => void) => {
      const job = { effect, onExit } as Job
      const handOver = waiting.pop()
      if (handOver !== undefined) return handOver(job)
      const fiber = fork(serve(job))
      fibers.add(fiber)
      fiber.addObserver(() => fibers.delete(fiber))
    },
    get size() {
      return fibers.size
    },
    interruptAll: () => {
      interrupted = true
      waiting.length = 0
      for (const fiber of fibers) fiber.unsafeInterruptAsFork(FiberId.none)
    }
  }
}
