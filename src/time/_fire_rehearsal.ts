// A rehearsal of a driver's fire path: a wheel of its own with one periodic
// timer whose callback does nothing. Fired once just before a spin that ends
// in a real fire, it runs the same code (the wheel's advance, its heap and
// re-arm, a driver timer's fire and lateness record) on data of its own, so
// the real fire at the spin's end runs on warm caches: a thread that slept
// for milliseconds finds its code evicted, and pays for it in the tick's
// lateness. Nothing of it is seen outside: not in the driver's wheel, its
// timers, its lateness classes or its metrics.

import type { Clock } from "./clock.ts";
import { DriverTimer, latenessClass } from "./_driver_timer.ts";
import { TimerWheel } from "./timer_wheel.ts";

/**
 * Runs a driver's fire path once per {@linkcode FireRehearsal.run} on a
 * private wheel and timer.
 *
 * @example Each run fires the private timer once
 * ```ts
 * import { FireRehearsal } from "./_fire_rehearsal.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const rehearsal = new FireRehearsal({ now: () => 0 });
 * rehearsal.run();
 * rehearsal.run();
 * assertEquals(rehearsal.runs, 2);
 * ```
 */
export class FireRehearsal {
  readonly #wheel = new TimerWheel({ name: "rehearsal" });
  readonly #timer: DriverTimer;
  #at = 0;

  /**
   * @param clock The driver's clock: the rehearsal's fire reads it as the real one does.
   */
  constructor(clock: Clock) {
    const wheel = this.#wheel;
    this.#timer = new DriverTimer(
      { wheel, clock, cancel: (id) => wheel.cancel(id), afterFire: undefined },
      latenessClass("rehearsal", undefined),
      () => {},
      1,
    );
    this.#timer.id = wheel.schedule(1, this.#timer.fire, { periodMs: 1 });
  }

  /** Times the private timer has fired. */
  get runs(): number {
    return this.#timer.fires;
  }

  /** Fires the private timer once. */
  run(): void {
    this.#at += 1;
    this.#wheel.advance(this.#at);
  }
}
