// The demo's end-of-run checks: what the script gathered, judged against the
// scenario, as lines for people and the `DEMO RESULT` object.
import type { ShutdownReport } from "../../mod.ts";
import type { ConsumerCounts } from "./plugins/consumer.ts";
import type { PluginTally } from "./_plugin_events.ts";

/** What the script counted while the demo ran. */
export interface Tally {
  /** Readings the sampler published on the bus. */
  published: number;
  /** The consumer's latest counts. */
  consumer: ConsumerCounts | undefined;
  /** The greedy plugin's latest escape tally. */
  greedy: { rounds: number; attempts: number; denied: number; escaped: number } | undefined;
  /** Bursts published. */
  bursts: number;
  /** CRC jobs done, results that did not match, jobs that failed. */
  crcJobs: number;
  crcMismatches: number;
  crcFailures: number;
  /** Every hot reload of the consumer. */
  reloads: { ok: boolean; from: string; to: string; ms: number }[];
  /** Every fault event of the server's monitor. */
  faults: { type: string; code: string; entity: string }[];
}

/** The `DEMO RESULT` line's object. */
export interface DemoResult {
  /** Every check passed. */
  ok: boolean;
  /** The checks that failed, in words. */
  failures: string[];
  /** How long the scenario ran, s (from the script's start to the shutdown's). */
  seconds: number;
  /** Each component (`island:x`, `task:x`, `plugin:x`, `offload`, `server`, `dashboard`) when the shutdown began. */
  running: Record<string, string>;
  /** The sampler-to-consumer stream, end to end. */
  stream: {
    published: number;
    consumerEvents: number;
    eventGaps: number;
    framesSent: number;
    framesRefused: number;
    framesReceived: number;
    framesLost: number;
    frameGaps: number;
    frameGapsAt: [number, number][];
    port: { received: number; recycled: number; unreceived: number; unrecycled: number };
    badFrames: number;
    frameBytes: number;
    consumerInstances: number;
    consumerVersion: string;
  };
  /** Per plugin, what the telemetry ring showed. */
  plugins: Record<string, PluginTally>;
  /** The greedy plugin's escapes. */
  greedy: { rounds: number; attempts: number; denied: number; escaped: number };
  /** Hot reloads of the consumer. */
  reloads: { ok: number; failed: number; versions: string[] };
  /** The burst tasks: runs, releases and drops by reason. */
  qos: Record<string, { runs: number; releases: number; dropped: Record<string, number> }>;
  /** The CRC stream. */
  crc: { jobs: number; mismatches: number; failures: number };
  /** Fault codes raised, healed (cleared) and still held at the end, as `CODE@entity`, sorted. */
  faults: { raised: string[]; healed: string[]; held: string[] };
  /** The shutdown, and how the hung plugin was retired before it (`stopped`, `killed while hung`). */
  shutdown: { graceful: boolean; durationMs: number; hungRetired: string };
}

/** What {@linkcode judge} weighs. */
export interface Findings {
  seconds: number;
  running: DemoResult["running"];
  stream: DemoResult["stream"];
  plugins: Record<string, PluginTally>;
  tally: Tally;
  qos: DemoResult["qos"];
  report: ShutdownReport;
  hungRetired: string;
}

const MUST_RUN = [
  "island:control",
  "task:crc",
  "plugin:sampler",
  "plugin:consumer",
  "plugin:greedy",
  "offload",
  "server",
  "dashboard",
];

