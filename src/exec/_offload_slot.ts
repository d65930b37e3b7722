// One offload Worker as the pool sees it: the thread, the jobs it holds, and
// the shared slot where it writes the id of the job it is running; the
// record of one job; and the errors of jobs that failed in a worker. The pool
// decides what happens to jobs; this file only starts, feeds, watches and
// stops a worker.

import { OffloadJobError } from "../errors.ts";
import { createBlobWorker, type WorkerPermissions } from "../internal/blob_worker.ts";
import {
  type OffloadErrorReport,
  type OffloadReply,
  type OffloadRequest,
  offloadWorkerMain,
} from "./_offload_worker.ts";

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
  /** When it was submitted and sent to a worker, on the pool's clock. */
  submittedAt: number;
  sentAt: number;
  /** The worker holding it, while it does. */
  slot: WorkerSlot | undefined;
}

/** What a slot reports to its pool. */
export interface SlotEvents {
  reply(slot: WorkerSlot, reply: OffloadReply): void;
  crash(slot: WorkerSlot, message: string): void;
}

/** A job found over its timeout; `stuck` when it is synchronous code still running. */
export type Overdue = (record: JobRecord, stuck: boolean) => void;

/** One offload Worker and the jobs sent to it. */
export class WorkerSlot {
  /** Jobs sent to this worker and not finished, by id. */
  readonly inFlight: Map<number, JobRecord> = new Map();
  readonly #worker: Worker;
  readonly #current = new Int32Array(new SharedArrayBuffer(4));
  #dead = false;
  // The job seen running at the last watch, and since when.
  #seenId = 0;
  #seenSince = 0;

  /**
   * Starts the worker.
   *
   * @param pool The pool's name, for the thread name.
   * @param permissions The worker's Deno permissions.
   * @param events Where replies and a crash go.
   */
  constructor(pool: string, permissions: WorkerPermissions, events: SlotEvents) {
    this.#worker = createBlobWorker(offloadWorkerMain, [], {
      name: `chronetix-offload:${pool}`,
      permissions,
    });
    this.#worker.onmessage = (event: MessageEvent<OffloadReply>) => {
      if (!this.#dead) events.reply(this, event.data);
    };
    this.#worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      if (!this.#dead) events.crash(this, event.message);
    };
    this.#worker.postMessage(this.#current.buffer);
  }

  /** Stopped: crashed, replaced or closed. */
  get dead(): boolean {
    return this.#dead;
  }

  /** The id of the job running synchronously right now, or 0. */
  running(): number {
    return Atomics.load(this.#current, 0);
  }

  /**
   * Sends a batch: id, module URL, input; repeated.
   *
   * @throws {DOMException} when an input cannot be cloned.
   */
  run(jobs: unknown[], transfer: Transferable[] | undefined): void {
    this.#post({ t: "run", jobs }, transfer ?? []);
  }

  /** Aborts a job's signal in the worker. */
  abort(id: number): void {
    this.#post({ t: "abort", id }, []);
  }

  /**
   * Finds jobs over `timeoutMs`. A job running synchronously is timed from
   * when a watch first saw it running; async jobs, from their dispatch.
   */
  watch(now: number, timeoutMs: number, overdue: Overdue): void {
    if (this.#dead || this.inFlight.size === 0) return;
    const running = this.running();
    if (running !== this.#seenId) {
      this.#seenId = running;
      this.#seenSince = now;
      return;
    }
    if (running === 0) {
      for (const record of [...this.inFlight.values()]) {
        if (now - record.sentAt > timeoutMs) overdue(record, false);
      }
      return;
    }
    const record = this.inFlight.get(running);
    if (record !== undefined && now - this.#seenSince > timeoutMs) overdue(record, true);
  }

  /** Terminates the worker; its jobs stay in `inFlight` for the pool to settle. */
  stop(): void {
    this.#dead = true;
    this.#worker.terminate();
  }

  #post(message: OffloadRequest, transfer: Transferable[]): void {
    this.#worker.postMessage(message, transfer);
  }
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

/** The error a job rejects with when its worker crashed. */
export function crashFailure(job: string, message: string): OffloadJobError {
  return new OffloadJobError(
    "E_WORKER_CRASHED",
    job,
    `Cannot finish job "${job}" as its worker crashed: ${message}`,
  );
}
