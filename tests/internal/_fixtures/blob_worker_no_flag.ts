// Run by blob_worker_test.ts without --unstable-worker-options: starts blob
// Workers that do not scope their permissions, prints what they answered,
// and ends on its own.
import { createBlobWorker } from "../../../src/internal/blob_worker.ts";

function hello(label: string): void {
  (globalThis as unknown as { postMessage(message: unknown): void }).postMessage(`hello ${label}`);
}

for (const permissions of [undefined, "inherit" as const]) {
  const worker = createBlobWorker(hello, [String(permissions)], { name: "no-flag", permissions });
  const answer = await new Promise((resolve) => worker.onmessage = (event) => resolve(event.data));
  worker.terminate();
  console.log(answer);
}
