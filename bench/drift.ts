/**
 * `deno task bench:drift [--quick] [--json]`: lateness and drift of a
 * periodic timer at 100 Hz and 1 kHz, for each Chronetix precision profile
 * and, in the same run, what a user would use instead: a drift-corrected
 * `setTimeout` chain, `setInterval`, and npm `nanotimer`.
 *
 * Tick k of every subject is judged against the same ideal schedule
 * `t0 + k * period`; lateness is the fire time minus that. Chronetix runs
 * with the `"burst"` policy here, so every tick fires and is counted, as in
 * the baselines. CPU is the process's CPU time over wall time while only that
 * subject runs (the waker Worker's thread included).
 *
 * @module
 */
import process from "node:process";
import NanoTimer from "nanotimer";
import { Driver, type PrecisionProfile } from "../mod.ts";
import {
  type BenchResult,
  type BenchTarget,
  parseBenchArgs,
  progress,
  report,
  round,
} from "./_report.ts";

const args = parseBenchArgs("drift");
const CASES = [
  { name: "100Hz", periodMs: 10, ticks: args.quick ? 500 : 3000 },
  { name: "1kHz", periodMs: 1, ticks: args.quick ? 2000 : 10_000 },
];

/**
 * A periodic-timer implementation under test. `prepare` does any set-up that
 * must not count (starting a helper thread); `start` arms the timer, whose
 * first tick is due one period later, and returns a stop function.
 */
interface Subject {
  prepare?: () => Promise<void>;
  /** `t0` is the harness's anchor; subjects that can take an anchor use it. */
  start(periodMs: number, tick: () => void, t0: number): () => void;
}

const SUBJECTS: Record<string, Subject> = {
  "chronetix:efficient": chronetix("efficient"),
  "chronetix:balanced": chronetix("balanced"),
  "chronetix:precise": chronetix("precise"),
  "setTimeout-chain": {
    // What a careful user writes: re-aim each timeout at t0 + k * period.
    start(periodMs, tick, t0) {
      let k = 0;
      let id: ReturnType<typeof setTimeout> | undefined;
      const step = () => {
        tick();
        k++;
        id = setTimeout(step, Math.max(0, t0 + (k + 1) * periodMs - performance.now()));
      };
      id = setTimeout(step, t0 + periodMs - performance.now());
      return () => clearTimeout(id);
    },
  },
  "setInterval": {
    start(periodMs, tick) {
      const id = setInterval(tick, periodMs);
      return () => clearInterval(id);
    },
  },
  "nanotimer": {
    start(periodMs, tick) {
      const timer = new NanoTimer();
      timer.setInterval(tick, "", `${Math.round(periodMs * 1000)}u`);
      return () => timer.clearInterval();
    },
  },
};

