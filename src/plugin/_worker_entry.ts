// The programs of a worker plugin's thread. The host starts a Web Worker from
// a small data: module that imports the plugin's entry STATICALLY (so the
// plugin's permissions need no read grant of its own folder; the import audit
// has vetted that graph) and hands the module to `runWorker`. With a heap
// limit, the Web Worker runs `runRelay` instead: it starts a
// `node:worker_threads` worker with `resourceLimits` (which fails alone when
// it runs out of heap, where a Web Worker would take the process down), and
// that inner thread runs `runNodeWorker`; the relay passes messages both ways
// and reports how the inner thread ended.
//
// A plugin's Web Worker talks to the kernel on a MessagePort of its own: it
// makes a MessageChannel and sends one end up to its parent (the kernel's
// thread, or a spawner thread that passes it on, see _spawner.ts) as its
// first message. The port, not the Worker's channel, carries the protocol:
// a Worker that a spawner created has no channel to the kernel, and on Deno
// 2.9.1 to 2.9.6 a nested Worker's first message from its parent waits
// about 500 ms (the inspector's "wait for debugger" grace, even without an
// inspector), which messages on a port do not.

import { serveRemote } from "./_remote_runtime.ts";
import type { HostMessage, PluginMessage } from "./_remote_protocol.ts";

interface WorkerScope {
  postMessage(message: unknown, transfer: Transferable[]): void;
}

/** Makes the plugin's channel and sends its other end to the parent. */
function kernelPort(): MessagePort {
  const { port1, port2 } = new MessageChannel();
  (globalThis as unknown as WorkerScope).postMessage(port2, [port2]);
  return port1;
}

/**
 * Serves a plugin module in a Web Worker, on a port it sends to its parent.
 *
 * @param module The plugin module's namespace.
 */
export function runWorker(module: unknown): void {
  const port = kernelPort();
  serveRemote({
    send: (message: PluginMessage) => port.postMessage(message),
    listen: (handler) => {
      port.onmessage = (event: MessageEvent<HostMessage>) => handler(event.data);
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
  const port = kernelPort();
  const waiting: unknown[] = [];
  let inner: NodeWorker | undefined;
  port.onmessage = ({ data }) => {
    if (inner === undefined) waiting.push(data);
    else inner.postMessage(data);
  };
  const gone = (oom: boolean, code: number, message: string | undefined) =>
    port.postMessage({ t: "gone", oom, code, message } satisfies PluginMessage);
  try {
    const { Worker } = await import("node:worker_threads");
    const worker = new Worker(new URL(innerUrl), {
      name: "chronetix-plugin",
      resourceLimits: { maxOldGenerationSizeMb: maxHeapMb },
    }) as unknown as NodeWorker;
    let failure: { code?: string; message?: string } | undefined;
    worker.on("message", (message: unknown) => port.postMessage(message));
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
