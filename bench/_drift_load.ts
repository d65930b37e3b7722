// The main-thread load of case `1kHz-loaded` in `bench:drift`: an HTTP
// server on 127.0.0.1 answering 50 KB of JSON, driven at 100 requests/s by a
// separate process (bench/_drift_load_client.ts); 3 ms of synchronous work
// every 20 ms; and allocation churn that keeps the garbage collector busy.

/** Counters of the load so far. */
export interface LoadCounters {
  /** HTTP requests answered. */
  requests: number;
  /** Runs of the 3 ms synchronous work. */
  syncRuns: number;
  /**
   * Garbage collections seen: batches of finalizer callbacks for the small
   * sentinels that every churn step drops (one batch per collection that
   * reclaimed any).
   */
  gcs: number;
}

/** A running load. */
export interface Load {
  /** The counters so far (a copy). */
  counters(): LoadCounters;
  /** Stops everything and waits for the client process to exit. */
  stop(): Promise<void>;
}

const SYNC_EVERY_MS = 20;
const SYNC_WORK_MS = 3;
const CHURN_EVERY_MS = 5;
const CHURN_OBJECTS = 2_500;
/** Churned arrays kept alive for a while, so some survive into the old generation. */
const CHURN_KEPT = 25;

/** One answer: about 50 KB of JSON, built and serialised per request. */
function answer(n: number): string {
  const items = [];
  for (let i = 0; i < 420; i++) {
    items.push({ id: n * 1000 + i, name: `item-${i}`, value: i * 1.5, tags: ["a", "b", "c"] });
  }
  return JSON.stringify({ request: n, at: Date.now(), items });
}

/** Starts the load and the client process that drives the server at `rps`. */
export async function startLoad(rps = 100): Promise<Load> {
  const counters: LoadCounters = { requests: 0, syncRuns: 0, gcs: 0 };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => {
      counters.requests++;
      return new Response(answer(counters.requests), {
        headers: { "content-type": "application/json" },
      });
    },
  );
  const sync = setInterval(() => {
    counters.syncRuns++;
    const end = performance.now() + SYNC_WORK_MS;
    let x = 0;
    while (performance.now() < end) x += Math.sqrt(x + 1);
    if (x < 0) console.log(x);
  }, SYNC_EVERY_MS);
  const kept: unknown[][] = [];
  let inBatch = false;
  const sentinels = new FinalizationRegistry<number>(() => {
    if (inBatch) return;
    inBatch = true;
    counters.gcs++;
    queueMicrotask(() => inBatch = false);
  });
  const churn = setInterval(() => {
    const batch: unknown[] = [];
    for (let i = 0; i < CHURN_OBJECTS; i++) batch.push({ i, s: `s${i}`, v: [i, i + 1] });
    kept.push(batch);
    if (kept.length > CHURN_KEPT) kept.shift();
    sentinels.register({}, kept.length);
  }, CHURN_EVERY_MS);
  const url = `http://127.0.0.1:${server.addr.port}/`;
  const client = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-config",
      "--no-lock",
      "--allow-net=127.0.0.1",
      new URL("./_drift_load_client.ts", import.meta.url).pathname,
      url,
      String(rps),
    ],
    stdin: "piped",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  // Wait until the client gets answers, so the load is on before anything counts.
  while (counters.requests < 5) await new Promise((r) => setTimeout(r, 20));
  return {
    counters: () => ({ ...counters }),
    async stop() {
      clearInterval(sync);
      clearInterval(churn);
      kept.length = 0;
      await client.stdin.close(); // the client stops when its stdin closes
      await client.status;
      await server.shutdown();
    },
  };
}
