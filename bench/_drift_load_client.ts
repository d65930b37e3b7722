// The HTTP client of `bench:drift`'s loaded case, run as its own process:
// `deno run --allow-net=127.0.0.1 _drift_load_client.ts <url> <rps>`. Paces
// fetches at `rps` on a drift-free schedule (each one read to the end) until
// its stdin closes.

const [url, rpsArg] = Deno.args;
const periodMs = 1000 / Number(rpsArg ?? 100);
let stopped = false;
let failures = 0;

async function one(): Promise<void> {
  try {
    const response = await fetch(url!);
    await response.arrayBuffer();
  } catch {
    if (++failures === 10) console.error("drift load client: 10 failed requests");
  }
}

const t0 = performance.now();
let k = 0;
function step(): void {
  if (stopped) return;
  void one();
  k++;
  setTimeout(step, Math.max(0, t0 + k * periodMs - performance.now()));
}
step();

// The parent closes our stdin to stop us.
for await (const _ of Deno.stdin.readable) { /* drain */ }
stopped = true;
Deno.exit(0);
