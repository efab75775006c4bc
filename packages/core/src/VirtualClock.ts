/**
 * A virtual clock and a synchronous scheduler for running Effect programs in simulated time, shared
 * by the simulator's runner and the law checks of @switchyard/testing.
 *
 * `TestClock.adjust` walks every sleeper through the fiber machinery and yields to the event loop
 * around every timer it fires (about 1 ms of real time per timer): far too slow for hours of traffic
 * or a hundred law-check cases. A {@link VirtualClock} keeps its timers in a binary heap; a
 * {@link VirtualScheduler} runs fiber tasks synchronously; {@link drive} alternates between the two:
 * run every ready task, then jump virtual time to the next due timer (equal times fire in the order
 * they were scheduled). Nothing waits on the real clock or the event loop. The clock is a
 * `Deadline.ScheduledClock`, so `Deadline.bound` times an attempt out with one callback, not a fiber.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import type * as Scheduler from "effect/Scheduler"
import type { ScheduledClock } from "./Deadline.js"

interface Timer {
  readonly at: number
  readonly seq: number
  task: (() => void) | undefined
}

/** A binary min-heap of timers ordered by (time, insertion order), so equal times fire FIFO. */
class TimerHeap {
  private readonly items: Array<Timer> = []

  get size(): number {
    return this.items.length
  }

  peek(): Timer | undefined {
    return this.items[0]
  }

  push(timer: Timer): void {
    const items = this.items
    items.push(timer)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(items[i], items[parent])) break
      const tmp = items[i]
      items[i] = items[parent]
      items[parent] = tmp
      i = parent
    }
  }

  pop(): Timer | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (items.length > 0 && last !== undefined) {
      items[0] = last
      let i = 0
      const n = items.length
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < n && before(items[l], items[m])) m = l
        if (r < n && before(items[r], items[m])) m = r
        if (m === i) break
        const tmp = items[i]
        items[i] = items[m]
        items[m] = tmp
        i = m
      }
    }
    return top
  }
}

const before = (a: Timer, b: Timer) => a.at < b.at || (a.at === b.at && a.seq < b.seq)

/**
 * An Effect `Clock` on virtual time. Sleeps and {@link VirtualClock.unsafeSchedule} tasks go into a heap
 * and fire when a driver advances time to them.
 *
 * @since 0.1.0
 * @category models
 */
export class VirtualClock implements ScheduledClock {
  readonly [Clock.ClockTypeId]: Clock.ClockTypeId = Clock.ClockTypeId
  private now: number
  private seq = 0
  private live = 0
  private readonly heap = new TimerHeap()

  constructor(startMillis = 0) {
    this.now = startMillis
  }

  /** @since 0.1.0 */
  unsafeCurrentTimeMillis(): number {
    return this.now
  }

  /** @since 0.1.0 */
  get currentTimeMillis(): Effect.Effect<number> {
    return Effect.sync(() => this.now)
  }

  /** @since 0.1.0 */
  unsafeCurrentTimeNanos(): bigint {
    return BigInt(Math.round(this.now * 1_000_000))
  }

  /** @since 0.1.0 */
  get currentTimeNanos(): Effect.Effect<bigint> {
    return Effect.sync(() => this.unsafeCurrentTimeNanos())
  }

  /** @since 0.1.0 */
  sleep(duration: Duration.DurationInput): Effect.Effect<void> {
    const millis = Duration.toMillis(duration)
    return Effect.async<void>((resume) => {
      const cancel = this.unsafeSchedule(() => resume(Effect.void), millis)
      return Effect.sync(cancel)
    })
  }

  /**
   * Runs `task` once `millis` of virtual time have passed. Returns a cancel function that answers
   * whether the task was still pending. The router's deadline uses this instead of forking a timer
   * fiber when the clock offers it. An arrow property, so that it can be taken off the clock.
   *
   * @since 0.1.0
   */
  readonly unsafeSchedule = (task: () => void, millis: number): () => boolean => {
    const delay = Number.isFinite(millis) && millis > 0 ? millis : 0
    const timer: Timer = { at: this.now + delay, seq: this.seq++, task }
    this.heap.push(timer)
    this.live++
    return () => {
      if (timer.task === undefined) return false
      timer.task = undefined
      this.live--
      return true
    }
  }

  /**
   * Timers scheduled and neither fired nor cancelled (a leak detector for L39).
   *
   * @since 0.1.0
   */
  get pendingTimers(): number {
    return this.live
  }

