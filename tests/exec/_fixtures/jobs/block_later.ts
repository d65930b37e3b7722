import type { GateInput } from "./gate.ts";

/**
 * An async job whose continuation blocks the worker: after its first await
 * it reports "started" and waits on the gate in synchronous code, so the
 * worker is not running a job on record and still answers nothing.
 */
export default async function blockLater({ port, cells }: GateInput): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  port.postMessage("started");
  Atomics.wait(cells, 0, 0);
  port.close();
  return "released";
}
