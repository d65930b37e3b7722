// The program of an offload job worker: a `node:worker_threads` Worker, whose
// heap can be capped (`resourceLimits`) so that a job that runs out of memory
// kills only its own thread. It runs from a data: URL built from this
// function's source (src/internal/blob_worker.ts), so it must be
// self-contained (no imports, no outer names). Its first message is the
// shared control block; then it imports job modules by URL on first use, runs
// batches of jobs, and posts results back in batches.
//
// The control block (Int32Array) is how the pool sees into the thread
// without a message, even when the thread is blocked or dead:
// - RUNNING: the id of the job whose synchronous code runs now, else 0, so
//   the pool can tell which job was running if the worker dies or hangs;
// - HANDLED: how many messages the worker has taken, so the pool can tell a
//   worker that stopped answering (an async job blocking it, or a thread that
//   died without a word) from one that is merely busy;
// - READY: 1 once the program runs, so start-up is not counted as a job's time.
//
// Job code runs from `process.nextTick`, never directly in the message
// handler: measured on Deno 2.9.6, a worker that reaches its heap limit while
// in a message handler (or in a promise continuation resumed there) stops
// without the parent hearing of it, whereas from a tick its parent gets
// `ERR_WORKER_OUT_OF_MEMORY`. What is still missed is caught by the pool as
// a worker that stopped answering.

/** Messages the pool sends (after the control block, the first message). */
export type OffloadRequest =
  | { t: "run"; jobs: unknown[]; transfer?: Transferable[] } // id, module URL, input; repeated
  | { t: "abort"; id: number };

/** Cells of the control block. */
export const CONTROL_RUNNING = 0;
/** Messages the worker has taken. */
export const CONTROL_HANDLED = 1;
/** 1 once the worker's program runs. */
export const CONTROL_READY = 2;
/** Length of the control block, in Int32 cells. */
export const CONTROL_CELLS = 3;

/** How a job ended, the second entry of each result in an {@linkcode OffloadReply}. */
export const JOB_OK = 1;
/** The job threw or rejected. */
export const JOB_FAILED = 0;
/** The job's module could not be loaded. */
export const JOB_LOAD_FAILED = 2;

/** What the Worker reports of an error. */
export interface OffloadErrorReport {
  name: string;
  message: string;
  stack?: string;
}

/**
 * What the Worker sends: results (id, how it ended (`JOB_*`), then the value
 * or an {@linkcode OffloadErrorReport}; repeated) with the buffers they
 * transfer, or an error no job caught (the worker is then replaced).
 */
export type OffloadReply =
  | { t: "done"; results: unknown[]; transfer: Transferable[] }
  | { t: "crash"; message: string };

