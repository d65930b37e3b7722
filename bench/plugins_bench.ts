/**
 * `deno task bench:plugins [--quick] [--json] [--case a,b]`: what a plugin costs in each
 * isolation level (subjects `chronetix:inline`, `chronetix:worker`,
 * `chronetix:process`).
 *
 * - `call-overhead`: a tiny body run as a periodic task every 0.1 ms
 *   (`missedTicks: "burst"`) by each host, and as a plain kernel task
 *   (subject `kernel-task`, the baseline, with a queue cap that lets its
 *   bursts run). Every subject's timer wakes about once a millisecond and
 *   runs the releases due in one batch (about ten): the batched case the
 *   target names, so the figure is the per-run cost of each host's run path
 *   rather than the cost of a thread wake-up (a wake-up per run costs tens
 *   of µs on this VM, the same in every thread; `deno task bench:drift`
 *   measures wake-ups). Interleaved rounds in a shuffled order;
 *   `cpu_us_per_run` is the process's CPU time (every thread) per run, plus,
 *   for the process host, the plugin process's own CPU
 *   (`/proc/<pid>/task/<tid>/schedstat`, read by `sh`: Deno refuses `/proc`
 *   without --allow-all); `us_per_run` is that minus the kernel task's.
 *   Live figures (heartbeats, watchdogs of the loaded plugins) are spread
 *   over every subject alike. The kernel runs the `efficient` profile
 *   (timers only), as the plugins' threads do.
 * - `start`: `kernel.plugins.load(manifest)` until it resolves (the plugin
 *   is `started`; its `start` hook is empty, so this is load → ready plus
 *   one call), then unloaded; `first_load_ms` is the first load, which also
 *   audits the import graph (`deno info`) for worker and process.
 * - `crash-restart`: a plugin that throws as soon as it starts, restarted
 *   at once (backoff 0) by the supervisor: `restart_p99_ms` from the crash
 *   seen (telemetry `exit`) to the new instance started (`restart_loaded`);
 *   `rss_growth_bytes` of the kernel's process between an early cycle and
 *   the last (after a GC each time).
 * - `hang`: a task that spins forever. `detect_after_budget_ms` is when the
 *   host saw it hung minus (spin start + budget), worst of the trials; the
 *   budget is the task's budget for a worker (the watchdog reads the running
 *   task from the shared block) and `hangMs` of heartbeat silence for a
 *   process. `kill_after_detect_ms`: the process gone (SIGTERM, exit, pipes
 *   closed) after detection; `null` for a worker, which Deno cannot stop
 *   (the zombie is counted, and its CPU measured). Each worker trial runs in
 *   a child process so the zombie thread dies with it. Inline plugins have
 *   no hang row: a spinning inline plugin stops the kernel with it.
 * - `reload`: hot reloads of a consumer under a kernel task publishing a
 *   sequence number every millisecond (bench/_plugins_reload.ts):
 *   `switch_p50_ms` / `switch_p99_ms` (start of `reload()` to the old
 *   instance ended), `lost_events`, `duplicated_events`, `reordered_events`,
 *   the producer's p99 lateness during switches and in interleaved idle
 *   windows (`producer_p99_us`, `producer_p99_idle_us`), `rss_growth_bytes`
 *   (1,000 reloads for worker and process; RSS read after a memory-reducing
 *   GC at both ends, which gives back the young generation V8 grew under
 *   load, as V8 does by itself once the kernel is quiet), and
 *   `rss_growth_busy_bytes` (read after a plain GC, the young generation as
 *   V8 sized it) with its split into `young_gen_growth_bytes` and
 *   `rss_growth_less_young_gen_bytes`; inline: as many as its cap, with
 *   `leak_bytes_per_reload` and `cap_enforced`. Each subject runs in a
 *   process of its own; worker and process have a control subject
 *   (`chronetix:worker-no-reload`, `chronetix:process-no-reload`): the same
 *   producer, consumer and rounds for the same time, each reload replaced
 *   by a pause of the mean switch time, whose RSS growth is the event
 *   stream's alone (`rss_growth_no_reload_bytes` and
 *   `rss_growth_beyond_no_reload_bytes` on the reload row); and a third
 *   subject (`chronetix:worker-semi-space-2mb`, `chronetix:process-semi-space-2mb`):
 *   the same reloads in a kernel run with `--v8-flags=--max-semi-space-size=2`,
 *   which caps the young generation V8 otherwise grows in steps.
 * - `crash-loop`: a 1 kHz kernel task (profile `precise`) while a plugin
 *   crash-loops (crashes 25 ms after each start, restarted at once), against
 *   the same task with no plugin, interleaved: `kernel_task_p99_us`,
 *   `kernel_task_p99_idle_us` and their `p99_ratio` (bench/_crashloop_timing.ts);
 *   `chronetix:worker` is the worker host as it comes (a restart's Worker is
 *   created on a spawner thread, not the kernel's), `chronetix:worker-direct`
 *   the same with `spawner: false`; for worker and process, a third segment
 *   with a stand-in process that boots what the host boots at the same rate
 *   and runs no kernel (`kernel_task_p99_stand_in_us`, `p99_ratio_stand_in`,
 *   `p99_beyond_stand_in`: the kernel's own share, `stand_in_boots_per_s`).
 * - `--case a,b` runs only the named cases.
 *
 * @module
 */
