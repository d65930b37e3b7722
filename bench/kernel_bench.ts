/**
 * `deno task bench:kernel [--quick] [--json]`: the kernel runtime against
 * what a user would write instead, in the same run.
 *
 * - `publish-1`, `publish-10`: one synchronous publish to 1 or 10
 *   subscribers. `chronetix:bus` (`topic.publish(n)`), `EventEmitter` from
 *   `node:events` (`emit("x", n)`), `EventTarget` (`dispatchEvent(new
 *   CustomEvent("x", { detail: n }))`: an event object per dispatch, as
 *   carrying a payload needs). Every handler stores the event it got.
 *   Figure: `ops_per_s`.
 * - `task-run`: one run of a periodic task with an empty body, released by
 *   the driver on a virtual clock whose `now()` also reads
 *   `performance.now()`, so every clock read costs what a real one does.
 *   `chronetix:executor` goes through the executor (release, EDF queue,
 *   timing slots); `driver-timer` is the same body on a bare driver timer,
 *   the baseline. Figures: `per_run_ns`, and `overhead_ns`: the executor's
 *   share (its per-run cost minus the bare timer's).
 * - `offload-256`: 256 trivial jobs kept in flight on one worker, 20,000
 *   jobs. `chronetix:offload` (`pool.submit`) against `raw-postMessage`
 *   (one message per job to a worker that answers each) and `piscina`
 *   (`npm:piscina`, one thread, `pool.run`). Both pools run the same job:
 *   this file's `square` export. Figure: `us_per_job` (wall time / jobs),
 *   and the ratios `vs_raw_ratio`, `vs_piscina_ratio` (the other's time
 *   over chronetix's: above 1 is faster). If Piscina cannot run, its row
 *   says why (`error`).
 * - `channel`: send+recv pairs per second (`ops_per_s`):
 *   `chronetix:channel` against `promise-queue` (a promise per item) in one
 *   thread, and `chronetix:channel-ring` against `postMessage` to a Worker
 *   (bench/_kernel_channel.ts), each with its ratio.
 *
 * Figures are medians of several rounds after a warm-up (`--quick`: fewer,
 * shorter rounds). Under `deno bench`, this file registers the bus against
 * EventEmitter instead.
 *
 * @module
 */
import { EventEmitter } from "node:events";
import { isMainThread } from "node:worker_threads";
import { Piscina } from "piscina";
import { Driver, EventBus, Executor, OffloadPool } from "../mod.ts";
import { VirtualClock } from "../testing.ts";
import { benchChannel } from "./_kernel_channel.ts";
import {
  type BenchResult,
  type BenchTarget,
  median,
  parseBenchArgs,
  progress,
  report,
  round,
} from "./_report.ts";

let sink = 0;

/** A virtual clock whose reads cost a real clock read. */
class RealCostClock extends VirtualClock {
  override now(): number {
    sink += performance.now();
    return super.now();
  }
}

function rounds(quick: boolean): number {
  return quick ? 3 : 7;
}

function benchPublish(subscribers: number, quick: boolean): BenchResult[] {
  const n = quick ? 200_000 : 2_000_000;
  const bus = new EventBus();
  const topic = bus.topic<number>("x");
  const emitter = new EventEmitter();
  emitter.setMaxListeners(100);
  const target = new EventTarget();
  // Each handler stores the event: real work that allocates nothing (a
  // handler that summed into a float would box a number per call and
  // measure the allocator instead of the dispatch).
  let last = 0;
  for (let s = 0; s < subscribers; s++) {
    topic.subscribe((v) => void (last = v));
    emitter.on("x", (v: number) => void (last = v));
    target.addEventListener("x", (e) => void (last = (e as CustomEvent<number>).detail));
  }
  // One loop per subject, so no call site is shared between subjects (a
  // shared one turns megamorphic and taxes all of them alike).
  const subjects: [string, () => number][] = [
    ["chronetix:bus", () => {
      const start = performance.now();
      for (let i = 0; i < n; i++) topic.publish(i);
      return n / ((performance.now() - start) / 1000);
    }],
    ["EventEmitter", () => {
      const start = performance.now();
      for (let i = 0; i < n; i++) emitter.emit("x", i);
      return n / ((performance.now() - start) / 1000);
    }],
    ["EventTarget", () => {
      const m = n / 10;
      const start = performance.now();
      for (let i = 0; i < m; i++) target.dispatchEvent(new CustomEvent("x", { detail: i }));
      return m / ((performance.now() - start) / 1000);
    }],
  ];
  const rates = new Map<string, number[]>();
  for (let r = 0; r <= rounds(quick); r++) {
    for (const [name, measure] of subjects) {
      const rate = measure();
      if (r > 0) rates.set(name, [...(rates.get(name) ?? []), rate]);
    }
  }
  sink += last;
  const bus_ = median(rates.get("chronetix:bus")!);
  return subjects.map(([name]) => {
    const rate = median(rates.get(name)!);
    const result: BenchResult = {
      case: `publish-${subscribers}`,
      subject: name,
      ops_per_s: Math.round(rate),
    };
    if (name === "chronetix:bus") {
      result.vs_EventEmitter_ratio = round(bus_ / median(rates.get("EventEmitter")!), 2);
      result.vs_EventTarget_ratio = round(bus_ / median(rates.get("EventTarget")!), 1);
    }
    return result;
  });
}

