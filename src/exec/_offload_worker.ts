// The offload Worker's program. It runs from a blob: URL built from this
// function's source, so it must be self-contained (no imports, no outer
// names). It imports job modules by URL on first use, runs batches of jobs,
// and posts results back in batches. Before each job it writes the job's id
// into a shared slot, so the pool can tell which job was running if the
// Worker dies or hangs.

/** Messages the pool sends. */
export type OffloadRequest =
  | { t: "run"; jobs: unknown[] } // id, job name, module URL, input; repeated
  | { t: "abort"; id: number };

/** Results the Worker sends: id, ok (1/0), value or error text; repeated. */
export interface OffloadReply {
  t: "done";
  results: unknown[];
}

/** The Worker's main function; see the file comment. */
export function offloadWorkerMain(current: Int32Array): void {
  const scope = globalThis as unknown as {
    onmessage: ((event: MessageEvent) => void) | null;
    postMessage(message: unknown, transfer?: Transferable[]): void;
  };
  type JobFn = (input: unknown, context: { signal: AbortSignal }) => unknown;
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
          throw new TypeError(`Cannot run job module ${url} as it exports no default function`);
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
        safe.push(results[i], 0, "Cannot return the job's result as it cannot be cloned");
      }
      scope.postMessage({ t: "done", results: safe });
    }
  };

  const finish = (id: number, ok: boolean, value: unknown) => {
    controllers.delete(id);
    if (ok) collect(value);
    out.push(id, ok ? 1 : 0, ok ? value : (value instanceof Error ? value.message : String(value)));
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
      finish(id, false, error);
      return;
    }
    if (controller.signal.aborted) {
      finish(id, false, new Error("aborted"));
      return;
    }
    Atomics.store(current, 0, id);
    let result: unknown;
    try {
      result = fn(input, { signal: controller.signal });
    } catch (error) {
      Atomics.store(current, 0, 0);
      finish(id, false, error);
      return;
    }
    Atomics.store(current, 0, 0);
    if (result instanceof Promise) {
      result.then((value) => finish(id, true, value), (error) => finish(id, false, error));
    } else {
      finish(id, true, result);
    }
  };

  scope.onmessage = ({ data }: MessageEvent<OffloadRequest>) => {
    if (data.t === "abort") {
      controllers.get(data.id)?.abort();
      return;
    }
    const jobs = data.jobs;
    for (let i = 0; i < jobs.length; i += 3) {
      void runOne(jobs[i] as number, jobs[i + 1] as string, jobs[i + 2]);
    }
  };
}
