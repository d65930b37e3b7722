// The in-repo HTTP load generator of `bench:server`, run in its own process
// (Deno.Command) so that its work does not count against the server:
//
//   deno run --allow-net=127.0.0.1 bench/_server_loader.ts <url> <seconds> <connections> [rate]
//   deno run --allow-net=127.0.0.1 bench/_server_loader.ts <url> stdin <connections> [rate]
//
// With a rate (requests/s, over all connections) it is an open-loop
// generator: request k is due at t0 + k / rate; without one each connection
// sends its next request as soon as the last one answered. Prints one JSON
// object: requests, errors, req_per_s, p50_ms, p99_ms. With `stdin` for the
// seconds it stays up and is switched by lines on stdin: `on` starts a load,
// `off` ends it and prints its object; end of input ends the process (so a
// bench can load and unload a server many times without a process start,
// and its JIT warm-up, in any measured run).

import { serveSwitched } from "./_switched_process.ts";

const [url, seconds, connections, rate] = Deno.args;
if (url === undefined || seconds === undefined || connections === undefined) {
  console.error("usage: _server_loader.ts <url> <seconds> <connections> [rate]");
  Deno.exit(2);
}
const perSecond = rate === undefined ? 0 : Number(rate);

interface LoadResult {
  requests: number;
  errors: number;
  req_per_s: number;
  p50_ms: number;
  p99_ms: number;
}

/** One load until `durationMs` passed or `stop` aborts. */
async function load(durationMs: number, stop?: AbortSignal): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const t0 = performance.now();
  const end = t0 + durationMs;
  let next = 0;
  const over = () => performance.now() >= end || stop?.aborted === true;

  async function one(): Promise<void> {
    const start = performance.now();
    try {
      const response = await fetch(url!);
      await response.arrayBuffer();
      if (!response.ok) errors++;
    } catch {
      errors++;
    }
    latencies.push(performance.now() - start);
  }

  async function connection(): Promise<void> {
    while (!over()) {
      if (perSecond > 0) {
        const due = t0 + (next++ * 1000) / perSecond;
        const wait = due - performance.now();
        if (due >= end) return;
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        if (stop?.aborted) return;
      }
      await one();
    }
  }

  await Promise.all(Array.from({ length: Number(connections) }, connection));
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return {
    requests: latencies.length,
    errors,
    req_per_s: latencies.length / elapsed,
    p50_ms: q(0.5),
    p99_ms: q(0.99),
  };
}

if (seconds !== "stdin") {
  console.log(JSON.stringify(await load(Number(seconds) * 1000)));
} else {
  await serveSwitched((stop) => load(Infinity, stop));
}