function benchTaskRun(quick: boolean): BenchResult[] {
  const runs = quick ? 20_000 : 200_000;
  const perRun = (useExecutor: boolean): number => {
    const clock = new RealCostClock();
    const driver = new Driver({ clock });
    const executor = useExecutor
      ? new Executor({ driver, logger: { error() {}, warn() {}, info() {} } })
      : undefined;
    let count = 0;
    const body = () => void count++;
    if (executor !== undefined) executor.periodic({ name: "t", periodMs: 1, run: body });
    else driver.every(1, body);
    const start = performance.now();
    clock.advance(runs);
    const ms = performance.now() - start;
    if (count !== runs) throw new Error(`Expected ${runs} runs, got ${count}`);
    executor?.close();
    driver.close();
    return (ms * 1e6) / runs;
  };
  const exec: number[] = [];
  const bare: number[] = [];
  for (let r = 0; r <= rounds(quick); r++) {
    const e = perRun(true);
    const b = perRun(false);
    if (r > 0) {
      exec.push(e);
      bare.push(b);
    }
  }
  const e = median(exec);
  const b = median(bare);
  return [
    {
      case: "task-run",
      subject: "chronetix:executor",
      per_run_ns: round(e, 0),
      overhead_ns: round(e - b, 0),
    },
    { case: "task-run", subject: "driver-timer", per_run_ns: round(b, 0) },
  ];
}

/** The offload job of both pools (this module is also their job module). */
export function square(n: number): number {
  return n * n;
}

const SQUARE_JOB = new URL("#square", import.meta.url);
const RAW_WORKER = URL.createObjectURL(
  new Blob(["self.onmessage = (e) => self.postMessage(e.data * e.data);"], {
    type: "text/javascript",
  }),
);

async function offloadRound(total: number, inFlight: number): Promise<number> {
  await using pool = new OffloadPool({
    jobs: { square: SQUARE_JOB },
    minWorkers: 1,
    maxWorkers: 1,
    queueCap: inFlight * 2,
  });
  await pool.submit("square", 1); // the worker has loaded the job module
  let next = 0;
  const start = performance.now();
  await new Promise<void>((resolve, reject) => {
    let done = 0;
    const submitOne = () => {
      const n = next++;
      pool.submit<number>("square", n).then((v) => {
        if (v !== n * n) reject(new Error(`Wrong result for ${n}: ${v}`));
        if (++done === total) resolve();
        else if (next < total) submitOne();
      }, reject);
    };
    for (let i = 0; i < inFlight; i++) submitOne();
  });
  return ((performance.now() - start) * 1000) / total;
}

async function piscinaRound(total: number, inFlight: number): Promise<number> {
  const pool = new Piscina({
    filename: import.meta.url,
    name: "square",
    minThreads: 1,
    maxThreads: 1,
  });
  try {
    await pool.run(1); // the worker has loaded the job module
    let next = 0;
    const start = performance.now();
    await new Promise<void>((resolve, reject) => {
      let done = 0;
      const runOne = () => {
        const n = next++;
        (pool.run(n) as Promise<number>).then((v) => {
          if (v !== n * n) reject(new Error(`Wrong result for ${n}: ${v}`));
          if (++done === total) resolve();
          else if (next < total) runOne();
        }, reject);
      };
      for (let i = 0; i < inFlight; i++) runOne();
    });
    return ((performance.now() - start) * 1000) / total;
  } finally {
    await pool.destroy();
  }
}

async function rawRound(total: number, inFlight: number): Promise<number> {
  const worker = new Worker(RAW_WORKER, { type: "module" });
  try {
    await new Promise<void>((resolve) => {
      worker.onmessage = () => resolve();
      worker.postMessage(1);
    });
    let next = 0;
    let done = 0;
    const start = performance.now();
    await new Promise<void>((resolve, reject) => {
      worker.onmessage = ({ data }) => {
        if (typeof data !== "number") reject(new Error("bad reply"));
        if (++done === total) resolve();
        else if (next < total) worker.postMessage(next++);
      };
      for (let i = 0; i < inFlight; i++) worker.postMessage(next++);
    });
    return ((performance.now() - start) * 1000) / total;
  } finally {
    worker.terminate();
  }
}

