// The `dashboard` case of `bench:server`: what a dashboard client costs the
// kernel. A precise-profile kernel with ten background tasks serves the
// dashboard; a 1 kHz loop's start-lateness p99 (and p99.9) is measured with
// no client and with one client at the page's real rate
// (bench/_dashboard_client.ts, in its own process), interleaved round by
// round (the order of the conditions rotates each round), for a kernel task (`chronetix:precise`)
// and an island task (`chronetix:island`). Figures: `p99_us` (with the
// client), `p99_idle_us`, `p99_ratio`, the same for p99.9, and the client's
// requests per second. A third condition in every round is the same client
// against a stand-in server in another process that answers with bodies the
// real server gave and runs no kernel (bench/_stand_in_server.ts): what a
// client process and its sockets cost the loop on the same cores
// (`p99_stand_in_us`, `p99_ratio_stand_in`), so that `p99_beyond_stand_in`
// (with the real server over with the stand-in) is the kernel's own share.
// Then `dashboard-point`: the main-thread time of the request that takes a
// point (`point_ms_p50`, `point_ms_max`).

import { Kernel } from "../mod.ts";
import { serve } from "../src/server/mod.ts";
import { type BenchResult, type BenchTarget, median, progress, round } from "./_report.ts";
import { interleavedLoads, loopSubjects, type Tails } from "./_loaded_loop.ts";
import { SwitchedProcess } from "./_switched_process.ts";
import { type StandInServer, startStandInServer, takeBodies } from "./_stand_in_server.ts";

const SILENT = { error() {}, warn() {}, info() {} };

/** What a dashboard client prints for each time it was on. */
interface ClientLine {
  requests: number;
  errors: number;
  seconds: number;
}

/**
 * Takes the bodies the dashboard client will ask for from the real server
 * (a snapshot of one point, as the client gets each second) and starts the
 * stand-in with them.
 */
async function startStandIn(
  server: { request(path: string): Promise<Response> },
): Promise<StandInServer> {
  const bodies = await takeBodies(server, ["/dashboard/api/snapshot?after=0"]); // the first look
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await takeBodies(server, ["/dashboard/api/snapshot?after=0"], bodies); // one point
  const app = "/api/v1/apps/bg-0";
  await takeBodies(server, [app, `${app}/data`], bodies);
  const data = JSON.parse(bodies[`${app}/data`]!.body) as { items?: { id: string }[] };
  const items = (data.items ?? []).map((item) => `${app}/data/${item.id}`);
  const collections = ["components", "apps", "areas", "functions"].map((c) => `/api/v1/${c}`);
  await takeBodies(server, [...items, ...collections], bodies);
  return await startStandInServer(bodies);
}

/** What the case needs from the bench script. */
export interface DashboardCaseOptions {
  /** Ticks per measured run (1 kHz). */
  ticks: number;
  /** Rounds; each has one run without a client, one with it, one with it against the stand-in. */
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
  const standIn = await startStandIn(handle.server);
  // Up before the first run and for the whole case: no run pays for a start.
  const clientOf = (at: string) =>
    new SwitchedProcess<ClientLine>([
      "run",
      "--allow-net=127.0.0.1",
      new URL("./_dashboard_client.ts", import.meta.url).pathname,
      at,
      "bg-0",
    ]);
  const client = clientOf(base);
  const standInClient = clientOf(`http://127.0.0.1:${standIn.port}`);
  for (const [subject, loop, note] of await loopSubjects(kernel)) {
    if (loop === undefined) {
      progress(`dashboard ${subject}: ${note}`);
      results.push({ case: "dashboard", subject, note });
      continue;
    }
    await loop.prepare?.(1);
    const { idle, loaded, loads } = await interleavedLoads(loop, [client, standInClient], {
      ticks: options.ticks,
      rounds: options.rounds,
      // The page's first looks (the tree, the first point) are not the steady state.
      settleMs: 1500,
      onRound: (r, idle, loaded, outs) => {
        for (const out of outs) {
          if (out.errors > 0) progress(`dashboard client: ${out.errors} errors`);
        }
        progress(
          `dashboard ${subject} round ${r}: p99 idle ${round(idle.p99.at(-1)!)} µs, watched ${
            round(loaded[0]!.p99.at(-1)!)
          } µs, stand-in ${round(loaded[1]!.p99.at(-1)!)} µs (${
            round(outs[0]!.requests / outs[0]!.seconds, 2)
          } req/s)`,
        );
      },
    });
    await loop.dispose?.();
    const [watched, stoodIn] = loaded as [Tails, Tails];
    const p99Idle = median(idle.p99);
    const p99 = median(watched.p99);
    const p99StandIn = median(stoodIn.p99);
    const p999Idle = median(idle.p999);
    const p999 = median(watched.p999);
    const rate = (lines: ClientLine[]) =>
      round(median(lines.map((o) => o.requests / o.seconds)), 2);
    results.push({
      case: "dashboard",
      subject,
      p99_us: round(p99),
      p99_idle_us: round(p99Idle),
      p99_ratio: round(p99 / p99Idle, 2),
      p999_us: round(p999),
      p999_idle_us: round(p999Idle),
      p999_ratio: round(p999 / p999Idle, 2),
      p99_stand_in_us: round(p99StandIn),
      p99_ratio_stand_in: round(p99StandIn / p99Idle, 2),
      p99_beyond_stand_in: round(p99 / p99StandIn, 2),
      client_req_per_s: rate(loads[0]!),
      stand_in_client_req_per_s: rate(loads[1]!),
    });
    targets.push({
      name: `${subject} loop p99 with a dashboard client within 20 % of none`,
      ok: p99 / p99Idle <= 1.2,
      detail: `${round(p99Idle)} µs without, ${round(p99)} µs with (x${round(p99 / p99Idle, 2)})`,
    });
    // The kernel's own share: the same client against a server that runs no kernel.
    targets.push({
      name:
        `${subject} loop p99 with a dashboard client within 20 % of the same client of a stand-in`,
      ok: p99 / p99StandIn <= 1.2,
      detail: `${round(p99StandIn)} µs with the stand-in, ${round(p99)} µs with the server (x${
        round(p99 / p99StandIn, 2)
      })`,
    });
  }
  await client.close();
  await standInClient.close();
  await standIn.process.close();
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
