import type { GateInput } from "./gate.ts";

/** An async job that never finishes on its own: it ends when its signal aborts. */
export default function hang(
  { port }: GateInput,
  { signal }: { signal: AbortSignal },
): Promise<string> {
  // Reported once this synchronous part has returned, so that the pool sees
  // an async job waiting, not code running, from the moment the test hears it.
  queueMicrotask(() => port.postMessage("started"));
  return new Promise((resolve) => {
    signal.addEventListener("abort", () => {
      port.postMessage("aborted");
      port.close();
      resolve("aborted");
    }, { once: true });
  });
}
