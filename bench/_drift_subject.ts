// The shape of one subject of `bench:drift`: a periodic-timer implementation
// that runs a given number of ticks and hands back each tick's lateness.

/**
 * A periodic-timer implementation under test in `bench:drift`.
 *
 * Lateness is measured on the thread that runs the tick, on that thread's own
 * `performance.now()`: tick k (0-based) is due at `t0 + (k + 1) * periodMs`,
 * where `t0` is when `run` armed the timer on that thread. CPU is measured by
 * the harness with `process.cpuUsage()` around `run` (Worker threads count).
 */
export interface DriftSubject {
  /** Set-up that must not count (start a Worker, warm up). */
  prepare?(periodMs: number): Promise<void>;
  /**
   * Set-up before each measured run, not counted (a subject whose thread
   * would burn CPU between its runs starts that thread here).
   */
  begin?(periodMs: number): Promise<void>;
  /** Runs `ticks` ticks of period `periodMs`; resolves with each tick's lateness in ms. */
  run(periodMs: number, ticks: number): Promise<Float64Array>;
  /** Tear-down after each measured run, not counted (the counterpart of `begin`). */
  end?(): Promise<void>;
  /** Tear-down after the last round (stop Workers). */
  dispose?(): Promise<void>;
  /** Figures of its own, added to its row (an island: the share of runs its thread ran under SCHED_FIFO). */
  figures?(): Record<string, number>;
}
