// What an executor calls as its tasks live and run: the seam the SOVD
// executor binding (TaskSink) is fed through.

/**
 * What an executor calls as its tasks live and run (`ExecutorOptions.hooks`).
 * `attach` is called when a task is added or resumed (off the control path);
 * the three others are called on the control path, with the index `attach`
 * returned, and should not allocate, lock or throw. An index of `-1` (no
 * slot) is allowed. A hook that throws anyway is caught and counted in the
 * executor's `hookErrors` (and logged, at most one line per second); the
 * run is accounted as if the hook had returned, and a throwing `attach`
 * gives the task the index `-1`.
 *
 * Per task the calls come in this order: `attach`, then per run `onStart`
 * and `onEnd` (an async run ends when it settles), and `onStop` once when
 * the task stops: cancelled or a one-shot task done (`ok`), stopped by its
 * error policy or quarantined (`false`). A quarantined task that is resumed
 * is attached again.
 *
 * @example Recording the calls of an executor
 * ```ts
 * import { Executor, type ExecutorHooks } from "@chronetix/core";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const calls: string[] = [];
 * const hooks: ExecutorHooks = {
 *   attach: (name, atMs) => (calls.push(`attach ${name} ${atMs}`), 0),
 *   onStart: (i, atMs) => void calls.push(`start ${i} ${atMs}`),
 *   onEnd: (i, atMs, ok) => void calls.push(`end ${i} ${atMs} ${ok}`),
 *   onStop: (i, atMs, ok) => void calls.push(`stop ${i} ${atMs} ${ok}`),
 * };
 * const clock = new VirtualClock();
 * using executor = new Executor({ clock, hooks });
 * executor.once({ name: "boot", delayMs: 5, run: () => {} });
 * clock.advance(5);
 * assertEquals(calls, ["attach boot 0", "start 0 5", "end 0 5 true", "stop 0 5 true"]);
 * ```
 */
export interface ExecutorHooks {
  /**
   * A task was added (or resumed): a lifecycle start.
   *
   * @param name The task's name.
   * @param atMs When, ms on the executor's clock.
   * @returns The index to pass to the other hooks, or `-1` when there is no slot for it.
   */
  attach(name: string, atMs: number): number;
  /**
   * A run starts.
   *
   * @param taskIndex What `attach` returned.
   * @param atMs When, ms on the executor's clock.
   */
  onStart(taskIndex: number, atMs: number): void;
  /**
   * A run ends.
   *
   * @param taskIndex What `attach` returned.
   * @param atMs When, ms on the executor's clock.
   * @param ok `false` when the run threw or rejected.
   */
  onEnd(taskIndex: number, atMs: number, ok: boolean): void;
  /**
   * The task stopped: `ok` for a cancel or a one-shot task that ran,
   * `false` for a task stopped by its error policy or quarantined.
   *
   * @param taskIndex What `attach` returned.
   * @param atMs When, ms on the executor's clock.
   * @param ok Whether it was a clean stop.
   */
  onStop(taskIndex: number, atMs: number, ok: boolean): void;
}
