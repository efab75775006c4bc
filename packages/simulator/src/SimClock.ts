/**
 * The simulator's virtual time: core's `VirtualClock` module under the names the simulator has
 * always used. The clock, the scheduler and the driver live in `@switchyard/core/VirtualClock`, so
 * the simulator and the law checks of @switchyard/testing share one implementation.
 *
 * @since 0.1.0
 */

export {
  /**
   * Runs a simulation until done or out of work, jumping virtual time from timer to timer.
   *
   * @since 0.1.0
   * @category driving
   */
  drive,
  /**
   * {@link drive} without ever yielding to the event loop.
   *
   * @since 0.1.0
   * @category driving
   */
  driveSync,
  /**
   * An Effect `Clock` on virtual time (core's `VirtualClock`).
   *
   * @since 0.1.0
   * @category models
   */
  VirtualClock as SimClock,
  /**
   * A scheduler that runs fiber tasks only when flushed (core's `VirtualScheduler`).
   *
   * @since 0.1.0
   * @category models
   */
  VirtualScheduler as SimScheduler
} from "@switchyard/core/VirtualClock"
