/**
 * `deno task bench:wheel [--quick] [--json]`: timer throughput with 1,000,000
 * pending timers, for the Chronetix wheel against `setTimeout` +
 * `clearTimeout` and a binary-heap timer queue, in the same run.
 *
 * - `schedule-cancel`: with 1M timers pending, schedule one more and cancel
 *   it, repeatedly (ops = pairs per second).
 * - `schedule-fire`: schedule 1M timers and fire them all (ops = timers per
 *   second). The wheel and the heap spread deadlines over one second of
 *   virtual time and fire by advancing; `setTimeout` cannot be advanced, so
 *   its timers all get delay 0 (its cheapest case) and the time until the
 *   last one has fired is measured.
 * - Memory: bytes per pending timer of the wheel (heap plus typed-array
 *   growth over 1M pending timers, after a full GC).
 *
 * Throughput figures are the median of several rounds after a warm-up round
 * (`--quick`: fewer rounds, and fewer pending `setTimeout`s). Memory is
 * measured once, first, while the heap is clean.
 *
 * @module
 */
import { TimerWheel } from "../mod.ts";
import { BinaryHeapTimers } from "./_binary_heap_timers.ts";
import {
  type BenchResult,
  type BenchTarget,
  median,
  parseBenchArgs,
  progress,
  report,
  round,
} from "./_report.ts";

const args = parseBenchArgs("wheel");
const PENDING = 1_000_000;
const PAIRS = 2_000_000;
const ROUNDS = args.quick ? 3 : 5;
const SET_TIMEOUT_PENDING = args.quick ? 200_000 : PENDING;

const gc = (globalThis as { gc?: () => void }).gc;
const noop = () => {};

function timed(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/** Deterministic deadlines spread over one second. */
function deadlines(n: number): Float64Array {
  const d = new Float64Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    d[i] = 1 + (x / 2147483648) * 1000;
  }
  return d;
}
const DEADLINES = deadlines(PENDING);

function wheelScheduleCancel(): number {
  const wheel = new TimerWheel({ initialCapacity: PENDING + 16 });
  for (let i = 0; i < PENDING; i++) wheel.schedule(DEADLINES[i]! + 10_000, noop);
  const ms = timed(() => {
    for (let i = 0; i < PAIRS; i++) {
      wheel.cancel(wheel.schedule(DEADLINES[i % PENDING]!, noop));
    }
  });
  return PAIRS / (ms / 1000);
}

function heapScheduleCancel(): number {
  const heap = new BinaryHeapTimers();
  for (let i = 0; i < PENDING; i++) heap.schedule(DEADLINES[i]! + 10_000, noop);
  const ms = timed(() => {
    for (let i = 0; i < PAIRS; i++) heap.cancel(heap.schedule(DEADLINES[i % PENDING]!, noop));
  });
  return PAIRS / (ms / 1000);
}

function setTimeoutScheduleCancel(): number {
  const pending: ReturnType<typeof setTimeout>[] = [];
  for (let i = 0; i < SET_TIMEOUT_PENDING; i++) pending.push(setTimeout(noop, 3_600_000));
  const pairs = Math.min(PAIRS, 500_000);
  const ms = timed(() => {
    for (let i = 0; i < pairs; i++) clearTimeout(setTimeout(noop, 1000 + (i % 1000)));
  });
  for (const id of pending) clearTimeout(id);
  return pairs / (ms / 1000);
}

function wheelScheduleFire(): number {
  const wheel = new TimerWheel({ initialCapacity: PENDING + 16 });
  let fired = 0;
  const cb = () => void fired++;
  const ms = timed(() => {
    for (let i = 0; i < PENDING; i++) wheel.schedule(DEADLINES[i]!, cb);
    for (let t = 1; t <= 1002; t++) wheel.advance(t);
  });
  if (fired !== PENDING) throw new Error(`Wheel fired ${fired} of ${PENDING} timers`);
  return PENDING / (ms / 1000);
}

function heapScheduleFire(): number {
  const heap = new BinaryHeapTimers();
  let fired = 0;
  const cb = () => void fired++;
  const ms = timed(() => {
    for (let i = 0; i < PENDING; i++) heap.schedule(DEADLINES[i]!, cb);
    for (let t = 1; t <= 1002; t++) heap.advance(t);
  });
  if (fired !== PENDING) throw new Error(`Heap fired ${fired} of ${PENDING} timers`);
  return PENDING / (ms / 1000);
}