/** The Worker's main function; see the file comment. */
export function offloadWorkerMain(): void {
  const scope = globalThis as unknown as {
    self?: unknown;
    onmessage: ((event: MessageEvent) => void) | null;
    postMessage(message: unknown, transfer?: Transferable[]): void;
    addEventListener(
      type: string,
      listener: (event: Event & { message?: string; reason?: unknown }) => void,
    ): void;
    process?: { nextTick(callback: () => void): void };
  };
  // Job modules written for a Web Worker may use `self`.
  if (scope.self === undefined) scope.self = globalThis;
  const tick = scope.process?.nextTick.bind(scope.process) ??
    ((callback: () => void) => void setTimeout(callback, 0));
  type JobFn = (input: unknown, context: { signal: AbortSignal }) => unknown;
  // The JOB_* and CONTROL_* constants, spelled here as the program cannot see outer names.
  const OK = 1, FAILED = 0, LOAD_FAILED = 2;
  const RUNNING = 0, HANDLED = 1, READY = 2;
  let control: Int32Array = new Int32Array(3);
  const modules = new Map<string, Promise<JobFn>>();
  const loaded = new Map<string, JobFn>();
  const controllers = new Map<number, AbortController>();
  let out: unknown[] = [];
  let transfer: Transferable[] = [];
  let flushScheduled = false;

  const describe = (error: unknown): string =>
    error instanceof Error ? `${error.name}: ${error.message}` : String(error);

  // An error no job caught (thrown from a job's timer, a promise nobody
  // handled): reported once, then the pool replaces the worker.
  let crashed = false;
  const crash = (message: string) => {
    if (crashed) return;
    crashed = true;
    scope.postMessage({ t: "crash", message });
  };
  scope.addEventListener("error", (event) => {
    event.preventDefault();
    crash(event.message ?? "an uncaught error");
  });
  scope.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    crash(`Uncaught (in promise) ${describe(event.reason)}`);
  });

  // A URL's fragment names the export to run (`mod.ts#resize`); without one, the default export.
  const imports = new Map<string, Promise<Record<string, unknown>>>();
  const load = (url: string): Promise<JobFn> => {
    let fn = modules.get(url);
    if (fn === undefined) {
      const hash = url.indexOf("#");
      const base = hash < 0 ? url : url.slice(0, hash);
      const name = hash < 0 ? undefined : decodeURIComponent(url.slice(hash + 1));
      let module = imports.get(base);
      if (module === undefined) {
        module = import(base);
        imports.set(base, module);
      }
      fn = module.then((exports) => {
        const run = name === undefined ? exports.default ?? exports.run : exports[name];
        if (typeof run !== "function") {
          const error = new TypeError(
            `Cannot run job module "${base}" as it has no ${
              name === undefined ? "default export" : `export "${name}"`
            } that is a function: its exports are ${
              Object.keys(exports).map((key) => `"${key}"`).join(", ") || "none"
            }`,
          );
          error.name = "ExportError";
          throw error;
        }
        loaded.set(url, run as JobFn);
        return run as JobFn;
      });
      modules.set(url, fn);
    }
    return fn;
  };

  const collect = (value: unknown): void => {
    const add = (v: unknown) => {
      const buffer = v instanceof ArrayBuffer
        ? v
        : ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer
        ? v.buffer
        : undefined;
      if (buffer !== undefined && buffer.byteLength > 0 && !transfer.includes(buffer)) {
        transfer.push(buffer);
      }
    };
    add(value);
    if (value !== null && typeof value === "object" && !ArrayBuffer.isView(value)) {
      for (const v of Array.isArray(value) ? value : Object.values(value)) add(v);
    }
  };

  const flush = () => {
    flushScheduled = false;
    if (out.length === 0) return;
    const results = out;
    const list = transfer;
    out = [];
    transfer = [];
    try {
      scope.postMessage({ t: "done", results, transfer: list }, list);
    } catch {
      // A result that cannot be cloned: report each as an error instead.
      const safe: unknown[] = [];
      for (let i = 0; i < results.length; i += 3) {
        const ok = results[i + 1] === OK;
        safe.push(
          results[i],
          ok ? FAILED : results[i + 1],
          ok
            ? {
              name: "DataCloneError",
              message: "Cannot return the job's result as it cannot be cloned",
            }
            : results[i + 2],
        );
      }
      scope.postMessage({ t: "done", results: safe, transfer: [] });
    }
  };

  const report = (error: unknown) =>
    error instanceof Error
      ? { name: error.name, message: error.message, stack: error.stack }
      : { name: "Error", message: String(error) };

  const finish = (id: number, how: number, value: unknown) => {
    controllers.delete(id);
    if (how === OK) collect(value);
    out.push(id, how, how === OK ? value : report(value));
    if (!flushScheduled) {
      flushScheduled = true;
      queueMicrotask(flush);
    }
  };

  const call = (id: number, fn: JobFn, input: unknown, controller: AbortController) => {
    if (controller.signal.aborted) {
      finish(id, FAILED, controller.signal.reason);
      return;
    }
    Atomics.store(control, RUNNING, id);
    let result: unknown;
    try {
      result = fn(input, { signal: controller.signal });
    } catch (error) {
      Atomics.store(control, RUNNING, 0);
      finish(id, FAILED, error);
      return;
    }
    Atomics.store(control, RUNNING, 0);
    if (result instanceof Promise) {
      result.then((value) => finish(id, OK, value), (error) => finish(id, FAILED, error));
    } else {
      finish(id, OK, result);
    }
  };

  const runOne = (id: number, url: string, input: unknown) => {
    const controller = new AbortController();
    controllers.set(id, controller);
    const fn = loaded.get(url);
    if (fn !== undefined) {
      call(id, fn, input, controller);
      return;
    }
    // From a tick again once loaded: see the file comment.
    load(url).then(
      (fn) => tick(() => call(id, fn, input, controller)),
      (error) => finish(id, LOAD_FAILED, error),
    );
  };

  const onRequest = ({ data }: MessageEvent<OffloadRequest>) => {
    Atomics.add(control, HANDLED, 1);
    if (data.t === "abort") {
      controllers.get(data.id)?.abort();
      return;
    }
    const jobs = data.jobs;
    tick(() => {
      for (let i = 0; i < jobs.length; i += 3) {
        runOne(jobs[i] as number, jobs[i + 1] as string, jobs[i + 2]);
      }
    });
  };

  scope.onmessage = ({ data }: MessageEvent<ArrayBufferLike>) => {
    control = new Int32Array(data);
    Atomics.add(control, HANDLED, 1);
    Atomics.store(control, READY, 1);
    scope.onmessage = onRequest;
  };
}
