// The `dashboard` case of `bench:server`: what a dashboard client costs the
// kernel. A precise-profile kernel with ten background tasks serves the
// dashboard; a 1 kHz loop's start-lateness p99 (and p99.9) is measured with
// no client and with one client at the page's real rate
// (bench/_dashboard_client.ts, in its own process), interleaved round by
// round (the order flips each round), for a kernel task (`chronetix:precise`)
// and an island task (`chronetix:island`). Figures: `p99_us` (with the
// client), `p99_idle_us`, `p99_ratio`, the same for p99.9, and the client's
// requests per second. Then `dashboard-point`: the main-thread time of the
// request that takes a point (`point_ms_p50`, `point_ms_max`).

import { Kernel } from "../mod.ts";
import { serve } from "../src/server/mod.ts";
import { type BenchResult, type BenchTarget, median, progress, round } from "./_report.ts";
import { interleavedRounds, loopSubjects } from "./_loaded_loop.ts";
import { SwitchedProcess } from "./_switched_process.ts";

const SILENT = { error() {}, warn() {}, info() {} };

/** What the case needs from the bench script. */
export interface DashboardCaseOptions {
  /** Ticks per measured run (1 kHz). */
  ticks: number;
  /** Rounds; each has one run without and one with the client. */
  rounds: number;
}

/** Runs the case; returns its results and its target. */
export async function dashboardCase(
  options: DashboardCaseOptions,
): Promise<{ results: BenchResult[]; targets: BenchTarget[] }> {
  const results: BenchResult[] = [];
  const targets: BenchTarget[] = [];
  const kernel = await Kernel.start({ name: "bench", profile: "precise", logger: SILENT });
  for (let i = 0; i < 10; i++) {
    kernel.periodic({ name: `bg-${i}`, periodMs: 10 * (i + 1), run: () => {} });
  }
  const handle = serve(kernel, { port: 0, logger: SILENT });
  const base = `http://127.0.0.1:${handle.addr.port}`;
  // Up before the first run and for the whole case: no run pays for a start.
  const client = new SwitchedProcess<{ requests: number; errors: number; seconds: number }>([
    "run",
    "--allow-net=127.0.0.1",
    new URL("./_dashboard_client.ts", import.meta.url).pathname,
    base,
    "bg-0",
  ]);
  for (const [subject, loop, note] of await loopSubjects(kernel)) {
    if (loop === undefined) {
      progress(`dashboard ${subject}: ${note}`);
      results.push({ case: "dashboard", subject, note });
      continue;
    }
    await loop.prepare?.(1);
    const { idle, loaded: watched, loads } = await interleavedRounds(loop, client, {
      ticks: options.ticks,
      rounds: options.rounds,
      // The page's first looks (the tree, the first point) are not the steady state.
      settleMs: 1500,
      onRound: (r, idle, watched, out) => {
        if (out.errors > 0) progress(`dashboard client: ${out.errors} errors`);
        progress(
          `dashboard ${subject} round ${r}: p99 idle ${round(idle.p99.at(-1)!)} µs, watched ${
            round(watched.p99.at(-1)!)
          } µs (${round(out.requests / out.seconds, 2)} req/s)`,
        );
      },
    });
    await loop.dispose?.();
    const p99Idle = median(idle.p99);
    const p99 = median(watched.p99);
    const p999Idle = median(idle.p999);
    const p999 = median(watched.p999);
    results.push({
      case: "dashboard",
      subject,
      p99_us: round(p99),
      p99_idle_us: round(p99Idle),
      p99_ratio: round(p99 / p99Idle, 2),
      p999_us: round(p999),
      p999_idle_us: round(p999Idle),
      p999_ratio: round(p999 / p999Idle, 2),
      client_req_per_s: round(median(loads.map((out) => out.requests / out.seconds)), 2),
    });
    targets.push({
      name: `${subject} loop p99 with a dashboard client within 20 % of none`,
      ok: p99 / p99Idle <= 1.2,
      detail: `${round(p99Idle)} µs without, ${round(p99)} µs with (x${round(p99 / p99Idle, 2)})`,
    });
  }
  await client.close();
  // What one point costs the main thread: the snapshot request that takes it,
  // answered in-process (no socket), timed around the handler.
  const times: number[] = [];
  for (let i = 0; i < 9; i++) {
    await new Promise((resolve) => setTimeout(resolve, 950));
    const t0 = performance.now();
    const response = await handle.server.request("/dashboard/api/snapshot?after=1000000");
    const took = performance.now() - t0;
    await response.body?.cancel();
    if (i > 0) times.push(took); // the first request only takes the first look
  }
  times.sort((a, b) => a - b);
  results.push({
    case: "dashboard-point",
    subject: "chronetix:server",
    point_ms_p50: round(median(times), 3),
    point_ms_max: round(times.at(-1)!, 3),
  });
  progress(
    `dashboard point: ${round(median(times), 3)} ms median, ${round(times.at(-1)!, 3)} ms max`,
  );
  await handle.shutdown();
  await kernel.shutdown({ graceMs: 0 });
  return { results, targets };
}
