// The program of the Web Worker that hosts an offload job worker when the
// pool asks for scoped Deno permissions. A `node:worker_threads` Worker
// always gets its parent's permissions (revoking one inside it revokes it for
// the whole process), and a Web Worker's heap cannot be capped; so the pool
// starts a Web Worker with the permissions (`deno: { permissions }`), and it
// starts the job worker with the heap cap, which then has the Web Worker's
// permissions. This program only passes messages both ways (with their
// transfer lists) and reports how the job worker ended. It runs from a blob:
// URL built from this function's source, so it must be self-contained.

/** What the host reports when its job worker has ended. */
export interface HostExit {
  t: "exit";
  /** The job worker's exit code. */
  code: number;
  /** Whether it was stopped for reaching its heap limit. */
  oom: boolean;
  /** The error it ended with, when there was one. */
  message: string | undefined;
}

/**
 * The host's main function; see the file comment.
 *
 * @param runnerUrl The data: URL of the job worker's program.
 * @param name The job worker's thread name.
 * @param maxHeapMb The job worker's heap cap, MB.
 */
export function offloadHostMain(runnerUrl: string, name: string, maxHeapMb: number): void {
  interface NodeWorker {
    postMessage(message: unknown, transfer?: readonly unknown[]): void;
    on(event: string, listener: (value: never) => void): void;
  }
  const scope = globalThis as unknown as {
    onmessage: ((event: MessageEvent) => void) | null;
    postMessage(message: unknown, transfer?: Transferable[]): void;
  };
  const transferOf = (data: unknown): Transferable[] =>
    (data as { transfer?: Transferable[] } | null)?.transfer ?? [];
  let inner: NodeWorker | undefined;
  const waiting: unknown[] = [];
  scope.onmessage = ({ data }) => {
    if (inner === undefined) waiting.push(data);
    else inner.postMessage(data, transferOf(data));
  };
  const exit = (code: number, oom: boolean, message: string | undefined) =>
    scope.postMessage({ t: "exit", code, oom, message });
  import("node:worker_threads").then(({ Worker }) => {
    const worker = new Worker(new URL(runnerUrl), {
      name,
      resourceLimits: { maxOldGenerationSizeMb: maxHeapMb },
    }) as unknown as NodeWorker;
    let failure: { code?: string; message?: string } | undefined;
    worker.on("message", (message: unknown) => scope.postMessage(message, transferOf(message)));
    worker.on("error", (error: { code?: string; message?: string }) => failure = error);
    worker.on(
      "exit",
      (code: number) => exit(code, failure?.code === "ERR_WORKER_OUT_OF_MEMORY", failure?.message),
    );
    inner = worker;
    for (const data of waiting.splice(0)) worker.postMessage(data, transferOf(data));
  }, (error: unknown) => exit(1, false, `Cannot start the job worker: ${String(error)}`));
}
