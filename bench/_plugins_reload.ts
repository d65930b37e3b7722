// Case `reload` of bench:plugins: a consumer plugin is hot-reloaded again and
// again while a kernel task publishes a sequence number every millisecond.
// Rounds interleave an idle window (the producer alone: the baseline of its
// lateness) and a burst of reloads. Figures: the switch time (start of
// reload() to the old instance ended), events lost / duplicated / reordered
// (from the consumer's [seq, count] acknowledgements), the producer's p99
// lateness during switches and idle, and RSS growth from an early round to
// the end. RSS is read twice at each end:
// - settled (`rss_growth_bytes`): after a memory-reducing GC, which gives
//   back the young generation V8 grew under load (V8's memory reducer runs
//   one by itself once the kernel is quiet for a few seconds): what the
//   reloads left behind;
// - busy (`rss_growth_busy_bytes`): right after a full GC, with the young
//   generation as V8 sized it under the load (`young_gen_growth_bytes`: the
//   new spaces' size, which V8 raises with the bytes that survive scavenges
//   up to its semi-space cap and which a full GC does not give back) and the
//   rest (`rss_growth_less_young_gen_bytes`).
// And the JavaScript heap in use (`heap_growth_bytes`, which includes the
// telemetry ring filling up to its capacity). Inline: as many reloads as its
// cap allows (each fresh import leaks the old module), the heap growth per
// reload, and one more reload that the cap must refuse.
//
// Each subject runs in a process of its own (this file is its program), so
// what one subject made V8 and the C allocator grow does not carry into the
// next. For worker and process, a control subject (`-no-reload`) runs the
// same kernel, consumer, producer and rounds for the same time with no
// reload (each reload replaced by a pause of the mean switch time): the RSS
// the event stream alone adds, which the reload row subtracts
// (`rss_growth_beyond_no_reload_bytes`).
import { getHeapSpaceStatistics } from "node:v8";
import type { BenchResult } from "./_report.ts";
import { progress, round } from "./_report.ts";
import { benchKernel, benchManifest, childJson, GIVE_UP_MS, percentile } from "./_plugins_util.ts";

type Isolation = "inline" | "worker" | "process";

const gc = (globalThis as { gc?: () => void }).gc;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The size of the kernel isolate's young generation (its new spaces), bytes. */
function youngGenBytes(): number {
  let bytes = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_name === "new_space" || space.space_name === "new_large_object_space") {
      bytes += space.space_size;
    }
  }
  return bytes;
}