/** Checks the findings against the scenario; returns the result and lines for people. */
export function judge(f: Findings): { result: DemoResult; lines: string[] } {
  const failures: string[] = [];
  const check = (ok: boolean, what: string) => void (ok || failures.push(what));
  const s = f.stream;
  for (const name of MUST_RUN) {
    const state = f.running[name];
    check(state === "running" || state === "started", `${name} was ${state ?? "missing"}`);
  }
  check(s.published > 0, "the sampler published nothing");
  check(s.framesLost === 0, `${s.framesLost} frames lost`);
  check(s.framesRefused === 0, `${s.framesRefused} frames refused for lack of credit`);
  check(
    s.frameGaps === 0 && s.badFrames === 0,
    `${s.frameGaps} frame gaps (at ${JSON.stringify(s.frameGapsAt)}), ${s.badFrames} bad frames`,
  );
  check(
    s.consumerEvents === s.published && s.eventGaps === 0,
    `the consumer counted ${s.consumerEvents} events (${s.eventGaps} gaps), the sampler published ${s.published}`,
  );
  const greedy = f.tally.greedy ?? { rounds: 0, attempts: 0, denied: 0, escaped: 0 };
  // Its first tally comes before the script listens; the next one 5 s in.
  check(
    (f.tally.greedy === undefined && f.seconds < 6) ||
      (greedy.attempts > 0 && greedy.denied === greedy.attempts),
    `greedy: ${greedy.denied} of ${greedy.attempts} escapes denied`,
  );
  const t = f.tally;
  check(t.crcJobs > 0 && t.crcMismatches === 0, `CRC: ${t.crcJobs} jobs, ${t.crcMismatches} wrong`);
  const reloadsOk = t.reloads.filter((r) => r.ok).length;
  check(reloadsOk === t.reloads.length, `${t.reloads.length - reloadsOk} hot reloads failed`);
  check(f.report.graceful, "the shutdown was not graceful");

  const key = (e: { code: string; entity: string }) => `${e.code}@${e.entity}`;
  const raised = new Set(t.faults.filter((e) => e.type === "fault_confirmed").map(key));
  const healed = new Set(t.faults.filter((e) => e.type === "fault_cleared").map(key));
  const held = new Map<string, boolean>();
  for (const e of t.faults) held.set(key(e), e.type !== "fault_cleared");
  const result: DemoResult = {
    ok: failures.length === 0,
    failures,
    seconds: Math.round(f.seconds * 10) / 10,
    running: f.running,
    stream: s,
    plugins: f.plugins,
    greedy,
    reloads: {
      ok: reloadsOk,
      failed: t.reloads.length - reloadsOk,
      versions: t.reloads.filter((r) => r.ok).map((r) => r.to),
    },
    qos: f.qos,
    crc: { jobs: t.crcJobs, mismatches: t.crcMismatches, failures: t.crcFailures },
    faults: {
      raised: [...raised].sort(),
      healed: [...healed].sort(),
      held: [...held].filter(([, on]) => on).map(([k]) => k).sort(),
    },
    shutdown: {
      graceful: f.report.graceful,
      durationMs: Math.round(f.report.durationMs),
      hungRetired: f.hungRetired,
    },
  };
  return { result, lines: describe(result) };
}

function describe(r: DemoResult): string[] {
  const s = r.stream;
  const p = (name: string) => r.plugins[name];
  const lines = [`Demo summary (${r.seconds} s)`];
  const notRunning = Object.entries(r.running).filter(([, v]) =>
    v !== "running" && v !== "started"
  );
  lines.push(
    `  components running at the end: ${Object.keys(r.running).length - notRunning.length} of ${
      Object.keys(r.running).length
    }` +
      (notRunning.length === 0 ? "" : ` (${notRunning.map(([k, v]) => `${k}: ${v}`).join(", ")})`),
  );
  lines.push(
    `  stream: ${s.published} readings, ${s.framesSent} frames of ${s.frameBytes} bytes sent, ${s.framesReceived} received, ${s.framesLost} lost, ${s.framesRefused} refused; consumer counted ${s.consumerEvents} events over ${s.consumerInstances} instances (${s.consumerVersion})`,
  );
  lines.push(
    `  hot reloads: ${r.reloads.ok} ok, ${r.reloads.failed} failed${
      r.reloads.versions.length === 0 ? "" : ` (${r.reloads.versions.join(", ")})`
    }`,
  );
  const faulty = p("faulty");
  if (faulty !== undefined) {
    lines.push(
      `  faulty: ${faulty.crashes} crashes, ${faulty.restartsLoaded} restarts, ${faulty.giveUps} give-ups, ${faulty.autoUnloads} unloads`,
    );
  }
  const hung = p("hung");
  if (hung !== undefined) {
    lines.push(
      `  hung: ${hung.hangs} hangs detected, ${hung.restartsLoaded} replacements, ${hung.zombies} zombies reported`,
    );
  }
  lines.push(
    `  greedy: ${r.greedy.denied} of ${r.greedy.attempts} escape attempts denied in ${r.greedy.rounds} rounds, ${r.greedy.escaped} escaped`,
  );
  for (const [name, q] of Object.entries(r.qos)) {
    const drops = Object.entries(q.dropped).filter(([, n]) => n > 0).map(([w, n]) => `${n} ${w}`);
    lines.push(
      `  qos ${name}: ${q.releases} released, ${q.runs} ran, dropped ${
        drops.length === 0 ? "none" : drops.join(", ")
      }`,
    );
  }
  lines.push(
    `  crc: ${r.crc.jobs} offloaded jobs, ${r.crc.mismatches} wrong, ${r.crc.failures} failed`,
  );
  lines.push(
    `  faults raised: ${r.faults.raised.join(", ") || "none"}; healed: ${
      r.faults.healed.join(", ") || "none"
    }; held at the end: ${r.faults.held.join(", ") || "none"}`,
  );
  lines.push(
    `  shutdown: ${
      r.shutdown.graceful ? "graceful" : "NOT graceful"
    } in ${r.shutdown.durationMs} ms (the hung plugin retired before it: ${r.shutdown.hungRetired})`,
  );
  lines.push(r.ok ? "  all checks passed" : `  CHECKS FAILED: ${r.failures.join("; ")}`);
  return lines;
}