import process from "node:process";
import {
  type BenchResult,
  type BenchTarget,
  parseBenchArgs,
  progress,
  report,
  round,
} from "./_report.ts";
import { type Go, tinyBody } from "./_plugins_body.ts";
import { reloadCase } from "./_plugins_reload.ts";
import { crashLoopCase } from "./_crashloop_timing.ts";
import {
  type BenchKernel,
  benchKernel,
  benchManifest,
  childJson,
  childPids,
  GIVE_UP_MS,
  HANG,
  type HangSample,
  measureHang,
  nextEvent,
  percentile,
  processCpuUs,
} from "./_plugins_util.ts";

const CASES = ["start", "call-overhead", "crash-restart", "hang", "reload", "crash-loop"] as const;

/**
 * `--case a,b` (or `--case=a,b`) runs only those cases; the other flags go to
 * parseBenchArgs.
 */
function caseFilter(argv: readonly string[]): { only: Set<string> | undefined; rest: string[] } {
  const rest: string[] = [];
  let only: Set<string> | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg !== "--case" && !arg.startsWith("--case=")) {
      rest.push(arg);
      continue;
    }
    const value = arg === "--case" ? argv[++i] ?? "" : arg.slice("--case=".length);
    only ??= new Set();
    for (const name of value.split(",").map((v) => v.trim()).filter((v) => v !== "")) {
      if (!(CASES as readonly string[]).includes(name)) {
        console.error(
          `Cannot run bench:plugins as '--case' must name cases of ${
            CASES.join(", ")
          }: current value is ${value}`,
        );
        Deno.exit(2);
      }
      only.add(name);
    }
  }
  return { only, rest };
}

const filter = caseFilter(Deno.args);
const args = filter.rest.length === Deno.args.length
  ? parseBenchArgs("plugins")
  : { quick: filter.rest.includes("--quick"), json: filter.rest.includes("--json") };
for (const arg of filter.rest) {
  if (arg === "--quick" || arg === "--json") continue;
  console.error(
    `Cannot run bench:plugins as '${arg}' is not a known flag: use --quick, --json and/or --case`,
  );
  Deno.exit(2);
}
const quick = args.quick;
const ISOLATIONS = ["inline", "worker", "process"] as const;
type Isolation = typeof ISOLATIONS[number];
const subjectOf = (isolation: Isolation) => `chronetix:${isolation}`;
const KERNEL_TASK = "kernel-task";

