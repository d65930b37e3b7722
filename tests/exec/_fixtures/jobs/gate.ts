/**
 * A gate between a test and one job in a worker. The job reports what
 * happened ("started", "aborted") through a MessagePort, which wakes the
 * test's event loop like any message; a job that blocks its thread waits on
 * a shared cell until the test releases it. Tests wait on these events
 * instead of sleeping, so no outcome depends on the machine's speed.
 */

/** What a gated job gets as its input. */
export interface GateInput {
  /** Where the job reports `"started"` and `"aborted"`. */
  port: MessagePort;
  /** Cell 0 is set to 1 when the job may finish. */
  cells: Int32Array;
}

/** What a job reports. */
export type GateEvent = "started" | "aborted";

/** The test's side of a gate: submit `input` with `transfer`. Disposing releases the job. */
export class Gate implements Disposable {
  readonly input: GateInput;
  readonly transfer: Transferable[];
  readonly #port: MessagePort;
  readonly #seen = new Set<GateEvent>();
  readonly #waiters = new Map<GateEvent, () => void>();

  constructor() {
    const channel = new MessageChannel();
    this.#port = channel.port1;
    this.input = {
      port: channel.port2,
      cells: new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT)),
    };
    this.transfer = [channel.port2];
    this.#port.onmessage = ({ data }: MessageEvent<GateEvent>) => {
      this.#seen.add(data);
      this.#waiters.get(data)?.();
    };
  }

  /** Resolves once the job has reported `event`. */
  reported(event: GateEvent): Promise<void> {
    if (this.#seen.has(event)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.set(event, resolve));
  }

  /** Lets a blocked job finish. */
  release(): void {
    Atomics.store(this.input.cells, 0, 1);
    Atomics.notify(this.input.cells, 0);
  }

  [Symbol.dispose](): void {
    this.release();
    this.#port.close();
  }
}
