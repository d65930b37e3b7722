// One rate limit for every log line a component repeats (a failing task, a
// throwing handler, a crashed worker): at most one line per key per interval
// of the component's own clock, so a virtual clock makes it deterministic; the
// next line that goes out says how many were left out.

import type { Logger } from "../logger.ts";

/** How often one key may log, ms, unless a component says otherwise. */
export const LOG_INTERVAL_MS = 1000;

/** Rate-limits `logger.error` lines by key. */
export class LogLimiter {
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #keys = new Map<string, { atMs: number; suppressed: number }>();

  /**
   * @param logger Where lines go.
   * @param intervalMs At most one line per key per this many ms.
   */
  constructor(logger: Logger, intervalMs: number = LOG_INTERVAL_MS) {
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  /**
   * Logs `message` under `key` unless that key logged less than the interval
   * ago; then it only counts the line, and the next line names the count.
   *
   * @returns Whether the line went out.
   */
  error(key: string, nowMs: number, message: string): boolean {
    const seen = this.#keys.get(key);
    if (seen !== undefined && nowMs - seen.atMs < this.#intervalMs) {
      seen.suppressed++;
      return false;
    }
    const suppressed = seen?.suppressed ?? 0;
    if (seen === undefined) {
      this.#keys.set(key, { atMs: nowMs, suppressed: 0 });
    } else {
      seen.atMs = nowMs;
      seen.suppressed = 0;
    }
    this.#logger.error(
      suppressed === 0
        ? message
        : `${message} (${suppressed} similar ${suppressed === 1 ? "line" : "lines"} not logged)`,
    );
    return true;
  }

  /** Forgets a key (a task removed, a topic gone), so the map does not grow without bound. */
  forget(key: string): void {
    this.#keys.delete(key);
  }
}