const OVERHEAD = { periodMs: 0.1, runs: quick ? 10_000 : 20_000, rounds: quick ? 3 : 5 };
const STARTS = quick ? 8 : 30;
const CYCLES: Record<Isolation, number> = quick
  ? { inline: 50, worker: 50, process: 20 }
  : { inline: 200, worker: 200, process: 200 };
const HANG_TRIALS = quick ? 2 : 5;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const gc = (globalThis as { gc?: () => void }).gc;

function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Runs `body` with a fresh kernel; on failure prints the kernel's last log lines. */
async function withKernel<T>(what: string, body: (b: BenchKernel) => Promise<T>): Promise<T> {
  const b = await benchKernel();
  try {
    return await body(b);
  } catch (error) {
    progress(`plugins: ${what} failed: ${error instanceof Error ? error.message : error}`);
    for (const line of b.logger.lines.slice(-10)) progress(`  ${line}`);
    throw error;
  } finally {
    await b.close();
  }
}

// ---- start ----

async function startCase(): Promise<BenchResult[]> {
  return await withKernel("start", async (b) => {
    const plugins = b.kernel.plugins;
    const manifest = (isolation: Isolation) =>
      benchManifest(`start-${isolation}`, "_plugins_overhead.ts", isolation, {
        capabilities: ["publish", "subscribe"],
      });
    const loadOnce = async (isolation: Isolation) => {
      const t0 = performance.now();
      await plugins.load(manifest(isolation));
      const ms = performance.now() - t0;
      await plugins.unload(`start-${isolation}`);
      return ms;
    };
    const first = new Map<Isolation, number>();
    for (const isolation of ISOLATIONS) first.set(isolation, await loadOnce(isolation));
    const samples = new Map<Isolation, number[]>(ISOLATIONS.map((i) => [i, []]));
    const random = seededRandom(7);
    for (let i = 0; i < STARTS; i++) {
      if (i % 10 === 0) progress(`plugins: start ${i + 1}-${Math.min(STARTS, i + 10)}/${STARTS}`);
      for (const isolation of shuffled(ISOLATIONS, random)) {
        samples.get(isolation)!.push(await loadOnce(isolation));
      }
    }
    const p50 = (i: Isolation) => percentile(samples.get(i)!, 50);
    return ISOLATIONS.map((isolation) => {
      const row: BenchResult = {
        case: "start",
        subject: subjectOf(isolation),
        p50_ms: round(p50(isolation), 2),
        p99_ms: round(percentile(samples.get(isolation)!, 99), 2),
        loads: STARTS,
        first_load_ms: round(first.get(isolation)!, 1),
      };
      if (isolation !== "inline") {
        row.p50_vs_inline_ratio = round(p50(isolation) / Math.max(0.01, p50("inline")), 1);
      }
      if (isolation === "process") {
        row.p50_vs_worker_ratio = round(p50("process") / Math.max(0.01, p50("worker")), 1);
      }
      return row;
    });
  });
}

// ---- call-overhead ----

interface Segment {
  cpuUs: number;
  childUs: number;
  runs: number;
  wallMs: number;
}

