import type { Logger } from "../logger.ts";
import { BLOCK_BYTES, LAYOUT } from "./_waker_protocol.ts";
import { wakerWorkerMain } from "./_waker_worker.ts";
import type { Waker } from "./driver_host.ts";
import { createBlobWorker } from "../internal/blob_worker.ts";

const { seq: SEQ, wake: WAKE, stop: STOP, ready: READY } = LAYOUT;

/**
 * Main-thread side of the waker Worker. `request(t)` asks the worker to wake
 * the main thread at `t` (main-thread `performance.now()` time); the wake-up
 * arrives through `Atomics.waitAsync`, so the main thread's event loop stays
 * free meanwhile. A live worker keeps the process alive, so the Driver
 * closes the waker whenever it has no pending timers. If the worker fails,
 * `ready` stays false, a pending request wakes the Driver at once, and the
 * Driver falls back to `setTimeout`.
 */
export class WorkerWaker implements Waker {
  readonly #onWake: () => void;
  readonly #logger: Logger;
  #buffer: SharedArrayBuffer | undefined;
  #ctl: Int32Array = new Int32Array(0);
  #target: Float64Array = new Float64Array(0);
  #waiting = false;
  #seenWake = 0;
  #starts = 0;
  #failed = false;

  /**
   * @param onWake Called on the main thread at each wake-up.
   * @param logger Where a failed worker is reported.
   */
  constructor(onWake: () => void, logger: Logger) {
    this.#onWake = onWake;
    this.#logger = logger;
  }

  get ready(): boolean {
    return this.#buffer !== undefined && !this.#failed && Atomics.load(this.#ctl, READY) === 1;
  }

  /** How many worker threads this waker has started. */
  get starts(): number {
    return this.#starts;
  }

  request(targetMs: number): void {
    if (this.#failed) return;
    if (this.#buffer === undefined) this.#start();
    this.#target[0] = targetMs;
    Atomics.add(this.#ctl, SEQ, 1);
    Atomics.notify(this.#ctl, SEQ);
    if (!this.#waiting) this.#listen();
  }

  cancel(): void {
    if (this.#buffer === undefined) return;
    this.#target[0] = Infinity;
    Atomics.add(this.#ctl, SEQ, 1);
    Atomics.notify(this.#ctl, SEQ);
  }

  close(): void {
    if (this.#buffer === undefined) return;
    Atomics.store(this.#ctl, STOP, 1);
    Atomics.add(this.#ctl, SEQ, 1);
    Atomics.notify(this.#ctl, SEQ);
    // Also release a pending waitAsync so nothing dangles on the old block.
    Atomics.add(this.#ctl, WAKE, 1);
    Atomics.notify(this.#ctl, WAKE);
    this.#buffer = undefined;
    this.#ctl = new Int32Array(0);
  }

  #start(): void {
    const buffer = new SharedArrayBuffer(BLOCK_BYTES);
    this.#buffer = buffer;
    this.#ctl = new Int32Array(buffer, 0, 4);
    this.#target = new Float64Array(buffer, LAYOUT.targetOffset, 1);
    this.#target[0] = Infinity;
    this.#seenWake = 0;
    this.#waiting = false;
    const worker = createBlobWorker(wakerWorkerMain, [LAYOUT], { name: "chronetix-waker" });
    worker.onerror = (event) => {
      event.preventDefault();
      if (this.#failed) return;
      const served = this.ready;
      this.#failed = true;
      this.#logger.error(
        `Cannot use the waker Worker, falling back to setTimeout: ${event.message}`,
      );
      // A driver waits on a ready worker alone (on a starting one it keeps a
      // setTimeout too): release the wait it will never get and wake the
      // driver once, so that it re-arms with setTimeout (`ready` is now false).
      if (served && this.#buffer === buffer && this.#waiting) {
        this.#waiting = false;
        const ctl = this.#ctl;
        this.#ctl = new Int32Array(buffer, 0, 4); // the pending listener sees a closed block
        Atomics.add(ctl, WAKE, 1);
        Atomics.notify(ctl, WAKE);
        this.#onWake();
      }
    };
    worker.postMessage({ buffer, origin: performance.timeOrigin });
    this.#starts++;
  }

  #listen(): void {
    const ctl = this.#ctl;
    const result = Atomics.waitAsync(ctl, WAKE, this.#seenWake);
    this.#waiting = true;
    const done = () => {
      if (ctl !== this.#ctl) return; // this block was closed meanwhile
      this.#waiting = false;
      this.#seenWake = Atomics.load(ctl, WAKE);
      this.#onWake();
    };
    if (result.async) result.value.then(done);
    else queueMicrotask(done);
  }
}
