import type { GateInput } from "./gate.ts";

/**
 * Blocks its worker in synchronous code until the test releases the gate:
 * a job stuck past any timeout, however fast the machine.
 */
export default function block({ port, cells }: GateInput): string {
  port.postMessage("started");
  Atomics.wait(cells, 0, 0);
  port.close();
  return "released";
}
