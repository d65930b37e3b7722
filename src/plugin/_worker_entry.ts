// The programs of a worker plugin's thread. The host starts a Web Worker from
// a small data: module that imports the plugin's entry STATICALLY (so the
// plugin's permissions need no read grant of its own folder; the import audit
// has vetted that graph) and hands the module to `runWorker`. With a heap
// limit, the Web Worker runs `runRelay` instead: it starts a
// `node:worker_threads` worker with `resourceLimits` (which fails alone when
// it runs out of heap, where a Web Worker would take the process down), and
// that inner thread runs `runNodeWorker`; the relay passes messages both ways
// and reports how the inner thread ended.

import { serveRemote } from "./_remote_runtime.ts";
import type { HostMessage, PluginMessage } from "./_remote_protocol.ts";

interface WorkerScope {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
}

/**
 * Serves a plugin module in a Web Worker.
 *
 * @param module The plugin module's namespace.
 */
export function runWorker(module: unknown): void {
  const scope = globalThis as unknown as WorkerScope;
  serveRemote({
    send: (message: PluginMessage) => scope.postMessage(message),
    listen: (handler) => {
      scope.onmessage = (event: MessageEvent<HostMessage>) => handler(event.data);
    },
  }, module);
}

interface NodePort {
  postMessage(message: unknown): void;
  on(event: "message", listener: (message: HostMessage) => void): void;
}

/**
 * Serves a plugin module in a `node:worker_threads` worker (under a relay).
 *
 * @param module The plugin module's namespace.
 */
export async function runNodeWorker(module: unknown): Promise<void> {
  const { parentPort } = await import("node:worker_threads");
  const port = parentPort as unknown as NodePort;
  serveRemote({
    send: (message: PluginMessage) => port.postMessage(message),
    listen: (handler) => port.on("message", handler),
  }, module);
}

interface NodeWorker {
  postMessage(message: unknown): void;
  on(event: string, listener: (value: never) => void): void;
}

/**
 * Runs the inner heap-limited thread and relays its messages.
 *
 * @param innerUrl The data: URL of the inner program (imports the entry, calls `runNodeWorker`).
 * @param maxHeapMb The inner thread's old-generation heap limit, MiB.
 */
export async function runRelay(innerUrl: string, maxHeapMb: number): Promise<void> {
  const scope = globalThis as unknown as WorkerScope;
  const waiting: unknown[] = [];
  let inner: NodeWorker | undefined;
  scope.onmessage = ({ data }) => {
    if (inner === undefined) waiting.push(data);
    else inner.postMessage(data);
  };
  const gone = (oom: boolean, code: number, message: string | undefined) =>
    scope.postMessage({ t: "gone", oom, code, message } satisfies PluginMessage);
  try {
    const { Worker } = await import("node:worker_threads");
    const worker = new Worker(new URL(innerUrl), {
      name: "chronetix-plugin",
      resourceLimits: { maxOldGenerationSizeMb: maxHeapMb },
    }) as unknown as NodeWorker;
    let failure: { code?: string; message?: string } | undefined;
    worker.on("message", (message: unknown) => scope.postMessage(message));
    worker.on("error", (error: { code?: string; message?: string }) => failure = error);
    worker.on("exit", (code: number) => {
      gone(failure?.code === "ERR_WORKER_OUT_OF_MEMORY", code, failure?.message);
    });
    inner = worker;
    for (const data of waiting.splice(0)) worker.postMessage(data);
  } catch (error) {
    gone(false, 1, `Cannot start the heap-limited thread: ${String(error)}`);
  }
}
