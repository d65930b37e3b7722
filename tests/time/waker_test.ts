import { recordingLogger, SILENT_LOGGER } from "../_util/logger.ts";
import { assertEquals } from "@std/assert";
import type { Clock } from "../../src/time/clock.ts";
import { Driver } from "../../src/time/driver.ts";
import type { DriverHost, Waker } from "../../src/time/driver_host.ts";
import { LAYOUT } from "../../src/time/_waker_protocol.ts";
import { WorkerWaker } from "../../src/time/_waker.ts";

Deno.test("WorkerWaker.request() wakes the main thread from a real Worker", async () => {
  let wakes = 0;
  let woke = Promise.withResolvers<void>();
  const waker = new WorkerWaker(() => {
    wakes++;
    woke.resolve();
  }, SILENT_LOGGER);
  try {
    assertEquals([waker.ready, waker.starts], [false, 0]);
    // A far request replaced by a near one: only the near one is served.
    waker.request(performance.now() + 60_000);
    waker.request(performance.now() + 1);
    assertEquals(waker.starts, 1);
    await woke.promise;
    assertEquals(wakes, 1);
    assertEquals(waker.ready, true);

    // A running worker serves the next request without starting again.
    woke = Promise.withResolvers<void>();
    waker.request(performance.now() + 2);
    await woke.promise;
    assertEquals(wakes, 2);
    assertEquals(waker.starts, 1);
  } finally {
    waker.close();
  }
  // Closed, it starts a new worker on the next request.
  woke = Promise.withResolvers<void>();
  waker.request(performance.now());
  assertEquals(waker.starts, 2);
  await woke.promise;
  waker.close();
  assertEquals(wakes, 3);
});

/**
 * Stands in for the global `Worker` so a test decides when the waker's
 * Worker starts, wakes the main thread or fails. It speaks the waker's
 * shared-memory protocol.
 */
class FakeWorker {
  static created: FakeWorker[] = [];
  static startsOk = true;
  onerror: ((event: ErrorEvent) => void) | null = null;
  #ctl: Int32Array | undefined;

  constructor(_url: string | URL, _options?: WorkerOptions) {
    FakeWorker.created.push(this);
  }