async function overheadCase(): Promise<BenchResult[]> {
  return await withKernel("call-overhead", async (b) => {
    const { kernel } = b;
    for (const isolation of ISOLATIONS) {
      await kernel.plugins.load(
        benchManifest(`ovh-${isolation}`, "_plugins_overhead.ts", isolation, {
          capabilities: ["publish", "subscribe"],
        }),
      );
    }
    const children = childPids("_plugins_overhead");
    const child = children.length === 1 ? children[0] : undefined;
    if (child === undefined) {
      progress(`plugins: call-overhead: the plugin process's CPU is not measured (no /proc entry)`);
    }
    const subjects = [KERNEL_TASK, ...ISOLATIONS.map(subjectOf)];
    const segment = async (subject: string, n: number, runs: number): Promise<Segment> => {
      const { periodMs } = OVERHEAD;
      const isolation = subject.slice("chronetix:".length) as Isolation;
      let finished: Promise<unknown>;
      let startRuns: () => void;
      if (subject === KERNEL_TASK) {
        const { promise, resolve } = Promise.withResolvers<void>();
        finished = promise;
        startRuns = () => {
          const handle = kernel.periodic({
            name: `ovh-kernel-${n}`,
            periodMs,
            missedTicks: "burst",
            queueCap: 10_000,
            run: tinyBody(runs, () => {
              handle.cancel();
              resolve();
            }),
          });
        };
      } else {
        finished = nextEvent<{ round: number }>(
          kernel.bus,
          `ovh.${isolation}.done`,
          (e) => e.round === n,
        );
        startRuns = () =>
          kernel.bus.topic<Go>(`ovh.${isolation}.go`).publish({ round: n, runs, periodMs });
      }
      const childCpu = () =>
        subject === subjectOf("process") && child !== undefined ? processCpuUs(child) : 0;
      const child0 = childCpu();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      startRuns();
      await finished;
      const wallMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      return { cpuUs: cpu.user + cpu.system, childUs: childCpu() - child0, runs, wallMs };
    };
    const acc = new Map<string, Segment>(
      subjects.map((s) => [s, { cpuUs: 0, childUs: 0, runs: 0, wallMs: 0 }]),
    );
    const random = seededRandom(11);
    let n = 0;
    for (let r = 0; r <= OVERHEAD.rounds; r++) {
      // Round 0 warms up (JIT, first timers) and is not counted.
      progress(
        `plugins: call-overhead round ${r}/${OVERHEAD.rounds}${r === 0 ? " (warm-up)" : ""}`,
      );
      for (const subject of shuffled(subjects, random)) {
        const s = await segment(subject, n++, r === 0 ? OVERHEAD.runs / 5 : OVERHEAD.runs);
        if (r > 0) {
          const a = acc.get(subject)!;
          a.cpuUs += s.cpuUs;
          a.childUs += s.childUs;
          a.runs += s.runs;
          a.wallMs += s.wallMs;
        }
        await sleep(10);
      }
    }
    const perRun = (s: string) => {
      const a = acc.get(s)!;
      return (a.cpuUs + (Number.isFinite(a.childUs) ? a.childUs : 0)) / a.runs;
    };
    const base = perRun(KERNEL_TASK);
    return subjects.map((subject) => {
      const a = acc.get(subject)!;
      const row: BenchResult = {
        case: "call-overhead",
        subject,
        us_per_run: subject === KERNEL_TASK ? 0 : round(perRun(subject) - base, 3),
        cpu_us_per_run: round(perRun(subject), 3),
        runs: a.runs,
        rate_hz: round(a.runs / (a.wallMs / 1000), 0),
      };
      if (subject === subjectOf("process")) {
        row.child_us_per_run = child === undefined ? "not measured" : round(a.childUs / a.runs, 3);
      }
      return row;
    });
  });
}

// ---- crash-restart ----

const rss = (): number => {
  gc?.();
  return Deno.memoryUsage().rss;
};

