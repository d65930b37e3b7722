// One offload worker as the pool sees it: the thread, the jobs it holds, and
// the shared control block through which it says which job it is running;
// the record of one job; and the errors of jobs that failed in a worker. The
// pool decides what happens to jobs; this file only starts, feeds, watches
// and stops a worker.
//
// The job worker is a `node:worker_threads` Worker with a heap cap
// (`resourceLimits`): measured on Deno 2.9.6, a Web Worker that runs out of
// heap kills the whole process (exit 133), this one fails alone. When the
// pool asks for scoped permissions, a Web Worker with those permissions hosts
// it (./_offload_host.ts). Stopping a worker terminates and unrefs it: Deno
// cannot stop a thread stuck in synchronous code, but once unref'd such a
// thread no longer keeps the process from exiting.

import { Worker as NodeWorker } from "node:worker_threads";
import { OffloadJobError } from "../errors.ts";
import {
  blobWorkerDataUrl,
  blobWorkerSource,
  createBlobWorker,
  scopedPermissions,
  type WorkerPermissions,
} from "../internal/blob_worker.ts";
import {
  CONTROL_CELLS,
  CONTROL_HANDLED,
  CONTROL_READY,
  CONTROL_RUNNING,
  type OffloadErrorReport,
  type OffloadReply,
  type OffloadRequest,
  offloadWorkerMain,
} from "./_offload_worker.ts";
import { type HostExit, offloadHostMain } from "./_offload_host.ts";

/** One submitted job, from `submit()` until it settles. */
export interface JobRecord {
  id: number;
  job: string;
  url: string;
  input: unknown;
  transfer: Transferable[] | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Its timeout, ms: its own (`SubmitOptions.timeoutMs`) or the pool's. */
  timeoutMs: number;
  /** When it was submitted and sent to a worker, on the pool's clock. */
  submittedAt: number;
  sentAt: number;
  /** The worker holding it, while it does. */
  slot: WorkerSlot | undefined;
}

/** How a worker ended without being stopped. */
export interface SlotDeath {
  /** `oom`: stopped at its heap limit; `exit`: it ended itself; `crash`: an error no job caught. */
  reason: "oom" | "exit" | "crash";
  /** Its exit code, for `exit`. */
  code?: number;
  /** What happened, for people. */
  message: string;
}

/** What a slot reports to its pool. */
export interface SlotEvents {
  reply(slot: WorkerSlot, results: unknown[]): void;
  died(slot: WorkerSlot, death: SlotDeath): void;
}

/** How a slot's worker is started. */
export interface SlotOptions {
  /** The pool's name, for the thread name. */
  pool: string;
  /** Deno permissions; scoped ones need `--unstable-worker-options`. */
  permissions: WorkerPermissions | undefined;
  /** The job worker's heap cap, MB. */
  maxHeapMb: number;
  /** The pool's clock: until the first watch, jobs are timed from when the slot started. */
  now: () => number;
}

/** What {@linkcode WorkerSlot.watch} found wrong with the worker itself. */
export type SlotVerdict =
  /** A job's synchronous code ran past the timeout. */
  | "stuck"
  /** Messages waited past the timeout while no job on record ran. */
  | "unresponsive"
  | undefined;

const RUNNER_URL = blobWorkerDataUrl(blobWorkerSource(offloadWorkerMain));

/** One offload worker and the jobs sent to it. */
export class WorkerSlot {
  /** Jobs sent to this worker and not finished, by id. */
  readonly inFlight: Map<number, JobRecord> = new Map();
  /** When it started, on the pool's clock. */
  readonly startedAt: number;
  /** Since when it holds no job, on the pool's clock; `undefined` while it holds one. */
  idleSince: number | undefined;
  /** Since when it holds a job, while it does. */
  busySince: number | undefined;
  /** Milliseconds it held jobs, up to `busySince`. */
  busyMs = 0;
  /** Its time is counted in the pool's totals: it left the pool. */
  retired = false;
  readonly #post: (message: unknown, transfer: Transferable[]) => void;
  readonly #terminate: () => void;
  readonly #control = new Int32Array(new SharedArrayBuffer(CONTROL_CELLS * 4));
  readonly #events: SlotEvents;
  #dead = false;
  #blocked = false;
  #posted = 0;
  // The message count the worker must reach before it gets jobs again, if any.
  #probe: number | undefined;
  // When the worker was first seen running its program (jobs are timed from then at the earliest).
  #readyAt: number | undefined;
  #lastWatch: number;
  // The job seen running at the last watch, and since when.
  #seenId = 0;
  #seenSince = 0;
  // The handled count seen last, and since when the worker is behind on messages.
  #handledSeen = 0;
  #behindSince: number | undefined;