async function benchOffload(quick: boolean): Promise<BenchResult[]> {
  const total = quick ? 4_000 : 20_000;
  const pool: number[] = [];
  const raw: number[] = [];
  const piscina: number[] = [];
  let piscinaError: string | undefined;
  const n = quick ? 2 : 5;
  for (let r = 0; r <= n; r++) {
    progress(`kernel offload-256: round ${r}/${n}`);
    const p = await offloadRound(total, 256);
    const w = await rawRound(total, 256);
    let q = NaN;
    if (piscinaError === undefined) {
      try {
        q = await piscinaRound(total, 256);
      } catch (error) {
        piscinaError = `piscina did not run in Deno: ${
          error instanceof Error ? error.message : String(error)
        }`;
        progress(piscinaError);
      }
    }
    if (r > 0) {
      pool.push(p);
      raw.push(w);
      if (piscinaError === undefined) piscina.push(q);
    }
  }
  const p = median(pool);
  const w = median(raw);
  const q = piscinaError === undefined ? median(piscina) : undefined;
  return [
    {
      case: "offload-256",
      subject: "chronetix:offload",
      us_per_job: round(p, 2),
      vs_raw_ratio: round(w / p, 2),
      vs_piscina_ratio: q === undefined ? null : round(q / p, 2),
    },
    { case: "offload-256", subject: "raw-postMessage", us_per_job: round(w, 2) },
    piscinaError === undefined
      ? { case: "offload-256", subject: "piscina", us_per_job: round(q!, 2) }
      : { case: "offload-256", subject: "piscina", us_per_job: null, error: piscinaError },
  ];
}

async function main(): Promise<void> {
  const args = parseBenchArgs("kernel");
  const results: BenchResult[] = [];
  progress("kernel publish-1");
  results.push(...benchPublish(1, args.quick));
  progress("kernel publish-10");
  results.push(...benchPublish(10, args.quick));
  progress("kernel task-run");
  results.push(...benchTaskRun(args.quick));
  results.push(...await benchOffload(args.quick));
  progress("kernel channel");
  results.push(...await benchChannel(args.quick));
  const find = (c: string, s: string) => results.find((r) => r.case === c && r.subject === s)!;
  const targets: BenchTarget[] = [];
  for (const c of ["publish-1", "publish-10"]) {
    const bus = find(c, "chronetix:bus");
    targets.push({
      name: `${c}: bus faster than EventEmitter`,
      ok: (bus.vs_EventEmitter_ratio as number) > 1,
      detail: `${bus.vs_EventEmitter_ratio}x`,
    }, {
      name: `${c}: bus >= 20x EventTarget`,
      ok: (bus.vs_EventTarget_ratio as number) >= 20,
      detail: `${bus.vs_EventTarget_ratio}x`,
    });
  }
  const overhead = find("task-run", "chronetix:executor").overhead_ns as number;
  targets.push({
    name: "executor overhead per sync run <= 1,000 ns",
    ok: overhead <= 1000,
    detail: `${overhead} ns`,
  });
  const offload = find("offload-256", "chronetix:offload");
  const raw = find("offload-256", "raw-postMessage");
  targets.push({
    name: "offload round trip at 256 in flight <= 5 us per job",
    ok: (offload.us_per_job as number) <= 5,
    detail: `${offload.us_per_job} us`,
  }, {
    name: "offload at least as fast as the raw postMessage loop",
    ok: (offload.us_per_job as number) <= (raw.us_per_job as number),
    detail: `${offload.us_per_job} vs ${raw.us_per_job} us`,
  });
  const piscina = find("offload-256", "piscina");
  targets.push({
    name: "offload at least as fast as Piscina per job",
    ok: typeof piscina.us_per_job === "number" &&
      (offload.us_per_job as number) <= piscina.us_per_job,
    detail: typeof piscina.us_per_job === "number"
      ? `${offload.us_per_job} vs ${piscina.us_per_job} us (${offload.vs_piscina_ratio}x)`
      : String(piscina.error),
  });
  report("kernel", args, results, targets);
  if (sink === 42) console.error("");
}

if (import.meta.main) {
  await main();
} else if (isMainThread) {
  // (Imported by a job worker as its job module, it registers nothing.)
  // `deno bench`: one publish to one subscriber, against EventEmitter.
  const bus = new EventBus();
  const topic = bus.topic<number>("x");
  const emitter = new EventEmitter();
  let last = 0;
  topic.subscribe((v) => void (last = v));
  emitter.on("x", (v: number) => void (last = v));
  Deno.bench({ group: "publish-1", name: "chronetix:bus" }, () => void topic.publish(++last));
  Deno.bench({ group: "publish-1", name: "EventEmitter", baseline: true }, () => {
    emitter.emit("x", ++last);
  });
}
