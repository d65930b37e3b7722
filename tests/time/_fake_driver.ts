// Fakes the driver tests share: a clock set by hand and a waker that records requests.
import type { Clock } from "../../src/time/clock.ts";
import type { Waker } from "../../src/time/driver_host.ts";

/** A clock the test sets by hand; each read adds `step` so spins terminate. */
export class FakeClock implements Clock {
  t = 0;
  step = 0;
  now(): number {
    const t = this.t;
    this.t += this.step;
    return t;
  }
}

/** A waker that records its requests; the test calls `wake()` as the Worker would. */
export class FakeWaker implements Waker {
  ready = true;
  requests: number[] = [];
  cancels = 0;
  closes = 0;
  constructor(readonly wake: () => void) {}
  request(targetMs: number): void {
    this.requests.push(targetMs);
  }
  cancel(): void {
    this.cancels++;
  }
  close(): void {
    this.closes++;
  }
}