async function setTimeoutScheduleFire(): Promise<number> {
  const n = SET_TIMEOUT_PENDING;
  let fired = 0;
  const { promise, resolve } = Promise.withResolvers<void>();
  const cb = () => {
    if (++fired === n) resolve();
  };
  const t0 = performance.now();
  for (let i = 0; i < n; i++) setTimeout(cb, 0);
  await promise;
  return n / ((performance.now() - t0) / 1000);
}

/**
 * Heap plus array-buffer bytes per pending timer. The pool doubles as it
 * grows; V8 frees the outgrown buffers' backing stores some time after the
 * GC that finds them dead, so settle (GC, pause, GC) before each reading.
 */
async function wheelBytesPerTimer(): Promise<number> {
  const settle = async () => {
    gc?.();
    await new Promise((r) => setTimeout(r, 200));
    gc?.();
  };
  await settle();
  const before = Deno.memoryUsage();
  const wheel = new TimerWheel();
  for (let i = 0; i < PENDING; i++) wheel.schedule(DEADLINES[i]!, noop);
  await settle();
  const after = Deno.memoryUsage();
  const bytes = after.heapUsed + after.external - before.heapUsed - before.external;
  if (wheel.size !== PENDING) throw new Error("Wheel lost timers");
  return bytes / PENDING;
}

async function rounds(name: string, fn: () => number | Promise<number>): Promise<number> {
  const values: number[] = [];
  progress(`wheel: ${name} warm-up...`);
  await fn();
  gc?.();
  for (let r = 0; r < ROUNDS; r++) {
    progress(`wheel: ${name} round ${r + 1}/${ROUNDS}...`);
    values.push(await fn());
    gc?.();
  }
  return median(values);
}

if (gc === undefined) {
  progress("wheel: run with --v8-flags=--expose-gc for exact memory figures");
}
const results: BenchResult[] = [];
progress("wheel: bytes per pending timer...");
const bytes = await wheelBytesPerTimer();
gc?.();
const sc = {
  wheel: await rounds("schedule-cancel chronetix:wheel", wheelScheduleCancel),
  heap: await rounds("schedule-cancel binary-heap", heapScheduleCancel),
  st: await rounds("schedule-cancel setTimeout", setTimeoutScheduleCancel),
};
results.push(
  {
    case: "schedule-cancel",
    subject: "chronetix:wheel",
    ops_per_s: Math.round(sc.wheel),
    bytes_per_timer: round(bytes),
  },
  { case: "schedule-cancel", subject: "binary-heap", ops_per_s: Math.round(sc.heap) },
  { case: "schedule-cancel", subject: "setTimeout", ops_per_s: Math.round(sc.st) },
);
const sf = {
  wheel: await rounds("schedule-fire chronetix:wheel", wheelScheduleFire),
  heap: await rounds("schedule-fire binary-heap", heapScheduleFire),
  st: await rounds("schedule-fire setTimeout", setTimeoutScheduleFire),
};
results.push(
  {
    case: "schedule-fire",
    subject: "chronetix:wheel",
    ops_per_s: Math.round(sf.wheel),
    bytes_per_timer: round(bytes),
  },
  { case: "schedule-fire", subject: "binary-heap", ops_per_s: Math.round(sf.heap) },
  { case: "schedule-fire", subject: "setTimeout", ops_per_s: Math.round(sf.st) },
);
for (const r of results) {
  const ours = results.find((x) => x.case === r.case && x.subject === "chronetix:wheel")!;
  r.wheel_speedup_ratio = round(Number(ours.ops_per_s) / Number(r.ops_per_s), 2);
}
const targets: BenchTarget[] = [
  {
    name: "schedule+cancel >= 10 million/s",
    ok: sc.wheel >= 10e6,
    detail: `${round(sc.wheel / 1e6, 2)} million/s`,
  },
  {
    name: "schedule+cancel >= 10x setTimeout+clearTimeout",
    ok: sc.wheel >= 10 * sc.st,
    detail: `${round(sc.wheel / sc.st, 1)}x`,
  },
  { name: "<= 80 bytes per pending timer", ok: bytes <= 80, detail: `${round(bytes)} bytes` },
];
report("wheel", args, results, targets);