async function crashCase(): Promise<BenchResult[]> {
  const rows: BenchResult[] = [];
  for (const isolation of ISOLATIONS) {
    const cycles = CYCLES[isolation];
    const warm = Math.max(5, Math.round(cycles / 10));
    progress(`plugins: crash-restart ${isolation}: ${cycles} cycles`);
    rows.push(
      await withKernel(`crash-restart ${isolation}`, async (b) => {
        const { kernel } = b;
        const name = `crash-${isolation}`;
        const abort = new AbortController();
        const giveUp = setTimeout(() => abort.abort(), GIVE_UP_MS * 4);
        const restarts: number[] = [];
        let exitAt = NaN;
        let gcEnd = -Infinity;
        let rss0 = NaN;
        let seen = 0;
        const watched = (async () => {
          for await (
            const e of kernel.plugins.telemetry.events({ from: "next", signal: abort.signal })
          ) {
            if (e.plugin !== name) continue;
            if (e.kind === "exit") exitAt = e.atMs;
            else if (e.kind === "restart_give_up" || e.kind === "auto_unload") {
              throw new Error(`the supervisor gave up on "${name}": ${e.reason}`);
            } else if (e.kind === "restart_loaded") {
              seen++;
              // A restart whose crash came before the GC below would count the GC: left out.
              if (exitAt > gcEnd) restarts.push(e.atMs - exitAt);
              if (seen === warm) {
                rss0 = rss();
                gcEnd = kernel.clock.now();
              }
              if (seen >= cycles) return;
            }
          }
          throw new Error(`gave up after ${seen} of ${cycles} crash-restart cycles`);
        })();
        watched.catch(() => {}); // awaited below; this keeps an early failure from being unhandled
        try {
          await kernel.plugins.load(benchManifest(name, "_plugins_crash.ts", isolation, {
            restart: {
              maxRetries: 1000,
              retryWindowMs: 60_000,
              backoffInitialMs: 0,
              backoffMaxMs: 0,
              backoffJitterRatio: 0,
            },
          }));
          await watched;
        } finally {
          clearTimeout(giveUp);
          abort.abort();
        }
        const rss1 = rss();
        await kernel.plugins.unload(name, { graceMs: 1000 });
        const row: BenchResult = {
          case: "crash-restart",
          subject: subjectOf(isolation),
          restart_p99_ms: round(percentile(restarts, 99), 2),
          restart_p50_ms: round(percentile(restarts, 50), 2),
          rss_growth_bytes: rss1 - rss0,
          cycles,
          rss_measured_over_cycles: cycles - warm,
        };
        if (quick) row.note = `quick: ${cycles} cycles, not 200`;
        return row;
      }),
    );
  }
  return rows;
}

// ---- hang ----

async function workerHangTrial(): Promise<HangSample & { zombieCpuCore: number }> {
  const result = await childJson(
    "worker hang trial",
    new URL("./_plugins_worker_hang.ts", import.meta.url),
  ) as HangSample & { zombieCpuCore: number; error?: string };
  if (result.error !== undefined) throw new Error(`worker hang trial: ${result.error}`);
  return result;
}

async function hangCase(): Promise<BenchResult[]> {
  const worker: (HangSample & { zombieCpuCore: number })[] = [];
  for (let t = 0; t < HANG_TRIALS; t++) {
    progress(`plugins: hang worker trial ${t + 1}/${HANG_TRIALS} (child process)`);
    worker.push(await workerHangTrial());
  }
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "chronetix-plugins-hang-" });
  let processSamples: HangSample[] = [];
  try {
    processSamples = await withKernel("hang process", async (b) => {
      const out: HangSample[] = [];
      for (let t = 0; t < HANG_TRIALS; t++) {
        progress(`plugins: hang process trial ${t + 1}/${HANG_TRIALS}`);
        out.push(await measureHang(b, "process", dir, t));
      }
      return out;
    });
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  const worst = (values: number[]) => round(Math.max(...values), 1);
  return [
    {
      case: "hang",
      subject: subjectOf("worker"),
      detect_after_budget_ms: worst(worker.map((s) => s.detectAfterBudgetMs)),
      kill_after_detect_ms: null,
      budget_ms: HANG.taskBudgetMs,
      heartbeat_ms: HANG.heartbeatMs,
      trials: HANG_TRIALS,
      zombies: worker.reduce((n, s) => n + s.zombies, 0),
      zombie_cpu_core: round(percentile(worker.map((s) => s.zombieCpuCore), 50), 2),
      note: "kill null: a spinning Worker cannot be stopped; zombie counted",
    },
    {
      case: "hang",
      subject: subjectOf("process"),
      detect_after_budget_ms: worst(processSamples.map((s) => s.detectAfterBudgetMs)),
      kill_after_detect_ms: worst(processSamples.map((s) => s.killAfterDetectMs ?? NaN)),
      budget_ms: HANG.hangMs,
      heartbeat_ms: HANG.heartbeatMs,
      trials: HANG_TRIALS,
      zombies: processSamples.reduce((n, s) => n + s.zombies, 0),
    },
  ];
}