  postMessage(data: { buffer: SharedArrayBuffer }): void {
    this.#ctl = new Int32Array(data.buffer, 0, 4);
    if (FakeWorker.startsOk) Atomics.store(this.#ctl, LAYOUT.ready, 1);
  }

  terminate(): void {}

  /** Wakes the main thread, as the worker does at the requested time. */
  wake(): void {
    Atomics.add(this.#ctl!, LAYOUT.wake, 1);
    Atomics.notify(this.#ctl!, LAYOUT.wake);
  }

  /** Reports an uncaught error, as a Worker that failed to load or crashed. */
  fail(message: string): void {
    this.onerror?.({ message, preventDefault() {} } as ErrorEvent);
  }
}

/**
 * Awaits a wake-up that arrives through `Atomics.waitAsync`, which does not
 * keep the event loop alive (denoland/deno#15358); a real waker's Worker
 * does, a fake one does not, so an idle interval stands in for it.
 */
async function awaitWake(promise: Promise<void>): Promise<void> {
  const hold = setInterval(() => {}, 60_000);
  try {
    await promise;
  } finally {
    clearInterval(hold);
  }
}

async function withFakeWorker(startsOk: boolean, fn: () => Promise<void> | void): Promise<void> {
  const { Worker: realWorker } = globalThis;
  const realError = console.error;
  FakeWorker.created = [];
  FakeWorker.startsOk = startsOk;
  globalThis.Worker = FakeWorker as unknown as typeof Worker;
  // The waker reports its failure on the console; keep the test output clean.
  console.error = () => {};
  try {
    await fn();
  } finally {
    globalThis.Worker = realWorker;
    console.error = realError;
  }
}

Deno.test("WorkerWaker stays not ready and serves nothing once its Worker fails", async (t) => {
  await t.step("a Worker that fails to start", () =>
    withFakeWorker(false, () => {
      const logger = recordingLogger();
      const waker = new WorkerWaker(() => {}, logger);
      waker.request(10);
      assertEquals([FakeWorker.created.length, waker.ready], [1, false]);
      FakeWorker.created[0]!.fail("Cannot load the module");
      waker.request(20);
      assertEquals([FakeWorker.created.length, waker.starts, waker.ready], [1, 1, false]);
      assertEquals(logger.lines, [
        "error: Cannot use the waker Worker, falling back to setTimeout: Cannot load the module",
      ]);
      waker.close();
    }));

  await t.step("a Worker that crashes after it started", () =>
    withFakeWorker(true, async () => {
      let wakes = 0;
      const woke = Promise.withResolvers<void>();
      const waker = new WorkerWaker(() => {
        wakes++;
        woke.resolve();
      }, SILENT_LOGGER);
      waker.request(10);
      assertEquals(waker.ready, true);
      FakeWorker.created[0]!.wake();
      await awaitWake(woke.promise);
      assertEquals(wakes, 1);
      FakeWorker.created[0]!.fail("crashed");
      assertEquals(waker.ready, false);
      waker.request(20); // ignored: the waker is failed for good
      assertEquals(FakeWorker.created.length, 1);
      waker.close();
    }));
});

/** A clock the test sets by hand. */
class ManualClock implements Clock {
  t = 0;
  now(): number {
    return this.t;
  }
}

/** Fake event-loop timers around the real {@linkcode WorkerWaker}. */
class WorkerWakerHost implements DriverHost {
  readonly timers = new Map<number, () => void>();
  readonly delays: number[] = [];
  #nextId = 1;
  setTimeout(callback: () => void, delayMs: number): number {
    const id = this.#nextId++;
    this.timers.set(id, callback);
    this.delays.push(delayMs);
    return id;
  }
  clearTimeout(id: number): void {
    this.timers.delete(id);
  }
  createWaker(onWake: () => void): Waker {
    return new WorkerWaker(onWake, SILENT_LOGGER);
  }
  /** Runs the only pending timer, as the event loop would. */
  fireTimer(): void {
    assertEquals(this.timers.size, 1, "exactly one setTimeout should be armed");
    const [id, callback] = [...this.timers][0]!;
    this.timers.delete(id);
    callback();
  }
}

Deno.test("Driver falls back to setTimeout when its waker's Worker fails to start", () =>
  withFakeWorker(false, () => {
    const clock = new ManualClock();
    const host = new WorkerWakerHost();
    using driver = new Driver({ clock, host, profile: "balanced" });
    const fired: number[] = [];
    driver.after(10, (deadline) => void fired.push(deadline)); // Near: the waker starts
    assertEquals(host.delays, [Math.floor(10 - 1.5)]); // with a setTimeout while it starts
    FakeWorker.created[0]!.fail("Cannot load the module");
    clock.t = 9;
    host.fireTimer(); // 1 ms left: Near again, but only the setTimeout can serve it
    assertEquals(fired, []);
    assertEquals(host.delays, [8, 0]);
    clock.t = 10;
    host.fireTimer();
    assertEquals(fired, [10]);
    assertEquals(driver.stats().wakes.near, 2);
    assertEquals(FakeWorker.created.length, 1); // no retry loop of Worker starts
  }));

Deno.test("Driver falls back to setTimeout after its waker's Worker crashed", () =>
  withFakeWorker(true, async () => {
    const clock = new ManualClock();
    const host = new WorkerWakerHost();
    using driver = new Driver({ clock, host, profile: "balanced" });
    const fired: number[] = [];
    const firedOnce = Promise.withResolvers<void>();
    driver.after(10, (deadline) => {
      fired.push(deadline);
      firedOnce.resolve();
    });
    assertEquals(host.delays, []); // a ready waker alone serves Near waits
    const worker = FakeWorker.created[0]!;
    clock.t = 10;
    worker.wake();
    await awaitWake(firedOnce.promise);
    assertEquals(fired, [10]);

    // Idle in between, the driver released the Worker: this starts a new one.
    driver.after(10, (deadline) => void fired.push(deadline)); // due at 20
    assertEquals(FakeWorker.created.length, 2);
    assertEquals(host.delays, []);
    FakeWorker.created[1]!.fail("crashed");
    // The crash wakes the driver, which re-arms with a setTimeout at once.
    assertEquals(host.delays, [Math.floor(10 - 1.5)]);
    // Later arming (here for an earlier deadline) sees the failed waker too.
    driver.after(5, (deadline) => void fired.push(deadline)); // due at 15
    assertEquals(host.delays, [Math.floor(10 - 1.5), Math.floor(5 - 1.5)]);
    clock.t = 15;
    host.fireTimer();
    clock.t = 20;
    host.fireTimer();
    assertEquals(fired, [10, 15, 20]);
    assertEquals(FakeWorker.created.length, 2);
  }));

Deno.test("Driver re-arms with setTimeout at once when the waker Worker it waits on crashes", () =>
  withFakeWorker(true, async () => {
    const clock = new ManualClock();
    const host = new WorkerWakerHost();
    using driver = new Driver({ clock, host, profile: "balanced" });
    const fired: number[] = [];
    driver.after(10, (deadline) => void fired.push(deadline));
    // The waker is ready: the driver waits on it alone, with no setTimeout.
    assertEquals([host.timers.size, FakeWorker.created.length], [0, 1]);
    const leadBefore = driver.stats().wakes.leadMs;
    clock.t = 2;
    FakeWorker.created[0]!.fail("crashed");
    // The crash itself re-arms the driver, which can only use setTimeout now.
    assertEquals(host.timers.size, 1, "a setTimeout backstop must be armed");
    assertEquals(host.delays, [Math.floor(8 - 1.5)]);
    assertEquals(driver.stats().wakes.leadMs, leadBefore); // a crash is no latency sample
    clock.t = 10;
    host.fireTimer();
    assertEquals(fired, [10]);
    assertEquals(FakeWorker.created.length, 1);
    await Promise.resolve();
  }));
