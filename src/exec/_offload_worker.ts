// The offload Worker's program. It runs from a blob: URL built from this
// function's source (src/internal/blob_worker.ts), so it must be
// self-contained (no imports, no outer names). Its first message is a shared
// slot; then it imports job modules by URL on first use, runs batches of
// jobs, and posts results back in batches. Before each job it writes the
// job's id into the shared slot, so the pool can tell which job was running
// if the Worker dies or hangs.

/** Messages the pool sends. */
export type OffloadRequest =
  | { t: "run"; jobs: unknown[] } // id, job name, module URL, input; repeated
  | { t: "abort"; id: number };

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
 * Results the Worker sends: id, how it ended (`JOB_*`), then the value or an
 * {@linkcode OffloadErrorReport}; repeated.
 */
export interface OffloadReply {
  t: "done";
  results: unknown[];
}

/** The Worker's main function; see the file comment. */
export function offloadWorkerMain(): void {
  const scope = globalThis as unknown as {
    onmessage: ((event: MessageEvent) => void) | null;
    postMessage(message: unknown, transfer?: Transferable[]): void;
  };
  type JobFn = (input: unknown, context: { signal: AbortSignal }) => unknown;
  // The JOB_* constants, spelled here as the program cannot see outer names.
  const OK = 1, FAILED = 0, LOAD_FAILED = 2;
  let current: Int32Array = new Int32Array(1);
  const modules = new Map<string, Promise<JobFn>>();
  const controllers = new Map<number, AbortController>();
  let out: unknown[] = [];
  let transfer: Transferable[] = [];
  let flushScheduled = false;

  const load = (url: string): Promise<JobFn> => {
    let fn = modules.get(url);
    if (fn === undefined) {
      fn = import(url).then((module) => {
        const run = module.default ?? module.run;
        if (typeof run !== "function") {
          throw new TypeError(
            `Cannot run job module "${url}" as it has no default export function`,
          );
        }
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
      scope.postMessage({ t: "done", results }, list);
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
      scope.postMessage({ t: "done", results: safe });
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

  const runOne = async (id: number, url: string, input: unknown) => {
    const controller = new AbortController();
    controllers.set(id, controller);
    let fn: JobFn;
    try {
      fn = await load(url);
    } catch (error) {
      finish(id, LOAD_FAILED, error);
      return;
    }
    if (controller.signal.aborted) {
      finish(id, FAILED, controller.signal.reason);
      return;
    }
    Atomics.store(current, 0, id);
    let result: unknown;
    try {
      result = fn(input, { signal: controller.signal });
    } catch (error) {
      Atomics.store(current, 0, 0);
      finish(id, FAILED, error);
      return;
    }
    Atomics.store(current, 0, 0);
    if (result instanceof Promise) {
      result.then((value) => finish(id, OK, value), (error) => finish(id, FAILED, error));
    } else {
      finish(id, OK, result);
    }
  };

  const onRequest = ({ data }: MessageEvent<OffloadRequest>) => {
    if (data.t === "abort") {
      controllers.get(data.id)?.abort();
      return;
    }
    const jobs = data.jobs;
    for (let i = 0; i < jobs.length; i += 3) {
      void runOne(jobs[i] as number, jobs[i + 1] as string, jobs[i + 2]);
    }
  };

  scope.onmessage = ({ data }: MessageEvent<ArrayBufferLike>) => {
    current = new Int32Array(data);
    scope.onmessage = onRequest;
  };
}
