import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import type * as Scheduler from "effect/Scheduler"

// A virtual clock and a synchronous scheduler, the same idea as @switchyard/simulator's SimClock
// (kept here so the kit depends on core only). TestClock.adjust yields to the event loop with
// setTimeout(0) around every timer it fires, which costs ~1 ms of real time per timer: a law check
// of a hundred cases would take tens of seconds. Here time jumps to the next timer as soon as no
// fiber can run, with the same semantics (equal times fire in the order they were scheduled).

interface Timer {
  readonly at: number
  readonly seq: number
  task: (() => void) | undefined
}

const before = (a: Timer, b: Timer) => a.at < b.at || (a.at === b.at && a.seq < b.seq)

/** @internal A Clock on virtual time that can schedule callbacks (core's Deadline uses them). */
export class VirtualClock implements Clock.Clock {
  readonly [Clock.ClockTypeId]: Clock.ClockTypeId = Clock.ClockTypeId
  private now = 0
  private seq = 0
  private readonly heap: Array<Timer> = []

  unsafeCurrentTimeMillis(): number {
    return this.now
  }
  get currentTimeMillis(): Effect.Effect<number> {
    return Effect.sync(() => this.now)
  }
  unsafeCurrentTimeNanos(): bigint {
    return BigInt(Math.round(this.now * 1_000_000))
  }
  get currentTimeNanos(): Effect.Effect<bigint> {
    return Effect.sync(() => this.unsafeCurrentTimeNanos())
  }
  sleep(duration: Duration.DurationInput): Effect.Effect<void> {
    const millis = Duration.toMillis(duration)
    return Effect.async<void>((resume) => {
      const cancel = this.unsafeSchedule(() => resume(Effect.void), millis)
      return Effect.sync(cancel)
    })
  }
  readonly unsafeSchedule = (task: () => void, millis: number): () => boolean => {
    const delay = Number.isFinite(millis) && millis > 0 ? millis : 0
    const timer: Timer = { at: this.now + delay, seq: this.seq++, task }
    this.push(timer)
    return () => {
      const pending = timer.task !== undefined
      timer.task = undefined
      return pending
    }
  }
  /** Moves time to the next pending timer and runs it; false when there is none. */
  fireNext(): boolean {
    for (;;) {
      const top = this.pop()
      if (top === undefined) return false
      const task = top.task
      if (task === undefined) continue
      top.task = undefined
      if (top.at > this.now) this.now = top.at
      task()
      return true
    }
  }
  private push(timer: Timer) {
    const items = this.heap
    items.push(timer)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(items[i], items[parent])) break
      ;[items[i], items[parent]] = [items[parent], items[i]]
      i = parent
    }
  }
  private pop(): Timer | undefined {
    const items = this.heap
    const top = items[0]
    const last = items.pop()
    if (items.length > 0 && last !== undefined) {
      items[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < items.length && before(items[l], items[m])) m = l
        if (r < items.length && before(items[r], items[m])) m = r
        if (m === i) break
        ;[items[i], items[m]] = [items[m], items[i]]
        i = m
      }
    }
    return top
  }
}

/** @internal Queues fiber tasks and runs them only when flushed, never touching the event loop. */
export class QueueScheduler implements Scheduler.Scheduler {
  private queue: Array<Scheduler.Task> = []
  scheduleTask(task: Scheduler.Task, _priority: number): void {
    this.queue.push(task)
  }
  shouldYield(fiber: Fiber.RuntimeFiber<unknown, unknown>): number | false {
    return fiber.currentOpCount > 2048 ? 0 : false
  }
  flush(): void {
    while (this.queue.length > 0) {
      const tasks = this.queue
      this.queue = []
      for (const task of tasks) task()
    }
  }
}

/**
 * @internal Runs `effect` to its end on a fresh virtual clock, synchronously: run every ready fiber,
 * then jump to the next timer. Undefined when it cannot end (it waits on something outside the clock).
 */
export const run = <A, E>(effect: Effect.Effect<A, E>): Exit.Exit<A, E> | undefined => {
  const clock = new VirtualClock()
  const scheduler = new QueueScheduler()
  const fiber = Effect.runFork(Effect.withClock(effect, clock), { scheduler })
  scheduler.flush()
  for (;;) {
    const exit = fiber.unsafePoll()
    if (exit !== null) return exit
    if (!clock.fireNext()) return undefined
    scheduler.flush()
  }
}
