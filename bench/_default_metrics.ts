// bench:metrics case `default-metrics`, figure `ms_per_scrape`: one scrape
// of a registry holding only the default process/runtime metrics (collected
// on scrape), `chronetix` (collectDefaultMetrics, self metrics off so both
// registries hold the same kind of families) against `prom-client`
// (collectDefaultMetrics on its own Registry, `await register.metrics()`),
// interleaved round by round in the same run, with the ratio. prom-client's
// scrape waits for a setImmediate (its event-loop lag probe) and async /proc
// reads, so `cpu_ms_per_scrape` (process CPU time per scrape) is given too.
// prom-client's default metrics keep timers running: the caller exits.
import client from "prom-client";
import process from "node:process";
import { collectDefaultMetrics, MetricsRegistry } from "../mod.ts";
import { type BenchResult, median, progress, round } from "./_report.ts";

/**
 * The `default-metrics` case: ms per scrape of the default metrics, ours
 * and prom-client's, interleaved (the order alternates every round).
 */
export async function benchDefaultMetrics(quick: boolean): Promise<BenchResult[]> {
  const rounds = quick ? 7 : 21;
  const perRound = quick ? 50 : 200;
  const ours = new MetricsRegistry({ selfMetrics: false });
  const defaults = collectDefaultMetrics(ours);
  const theirs = new client.Registry();
  client.collectDefaultMetrics({ register: theirs });
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const oursCpu: number[] = [];
  const theirsCpu: number[] = [];
  const scrapeOurs = () => {
    const c0 = cpuMs();
    const t0 = performance.now();
    for (let i = 0; i < perRound; i++) {
      if (ours.expose("prometheus").length < 500) throw new Error("Exposition is too short");
    }
    const ms = (performance.now() - t0) / perRound;
    oursCpu.push((cpuMs() - c0) / perRound);
    return ms;
  };
  const scrapeTheirs = async () => {
    const c0 = cpuMs();
    const t0 = performance.now();
    for (let i = 0; i < perRound; i++) {
      if ((await theirs.metrics()).length < 500) throw new Error("Exposition is too short");
    }
    const ms = (performance.now() - t0) / perRound;
    theirsCpu.push((cpuMs() - c0) / perRound);
    return ms;
  };
  try {
    progress("metrics: default-metrics warm-up...");
    scrapeOurs();
    await scrapeTheirs();
    oursCpu.length = 0;
    theirsCpu.length = 0;
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) {
        a.push(scrapeOurs());
        b.push(await scrapeTheirs());
      } else {
        b.push(await scrapeTheirs());
        a.push(scrapeOurs());
      }
      // A turn of the event loop between rounds, as between real scrapes.
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const ms = median(a);
    const theirsMs = median(b);
    return [
      {
        case: "default-metrics",
        subject: "chronetix",
        ms_per_scrape: round(ms, 4),
        speedup_ratio: round(theirsMs / ms, 1),
        cpu_ms_per_scrape: round(median(oursCpu), 4),
        cpu_ratio: round(median(theirsCpu) / median(oursCpu), 1),
      },
      {
        case: "default-metrics",
        subject: "prom-client",
        ms_per_scrape: round(theirsMs, 4),
        speedup_ratio: 1,
        cpu_ms_per_scrape: round(median(theirsCpu), 4),
        cpu_ratio: 1,
      },
    ];
  } finally {
    defaults.close();
    theirs.clear();
  }
}
