// A periodic check of the offload pool on its driver (the timeout sweep, the
// idle-worker check), armed while there is something to check: arming again
// with a shorter period re-arms it; a driver that refuses (closed) is
// reported, and the pool goes on without the check.

import type { Driver } from "../time/driver.ts";
import type { Timer } from "../time/timer.ts";

/** A re-armable periodic check; see the file comment. */
export class PoolCheck {
  readonly #driver: Driver;
  readonly #run: () => void;
  readonly #failed: (error: unknown) => void;
  #timer: Timer | undefined;
  #everyMs = Infinity;

  /**
   * @param driver The pool's driver.
   * @param run The check.
   * @param failed Told when the driver refuses a timer.
   */
  constructor(driver: Driver, run: () => void, failed: (error: unknown) => void) {
    this.#driver = driver;
    this.#run = run;
    this.#failed = failed;
  }

  /** Whether it is armed. */
  get armed(): boolean {
    return this.#timer !== undefined;
  }

  /** Runs the check every `everyMs`; when armed already, only to shorten the period. */
  arm(everyMs: number): void {
    if (this.#timer !== undefined) {
      if (everyMs >= this.#everyMs) return;
      this.#timer.cancel();
      this.#timer = undefined;
    }
    try {
      this.#timer = this.#driver.every(everyMs, this.#run, { latenessClass: "offload-sweep" });
      this.#everyMs = everyMs;
    } catch (error) {
      this.#failed(error);
    }
  }

  /** Stops the check until armed again. */
  cancel(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#everyMs = Infinity;
  }
}