  /**
   * Starts the worker.
   *
   * @param options Pool name, permissions, heap cap and clock.
   * @param events Where results and the worker's end go.
   */
  constructor(options: SlotOptions, events: SlotEvents) {
    this.#events = events;
    this.#lastWatch = options.now();
    this.startedAt = this.#lastWatch;
    this.idleSince = this.#lastWatch;
    const name = `chronetix-offload:${options.pool}`;
    if (scopedPermissions(options.permissions)) {
      const host = createBlobWorker(offloadHostMain, [RUNNER_URL, name, options.maxHeapMb], {
        name,
        permissions: options.permissions,
      });
      host.onmessage = ({ data }: MessageEvent<OffloadReply | HostExit>) => {
        if (data.t === "exit") this.#died(exitDeath(data.code, data.oom, data.message));
        else this.#receive(data);
      };
      host.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        this.#died({ reason: "crash", message: event.message });
      };
      this.#post = (message, transfer) => host.postMessage(message, transfer);
      this.#terminate = () => host.terminate();
    } else {
      const worker = new NodeWorker(new URL(RUNNER_URL), {
        name,
        resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb },
      });
      let failure: { code?: string; message?: string } | undefined;
      worker.on("message", (data: OffloadReply) => this.#receive(data));
      worker.on("error", (error: { code?: string; message?: string }) => failure = error);
      worker.on("exit", (code: number) => {
        this.#died(
          exitDeath(code, failure?.code === "ERR_WORKER_OUT_OF_MEMORY", failure?.message),
        );
      });
      this.#post = (message, transfer) =>
        worker.postMessage(message, transfer as unknown as readonly ArrayBuffer[]);
      this.#terminate = () => {
        void worker.terminate();
        worker.unref();
      };
    }
    this.#send(this.#control.buffer, []);
  }

  /** Stopped: dead, replaced or closed. */
  get dead(): boolean {
    return this.#dead;
  }

  /**
   * Send it nothing more for now: seen running the same synchronous job at
   * two watches in a row and still running it, or not yet past the abort of
   * a job that timed out (that message is the proof it still answers).
   */
  get blocked(): boolean {
    if (this.#probe !== undefined) {
      if (((this.#probe - Atomics.load(this.#control, CONTROL_HANDLED)) | 0) > 0) return true;
      this.#probe = undefined;
    }
    return this.#blocked && this.running() === this.#seenId;
  }

  /**
   * Whether the pool must keep watching it even with no job of its own in
   * flight: a message it has not taken yet (an abort after a timeout), or
   * synchronous code of a cancelled job still running.
   */
  needsWatch(): boolean {
    return !this.#dead && (this.#unhandled() > 0 || this.running() !== 0);
  }

  /** The id of the job running synchronously right now, or 0. */
  running(): number {
    return Atomics.load(this.#control, CONTROL_RUNNING);
  }

  /**
   * Sends a batch: id, module URL, input; repeated.
   *
   * @throws {DOMException} when an input cannot be cloned or an item of
   * `transfer` cannot be transferred; then nothing was sent.
   */
  run(jobs: unknown[], transfer: Transferable[] | undefined): void {
    const message: OffloadRequest = transfer === undefined
      ? { t: "run", jobs }
      : { t: "run", jobs, transfer };
    this.#send(message, transfer ?? []);
  }

  /**
   * Aborts a job's signal in the worker.
   *
   * @param id The job.
   * @param probe Whether the worker gets no more jobs until it takes this
   * message: after a timeout, it may have stopped answering.
   */
  abort(id: number, probe = false): void {
    if (this.#dead) return;
    this.#send({ t: "abort", id } satisfies OffloadRequest, []);
    if (probe) this.#probe = this.#posted;
  }

  /**
   * Finds jobs over their timeout and whether the worker itself is stuck
   * (its running job over that job's timeout) or stopped answering (for over
   * the pool's `timeoutMs`). A job
   * running synchronously is timed from when a watch first saw it running;
   * the others, from their dispatch (or from when the worker was first seen
   * ready, if later), except while the worker is blocked by one synchronous
   * job: then they wait behind it and the stuck job is the one to blame.
   *
   * @returns What is wrong with the worker itself, if anything.
   */
  watch(now: number, timeoutMs: number, overdue: (record: JobRecord) => void): SlotVerdict {
    const since = this.#lastWatch;
    this.#lastWatch = now;
    if (this.#dead) return undefined;
    if (this.#readyAt === undefined) {
      if (Atomics.load(this.#control, CONTROL_READY) === 0) return undefined;
      // It became ready since the last watch: count from the earliest it could have.
      this.#readyAt = since;
    }
    const running = this.running();
    if (running !== this.#seenId) {
      this.#seenId = running;
      this.#seenSince = now;
    }
    this.#blocked = running !== 0 && this.#seenSince < now;
    const limit = this.inFlight.get(running)?.timeoutMs ?? timeoutMs;
    if (running !== 0 && now - this.#seenSince > limit) return "stuck";
    if (!this.#blocked) {
      for (const record of [...this.inFlight.values()]) {
        if (
          record.id !== running &&
          now - Math.max(record.sentAt, this.#readyAt) > record.timeoutMs
        ) {
          overdue(record);
        }
      }
    }
    const handled = Atomics.load(this.#control, CONTROL_HANDLED);
    if (this.#unhandled() <= 0) {
      this.#behindSince = undefined;
    } else if (handled !== this.#handledSeen || this.#behindSince === undefined) {
      // Behind, but it took a message since the last watch (or the backlog is new).
      this.#handledSeen = handled;
      this.#behindSince = now;
    } else if (running === 0 && now - this.#behindSince > timeoutMs) {
      return "unresponsive";
    }
    return undefined;
  }

  /**
   * Terminates the worker and lets the process exit even if its thread runs
   * on; its jobs stay in `inFlight` for the pool to settle.
   */
  stop(): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#terminate();
  }

  #send(message: unknown, transfer: Transferable[]): void {
    this.#post(message, transfer);
    // Int32 like the worker's count, so that both wrap alike.
    this.#posted = (this.#posted + 1) | 0;
  }

  /** Messages posted and not yet taken by the worker (right across the Int32 wrap). */
  #unhandled(): number {
    return (this.#posted - Atomics.load(this.#control, CONTROL_HANDLED)) | 0;
  }

  #receive(data: OffloadReply): void {
    if (this.#dead) return;
    if (data.t === "done") this.#events.reply(this, data.results);
    else this.#died({ reason: "crash", message: data.message });
  }

  #died(death: SlotDeath): void {
    if (this.#dead) return;
    this.#events.died(this, death);
  }
}

function exitDeath(code: number, oom: boolean, message: string | undefined): SlotDeath {
  if (oom) return { reason: "oom", code, message: message ?? "out of heap" };
  return message === undefined
    ? { reason: "exit", code, message: `it exited with code ${code}` }
    : { reason: "crash", code, message };
}

/**
 * Sends `records` to `slot` in one message; if that cannot be sent (an input
 * that cannot be cloned, an object listed twice across transfer lists), one
 * by one, so that only the jobs at fault are left out.
 *
 * @returns The jobs sent, and those that could not be, with why.
 */
export function postBatch(
  slot: WorkerSlot,
  records: readonly JobRecord[],
): { sent: JobRecord[]; unsent: [JobRecord, unknown][] } {
  const jobs: unknown[] = [];
  let transfer: Transferable[] | undefined;
  for (const record of records) {
    jobs.push(record.id, record.url, record.input);
    if (record.transfer !== undefined) (transfer ??= []).push(...record.transfer);
  }
  try {
    slot.run(jobs, transfer);
    return { sent: [...records], unsent: [] };
  } catch {
    // Nothing was sent: try each job alone.
  }
  const sent: JobRecord[] = [];
  const unsent: [JobRecord, unknown][] = [];
  for (const record of records) {
    try {
      slot.run([record.id, record.url, record.input], record.transfer);
      sent.push(record);
    } catch (error) {
      unsent.push([record, error]);
    }
  }
  return { sent, unsent };
}

/** An absolute URL as is; a relative path against the working directory. */
export function resolveJobUrl(url: string | URL): string {
  if (url instanceof URL) return url.href;
  try {
    return new URL(url).href;
  } catch {
    return new URL(url, `file://${Deno.cwd()}/`).href;
  }
}

/**
 * The error a failed job rejects with; its `cause` is the error the worker
 * saw, with the worker's stack.
 */
export function jobFailure(
  loading: boolean,
  job: string,
  pool: string,
  report: OffloadErrorReport,
): OffloadJobError {
  const cause = new Error(report.message);
  cause.name = report.name;
  if (report.stack !== undefined) cause.stack = report.stack;
  if (loading && report.name === "ExportError") {
    return new OffloadJobError(
      "E_JOB_LOAD_FAILED",
      job,
      `Cannot run job "${job}" of offload pool "${pool}" as its export is missing: ${report.message}`,
      { cause },
    );
  }
  return loading
    ? new OffloadJobError(
      "E_JOB_LOAD_FAILED",
      job,
      `Cannot run job "${job}" of offload pool "${pool}" as its module failed to load: ${report.message}`,
      { cause },
    )
    : new OffloadJobError(
      "E_JOB_FAILED",
      job,
      `Cannot run job "${job}" as it threw: ${report.message}`,
      { cause },
    );
}

/**
 * The error a job rejects with when its worker died.
 *
 * @param job The job's name.
 * @param death How the worker ended.
 * @param maxHeapMb The heap cap, named when the worker ran out of heap.
 */
export function deathFailure(job: string, death: SlotDeath, maxHeapMb: number): OffloadJobError {
  if (death.reason === "oom") {
    return new OffloadJobError(
      "E_WORKER_OUT_OF_MEMORY",
      job,
      `Cannot finish job "${job}" as its worker ran out of heap: the limit is ${maxHeapMb} MB ('resourceLimits.maxHeapMb')`,
    );
  }
  return new OffloadJobError(
    "E_WORKER_CRASHED",
    job,
    death.reason === "exit"
      ? `Cannot finish job "${job}" as its worker ended: ${death.message}`
      : `Cannot finish job "${job}" as its worker crashed: ${death.message}`,
  );
}
