// What a Driver runs on when it is not given a host: the global timers and a
// waker Worker; and how it attaches its wheel to a stepped (virtual) clock.
import type { Logger } from "../logger.ts";
import { show } from "../internal/validate.ts";
import { type Clock, MonotonicClock, type SteppedClock } from "./clock.ts";
import type { DriverHost } from "./driver_host.ts";
import type { PrecisionProfile } from "./precision.ts";
import type { TimerWheel } from "./timer_wheel.ts";
import { WorkerWaker } from "./_waker.ts";

/** Attaches the wheel to a stepped clock, checking that it can be detached again. */
export function attachTo(action: string, clock: SteppedClock, wheel: TimerWheel): Disposable {
  const detach: unknown = clock.attach(wheel);
  const dispose = typeof detach === "object" && detach !== null
    ? (detach as Partial<Disposable>)[Symbol.dispose]
    : undefined;
  if (typeof dispose !== "function") {
    throw new TypeError(
      `Cannot ${action} as 'clock' must return a Disposable from attach(): current value is ${
        show(detach)
      }`,
    );
  }
  return detach as Disposable;
}

/**
 * The host of a Driver given none: global timers, and a waker Worker and
 * blocking in `Atomics.wait` unless the profile is efficient or the clock
 * virtual.
 */
export function defaultHost(clock: Clock, profile: PrecisionProfile, logger: Logger): DriverHost {
  const real = profile !== "efficient" && clock instanceof MonotonicClock;
  const host: DriverHost = {
    setTimeout: (callback, delayMs) => Number(setTimeout(callback, delayMs)),
    clearTimeout: (id) => clearTimeout(id),
    createWaker: (onWake) => real ? new WorkerWaker(onWake, logger) : undefined,
  };
  if (real) {
    // Nothing notifies this cell: a wait on it only times out.
    const cell = new Int32Array(new SharedArrayBuffer(4));
    host.block = (ms) => void Atomics.wait(cell, 0, 0, ms);
  }
  return host;
}