// ---- run ----

const started = performance.now();
const results: BenchResult[] = [];
for (
  const [name, run] of [
    ["start", startCase],
    ["call-overhead", overheadCase],
    ["crash-restart", crashCase],
    ["hang", hangCase],
    ["reload", () => reloadCase(quick)],
    ["crash-loop", () => crashLoopCase(quick)],
  ] as const
) {
  if (filter.only !== undefined && !filter.only.has(name)) continue;
  const t0 = performance.now();
  try {
    results.push(...await run());
  } catch (error) {
    progress(`plugins: case ${name} dropped: ${error instanceof Error ? error.stack : error}`);
  }
  progress(`plugins: ${name} done in ${round((performance.now() - t0) / 1000)} s`);
}
progress(`plugins: all done in ${round((performance.now() - started) / 1000)} s`);

const find = (c: string, s: string) => results.find((r) => r.case === c && r.subject === s);
const targets: BenchTarget[] = [];
const target = (name: string, row: BenchResult | undefined, figure: string, limit: number) => {
  const value = row?.[figure];
  targets.push({
    name,
    ok: typeof value === "number" && value <= limit,
    detail: row === undefined ? "not measured" : `${figure} ${value} (<= ${limit})`,
  });
};
for (const isolation of ["worker", "process"] as const) {
  target(
    `${isolation} task overhead <= 2 us per run (batched)`,
    find("call-overhead", subjectOf(isolation)),
    "us_per_run",
    2,
  );
}
for (const isolation of ["worker", "process"] as const) {
  target(
    `${isolation} hang detected <= 20 ms after its budget`,
    find("hang", subjectOf(isolation)),
    "detect_after_budget_ms",
    20,
  );
}
target(
  "process killed <= 100 ms after detection",
  find("hang", subjectOf("process")),
  "kill_after_detect_ms",
  100,
);
// "Flat": RSS is page- and allocator-granular and moves by MiBs on its own;
// a leak of one instance per cycle (a Worker isolate, ~MiBs) would show as
// hundreds of MiB over 200 cycles. Flat here: at most 64 KiB per measured
// cycle, with a floor of 4 MiB for short (quick) runs, where noise dominates.
for (const isolation of ["worker", "process"] as const) {
  const row = find("crash-restart", subjectOf(isolation));
  const over = Number(row?.rss_measured_over_cycles ?? NaN);
  target(
    `${isolation} RSS flat across crash-restart cycles (<= max(4 MiB, 64 KiB per cycle))`,
    row,
    "rss_growth_bytes",
    Math.max(4 * 1024 * 1024, 64 * 1024 * over),
  );
}
target(
  "worker hot switch p99 <= 50 ms",
  find("reload", subjectOf("worker")),
  "switch_p99_ms",
  50,
);
for (const isolation of ISOLATIONS) {
  const row = find("reload", subjectOf(isolation));
  for (const figure of ["lost_events", "duplicated_events", "reordered_events"]) {
    target(`${isolation} reload: 0 ${figure.replace("_", " ")}`, row, figure, 0);
  }
}
for (const isolation of ["worker", "process"] as const) {
  target(
    `${isolation} RSS growth after 1,000 reloads <= 10 MB (settled)`,
    find("reload", subjectOf(isolation)),
    "rss_growth_bytes",
    10 * 1024 * 1024,
  );
}
targets.push({
  name: "inline reload cap enforced",
  ok: find("reload", subjectOf("inline"))?.cap_enforced === 1,
  detail: `cap_enforced ${find("reload", subjectOf("inline"))?.cap_enforced ?? "not measured"}`,
});
report("plugins", args, results, targets);