/** What `--expose-gc` gives; with options, V8's own kinds of collection. */
type Gc = (options?: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;

/**
 * RSS and heap after a memory-reducing collection: the one V8's memory
 * reducer runs by itself in a quiet isolate (about 8 s after a full GC),
 * which also shrinks the young generation V8 grew under load back to its
 * minimum and gives its pages back. Taken here at once instead of waiting.
 */
function settledReading(): { rss: number; heap: number } {
  (gc as Gc | undefined)?.({ type: "major", execution: "sync", flavor: "last-resort" });
  const { rss, heapUsed } = Deno.memoryUsage();
  return { rss, heap: heapUsed };
}

/** Events the bench keeps track of (a 1 kHz producer for about 17 minutes). */
const MAX_EVENTS = 1 << 20;

/** Samples in memory taken up front. */
class Samples {
  readonly #buffer: Float64Array;
  #n = 0;
  constructor(capacity: number) {
    this.#buffer = new Float64Array(capacity);
  }
  push(value: number): void {
    if (this.#n < this.#buffer.length) this.#buffer[this.#n++] = value;
  }
  values(): number[] {
    return Array.from(this.#buffer.subarray(0, this.#n));
  }
}

/** Reloads per subject. */
function reloadsOf(isolation: Isolation, quick: boolean): number {
  if (isolation === "inline") return quick ? 30 : 100;
  if (isolation === "worker") return quick ? 40 : 1000;
  return quick ? 12 : 1000;
}

/**
 * Runs the `reload` case for one host; with `pauseMs`, its control: the
 * same rounds with a pause of that long in place of each reload.
 */
async function reloadSubject(
  isolation: Isolation,
  quick: boolean,
  pauseMs?: number,
  suffix = "",
): Promise<BenchResult> {
  const control = pauseMs !== undefined;
  const reloads = reloadsOf(isolation, quick);
  const rounds = Math.min(10, reloads);
  const perRound = Math.ceil(reloads / rounds);
  const idleMs = quick ? 100 : 250;
  const b = await benchKernel(isolation === "inline" ? { maxInlineReloads: reloads } : {});
  try {
    const { kernel } = b;
    const name = `reload-${isolation}`;
    await kernel.plugins.load(benchManifest(name, "_plugins_reload_consumer.ts", isolation, {
      capabilities: ["publish", "subscribe"],
    }));
    // Checked as they arrive, into memory taken before the first RSS
    // reading, so the bench's own bookkeeping does not count as growth.
    const seen = new Uint8Array(MAX_EVENTS);
    let acked = 0;
    let duplicated = 0;
    let reordered = 0;
    using _acks = kernel.bus.topic<[number, number]>("rl.ack").subscribe(([s, count]) => {
      acked++;
      if (s >= 0 && s < MAX_EVENTS) {
        if (seen[s] === 1) duplicated++;
        seen[s] = 1;
      }
      if (count !== s + 1) reordered++;
    });
    const seq = kernel.bus.topic<number>("rl.seq");
    let sent = 0;
    let switching = false;
    const lateIdle = new Samples(MAX_EVENTS);
    const lateSwitch = new Samples(MAX_EVENTS);
    const producer = kernel.periodic({
      name: "rl-producer",
      periodMs: 1,
      run: (ctx) => {
        const lateUs = (kernel.clock.now() - ctx.release) * 1000;
        (switching ? lateSwitch : lateIdle).push(lateUs);
        seq.publish(sent++);
      },
    });
    const switches: number[] = [];
    const failures: string[] = [];
    let rss0 = NaN;
    let heap0 = NaN;
    let young0 = NaN;
    let settled0 = { rss: NaN, heap: NaN };
    let done = 0;
    try {
      for (let r = 0; r < rounds && done < reloads; r++) {
        progress(
          `plugins: reload ${isolation}${control ? " (no reload)" : ""} round ${r + 1}/${rounds}`,
        );
        switching = false;
        await sleep(idleMs);
        switching = true;
        for (let i = 0; i < perRound && done < reloads; i++, done++) {
          if (control) {
            await sleep(pauseMs);
            continue;
          }
          const report = await kernel.plugins.reload(name);
          if (report.ok) switches.push(report.durationMs);
          else failures.push(`${report.failedPhase}: ${report.reason}`);
        }
        switching = false;
        if (r === 0) {
          gc?.();
          rss0 = Deno.memoryUsage().rss;
          heap0 = Deno.memoryUsage().heapUsed;
          young0 = youngGenBytes();
          // V8 grows the young generation again from its minimum after this.
          settled0 = settledReading();
        }
      }
    } finally {
      producer.cancel();
    }
    // Every event sent must come back once: wait for the stragglers.
    const giveUp = performance.now() + GIVE_UP_MS;
    while (acked < sent && performance.now() < giveUp) await sleep(5);
    gc?.();
    const rss1 = Deno.memoryUsage().rss;
    const heap1 = Deno.memoryUsage().heapUsed;
    const youngGrowth = youngGenBytes() - young0;
    const settled1 = settledReading();
    let lost = 0;
    for (let s = 0; s < Math.min(sent, MAX_EVENTS); s++) if (seen[s] === 0) lost++;
    const mean = switches.reduce((a, s) => a + s, 0) / Math.max(1, switches.length);
    const row: BenchResult = {
      case: "reload",
      subject: `chronetix:${isolation}${control ? "-no-reload" : ""}${suffix}`,
      ...(control ? { pause_ms: round(pauseMs, 2) } : {
        switch_p50_ms: round(percentile(switches, 50), 2),
        switch_p99_ms: round(percentile(switches, 99), 2),
        switch_mean_ms: round(mean, 2),
      }),
      lost_events: lost,
      duplicated_events: duplicated,
      reordered_events: reordered,
      producer_p99_us: round(percentile(lateSwitch.values(), 99), 0),
      producer_p99_idle_us: round(percentile(lateIdle.values(), 99), 0),
      rss_growth_bytes: settled1.rss - settled0.rss,
      rss_growth_busy_bytes: rss1 - rss0,
      young_gen_growth_bytes: youngGrowth,
      rss_growth_less_young_gen_bytes: rss1 - rss0 - youngGrowth,
      heap_growth_bytes: heap1 - heap0,
      heap_growth_settled_bytes: settled1.heap - settled0.heap,
      reloads: switches.length,
      events: sent,
      failed_reloads: failures.length,
    };
    if (isolation === "inline" && !control) {
      row.leak_bytes_per_reload = round((heap1 - heap0) / Math.max(1, done - perRound), 0);
      const past = await kernel.plugins.reload(name);
      row.cap_enforced = !past.ok && (past.reason ?? "").includes("maxInlineReloads") ? 1 : 0;
      row.inline_reload_cap = reloads;
    }
    if (failures.length > 0) progress(`plugins: reload ${isolation}: ${failures[0]}`);
    if (quick) row.note = control ? `quick: ${done} pauses` : `quick: ${switches.length} reloads`;
    await kernel.plugins.unload(name, { graceMs: 1000 });
    return row;
  } finally {
    await b.close();
  }
}

/** Runs one subject in a process of its own; its row is the last line it prints. */
async function inChild(
  isolation: Isolation,
  quick: boolean,
  pauseMs?: number,
  semiSpaceMb?: number,
): Promise<BenchResult> {
  const args = [isolation, quick ? "quick" : "full", String(pauseMs ?? "")];
  const flags = semiSpaceMb === undefined ? [] : [`--max-semi-space-size=${semiSpaceMb}`];
  if (semiSpaceMb !== undefined) args.push(`-semi-space-${semiSpaceMb}mb`);
  return await childJson(
    `reload ${isolation}`,
    new URL(import.meta.url),
    args,
    true,
    flags,
  ) as BenchResult;
}

/** The semi-space cap of the `-semi-space-2mb` subjects, MB (V8's default is 16 here). */
const SEMI_SPACE_MB = 2;

/**
 * The `reload` case: one row per host, each from a process of its own; for
 * worker and process, a `-no-reload` control row after it.
 */
export async function reloadCase(quick: boolean): Promise<BenchResult[]> {
  const rows: BenchResult[] = [];
  for (const isolation of ["inline", "worker", "process"] as const) {
    const row = await inChild(isolation, quick);
    rows.push(row);
    if (isolation === "inline") continue;
    const control = await inChild(isolation, quick, Number(row.switch_mean_ms));
    row.rss_growth_no_reload_bytes = Number(control.rss_growth_bytes);
    row.rss_growth_beyond_no_reload_bytes = Number(row.rss_growth_bytes) -
      Number(control.rss_growth_bytes);
    rows.push(control);
    // The same reloads in a kernel whose young generation V8 may not grow
    // past SEMI_SPACE_MB per semi-space (`--v8-flags=--max-semi-space-size`).
    const capped = await inChild(isolation, quick, undefined, SEMI_SPACE_MB);
    capped.v8_flags = `--max-semi-space-size=${SEMI_SPACE_MB}`;
    rows.push(capped);
  }
  return rows;
}

if (import.meta.main) {
  const [isolation, mode, pause, suffix] = Deno.args;
  if (isolation !== "inline" && isolation !== "worker" && isolation !== "process") {
    throw new TypeError(
      `Cannot run a reload subject as its host must be inline, worker or process: current value is ${isolation}`,
    );
  }
  const row = await reloadSubject(
    isolation,
    mode === "quick",
    pause === undefined || pause === "" ? undefined : Number(pause),
    suffix,
  );
  console.log(JSON.stringify(row));
  Deno.exit(0); // the parent waits for this process to end: nothing left may hold it
}
