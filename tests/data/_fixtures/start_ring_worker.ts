import type { RingWorkerReport, RingWorkerTask } from "./ring_worker.ts";

/** Starts the ring test worker on `task`; resolves with its report. */
export function startWorker(task: RingWorkerTask): Promise<RingWorkerReport> {
  const worker = new Worker(new URL("./ring_worker.ts", import.meta.url), { type: "module" });
  const { promise, resolve, reject } = Promise.withResolvers<RingWorkerReport>();
  worker.onmessage = ({ data }) => resolve(data);
  worker.onerror = (event) => {
    event.preventDefault();
    reject(new Error(`Ring test worker failed: ${event.message}`));
  };
  worker.postMessage(task);
  return promise.finally(() => worker.terminate());
}