function chronetix(profile: PrecisionProfile): Subject {
  let driver: Driver | undefined;
  return {
    async prepare() {
      driver = new Driver({ profile });
      await driver.warmUp();
    },
    start(periodMs, tick, t0) {
      const d = driver!;
      d.every(periodMs, tick, { missedTicks: "burst", firstAtMs: t0 + periodMs });
      return () => d.close();
    },
  };
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

async function measure(subject: Subject, periodMs: number, ticks: number): Promise<BenchResult> {
  const lateness = new Float64Array(ticks);
  let k = 0;
  let t0 = 0;
  const { promise, resolve } = Promise.withResolvers<void>();
  const tick = () => {
    if (k >= ticks) return;
    lateness[k] = performance.now() - (t0 + (k + 1) * periodMs);
    if (++k === ticks) resolve();
  };
  await subject.prepare?.();
  const cpu0 = process.cpuUsage();
  t0 = performance.now();
  const stop = subject.start(periodMs, tick, t0);
  await promise;
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  stop();
  const tenth = Math.max(1, Math.floor(ticks / 10));
  const mean = (from: number, to: number) => {
    let s = 0;
    for (let i = from; i < to; i++) s += lateness[i]!;
    return s / (to - from);
  };
  const drift = mean(ticks - tenth, ticks) - mean(0, tenth);
  const sorted = lateness.slice().sort();
  let early = 0;
  const abs = new Float64Array(ticks);
  for (let i = 0; i < ticks; i++) {
    if (lateness[i]! < 0) early++;
    abs[i] = Math.abs(lateness[i]!);
  }
  abs.sort();
  return {
    case: "",
    subject: "",
    p50_us: round(quantile(sorted, 0.5) * 1000),
    p99_us: round(quantile(sorted, 0.99) * 1000),
    p999_us: round(quantile(sorted, 0.999) * 1000),
    max_us: round(sorted[ticks - 1]! * 1000),
    abs_p99_us: round(quantile(abs, 0.99) * 1000),
    early_pct: round((early / ticks) * 100),
    drift_us: round(drift * 1000),
    cpu_core: round((cpu.user + cpu.system) / 1000 / wallMs, 3),
    wall_ms: round(wallMs, 0),
  };
}

const results: BenchResult[] = [];
for (const c of CASES) {
  for (const [name, subject] of Object.entries(SUBJECTS)) {
    progress(`drift: ${c.name} ${name} (${c.ticks} ticks)...`);
    const r = await measure(subject, c.periodMs, c.ticks);
    results.push({ ...r, case: c.name, subject: name });
    await new Promise((r) => setTimeout(r, 100)); // let the previous subject's threads wind down
  }
}
for (const r of results) {
  const chain = results.find((x) => x.case === r.case && x.subject === "setTimeout-chain")!;
  r.p99_vs_chain_ratio = round(Number(r.p99_us) / Math.max(0.1, Number(chain.p99_us)), 4);
}

const get = (c: string, s: string) => results.find((r) => r.case === c && r.subject === s)!;
const num = (r: BenchResult, k: string) => Number(r[k]);
const targets: BenchTarget[] = [];
const target = (name: string, ok: boolean, detail: string) => targets.push({ name, ok, detail });
{
  const p = get("1kHz", "chronetix:precise");
  target("precise 1kHz p99 <= 100 us", num(p, "p99_us") <= 100, `${p.p99_us} us`);
  target("precise 1kHz p50 <= 20 us", num(p, "p50_us") <= 20, `${p.p50_us} us`);
  target("precise 1kHz CPU <= 0.25 core", num(p, "cpu_core") <= 0.25, `${p.cpu_core} core`);
  target(
    "precise 1kHz zero drift (|drift| <= 10 us)",
    Math.abs(num(p, "drift_us")) <= 10,
    `${p.drift_us} us`,
  );
  const b = get("100Hz", "chronetix:balanced");
  target("balanced 100Hz p99 <= 250 us", num(b, "p99_us") <= 250, `${b.p99_us} us`);
  target("balanced 100Hz CPU <= 0.05 core", num(b, "cpu_core") <= 0.05, `${b.cpu_core} core`);
  const chain = get("100Hz", "setTimeout-chain");
  for (const s of ["chronetix:balanced", "chronetix:precise"]) {
    const r = get("100Hz", s);
    const gain = num(chain, "p99_us") / Math.max(0.1, num(r, "p99_us"));
    target(`${s} 100Hz p99 >= 10x better than setTimeout-chain`, gain >= 10, `${round(gain)}x`);
  }
  const e = get("100Hz", "chronetix:efficient");
  target(
    "efficient 100Hz p99 lateness no worse than setTimeout-chain",
    num(e, "p99_us") <= num(chain, "p99_us") * 1.1,
    `${e.p99_us} vs ${chain.p99_us} us (the chain fires ${chain.early_pct} % of ticks early)`,
  );
  target(
    "efficient 100Hz p99 |error| no worse than setTimeout-chain",
    num(e, "abs_p99_us") <= num(chain, "abs_p99_us") * 1.1,
    `${e.abs_p99_us} vs ${chain.abs_p99_us} us`,
  );
  target(
    "efficient 100Hz zero drift (|drift| <= 100 us)",
    Math.abs(num(e, "drift_us")) <= 100,
    `${e.drift_us} us`,
  );
  target(
    "efficient 100Hz CPU no more than setTimeout-chain",
    num(e, "cpu_core") <= num(chain, "cpu_core") * 1.2 + 0.002,
    `${e.cpu_core} vs ${chain.cpu_core} core`,
  );
}
report("drift", args, results, targets);