  /**
   * Advances to the next due timer and runs it. Returns false when no timer is left, or when the
   * next one is after `limit`.
   *
   * @since 0.1.0
   */
  unsafeFireNext(limit = Infinity): boolean {
    for (;;) {
      const top = this.heap.peek()
      if (top === undefined || top.at > limit) return false
      this.heap.pop()
      const task = top.task
      if (task === undefined) continue
      top.task = undefined
      this.live--
      if (top.at > this.now) this.now = top.at
      task()
      return true
    }
  }

  /**
   * The time of the next pending timer, if any.
   *
   * @since 0.1.0
   */
  nextTimerAt(): number | undefined {
    for (;;) {
      const top = this.heap.peek()
      if (top === undefined) return undefined
      if (top.task !== undefined) return top.at
      this.heap.pop()
    }
  }
}

/**
 * A scheduler that queues fiber tasks and runs them only when {@link VirtualScheduler.flush} is called,
 * synchronously and in FIFO order, so a simulation never touches the event loop.
 *
 * @since 0.1.0
 * @category models
 */
export class VirtualScheduler implements Scheduler.Scheduler {
  private queue: Array<Scheduler.Task> = []
  private next: Array<Scheduler.Task> = []

  /** @since 0.1.0 */
  scheduleTask(task: Scheduler.Task, _priority: number): void {
    this.queue.push(task)
  }

  /** @since 0.1.0 */
  shouldYield(fiber: Fiber.RuntimeFiber<unknown, unknown>): number | false {
    return fiber.currentOpCount > 2048 ? 0 : false
  }

  /**
   * Runs queued tasks (and the tasks they queue) until none is left.
   *
   * @since 0.1.0
   */
  flush(): void {
    while (this.queue.length > 0) {
      const tasks = this.queue
      this.queue = this.next
      for (let i = 0; i < tasks.length; i++) tasks[i]()
      tasks.length = 0
      this.next = tasks
    }
  }

  /**
   * Whether no task is waiting.
   *
   * @since 0.1.0
   */
  get idle(): boolean {
    return this.queue.length === 0
  }
}

/**
 * Runs the simulation until `done()` answers true or no work is left: flush every ready task, then
 * advance virtual time to the next due timer. `slice` (optional) is called every `sliceEvery` timers
 * and may return a promise to yield to the event loop (for a progress bar).
 *
 * @since 0.1.0
 * @category driving
 */
export const drive = async (options: {
  readonly clock: VirtualClock
  readonly scheduler: VirtualScheduler
  readonly done: () => boolean
  readonly until?: number | undefined
  readonly slice?: (() => Promise<void> | void) | undefined
  readonly sliceEvery?: number | undefined
}): Promise<void> => {
  const { clock, done, scheduler } = options
  const every = options.sliceEvery ?? 50_000
  let count = 0
  scheduler.flush()
  while (!done()) {
    if (!clock.unsafeFireNext(options.until ?? Infinity)) break
    scheduler.flush()
    if (options.slice !== undefined && ++count % every === 0) await options.slice()
  }
}

/**
 * The same as {@link drive}, without ever yielding to the event loop.
 *
 * @since 0.1.0
 * @category driving
 */
export const driveSync = (options: {
  readonly clock: VirtualClock
  readonly scheduler: VirtualScheduler
  readonly done: () => boolean
  readonly until?: number | undefined
}): void => {
  const { clock, done, scheduler } = options
  scheduler.flush()
  while (!done()) {
    if (!clock.unsafeFireNext(options.until ?? Infinity)) break
    scheduler.flush()
  }
}

/**
 * Runs `effect` to its end on a fresh {@link VirtualClock} and {@link VirtualScheduler},
 * synchronously: run every ready fiber, then jump to the next timer. Answers `undefined` when the
 * effect cannot end (it waits on something outside the clock, or never ends).
 *
 * @since 0.1.0
 * @category driving
 */
export const run = <A, E>(effect: Effect.Effect<A, E>): Exit.Exit<A, E> | undefined => {
  const clock = new VirtualClock()
  const scheduler = new VirtualScheduler()
  const fiber = Effect.runFork(Effect.withClock(effect, clock), { scheduler })
  driveSync({ clock, scheduler, done: () => fiber.unsafePoll() !== null })
  return fiber.unsafePoll() ?? undefined
}
