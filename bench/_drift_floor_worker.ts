// The floor of `bench:drift`: a bare Worker loop that blocks in
// `Atomics.wait` until `lead` before each deadline, then spins on
// `performance.now()`. Lead 0 is a pure `Atomics.wait`. Lateness is measured
// here, on this thread's clock, and sent back once per run.

/** A run request from the main thread. */
export interface FloorRun {
  periodMs: number;
  ticks: number;
  leadMs: number;
}

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<FloorRun | "stop">) => void) | null;
  postMessage(message: unknown, transfer: Transferable[]): void;
  close(): void;
};

const cell = new Int32Array(new SharedArrayBuffer(4));

function run({ periodMs, ticks, leadMs }: FloorRun): Float64Array<ArrayBuffer> {
  const lateness = new Float64Array(ticks);
  const t0 = performance.now();
  for (let k = 0; k < ticks; k++) {
    const deadline = t0 + (k + 1) * periodMs;
    const sleep = deadline - leadMs - performance.now();
    if (sleep > 0) Atomics.wait(cell, 0, 0, sleep);
    let now = performance.now();
    while (now < deadline) now = performance.now();
    lateness[k] = now - deadline;
  }
  return lateness;
}

scope.onmessage = (event) => {
  if (event.data === "stop") {
    scope.onmessage = null;
    scope.close();
    return;
  }
  const lateness = run(event.data);
  scope.postMessage(lateness, [lateness.buffer]);
};
