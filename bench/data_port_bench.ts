/**
 * `deno task bench:dataport [--quick] [--json]`: frame throughput of the
 * data plane against what a user would write instead, in the same run, for
 * frames of 64 B, 1 KiB and 64 KiB.
 *
 * - `chronetix:port`: a same-thread {@linkcode DataPort}: `send()` (copies
 *   the frame into a slab block), `receive()`, `recycle()`, in bursts of 64.
 * - `floor`: the least a ring can do (`_floor_ring.ts`): a minimal
 *   single-producer single-consumer ring over a `SharedArrayBuffer` between
 *   the main thread and a Worker, both ends spinning, each index published
 *   every 64 frames; no liveness, statistics or checks. Same slots as the
 *   shared ring.
 * - `chronetix:ring`: the main thread sends into a shared ring
 *   ({@linkcode RingWriter}) with batched publication (`publishEvery`: the
 *   floor's batch, 64 or half the slots if fewer, the same batching
 *   `postMessage-batch64` gets); a Worker reads every frame in place
 *   ({@linkcode RingReader}). Measured until the Worker has read the last.
 * - `chronetix:ring-per-frame`: the same with the default `publishEvery: 1`
 *   (the write index published after every frame).
 * - `postMessage-copy`: one `postMessage(frame)` per frame (structured clone).
 * - `postMessage-transfer`: a fresh buffer per frame, filled and transferred.
 * - `postMessage-batch64`: 64 frames copied into one buffer, transferred.
 *
 * Every Worker reads the first and last byte of each frame and returns a
 * checksum, which must match the producer's. Rounds are interleaved (round
 * 1 of every subject, then round 2, ...) so the machine's noise hits all
 * alike. Figures: `frames_per_s` (median of the rounds),
 * `rss_growth_bytes` (the highest RSS seen while sending, minus the RSS
 * once a quarter of the frames was sent; postMessage queues grow without a
 * bound, the ring cannot), and on `chronetix:ring` (and
 * `chronetix:ring-per-frame`) its ratios to `floor` (`vs_floor_ratio`) and
 * to postMessage. Cases `idle-reader` and `idle-writer` give
 * `idle_cpu_core`: the process's CPU (all threads) over wall time (the
 * median of four windows) in about a second in which a ring (batched, as
 * `chronetix:ring`) is open and nothing flows, right after a busy stream: a
 * reader waiting in a Worker with `wait()`, and a main-thread writer
 * waiting with `whenWritable()` on a full ring; case `idle`, subject
 * `no-ring`, is the same process with an idle Worker and no ring (the
 * runtime's own background CPU). Under `deno bench`,
 * this file registers the same-thread port against an array queue of
 * copies.
 *
 * @module
 */
import process from "node:process";
import { DataPort, RingWriter, SlabAllocator, WOULD_BLOCK } from "../mod.ts";
import {
  type BenchResult,
  type BenchTarget,
  median,
  parseBenchArgs,
  progress,
  report,
  round,
} from "./_report.ts";
import type { DataPortWorkerDone, DataPortWorkerStart } from "./_dataport_worker.ts";
import { floorRingBuffer, floorWrite } from "./_floor_ring.ts";

const CASES = [
  { name: "64B", size: 64 },
  { name: "1KiB", size: 1024 },
  { name: "64KiB", size: 65536 },
] as const;

type Subject =
  | "chronetix:port"
  | "floor"
  | "chronetix:ring"
  | "chronetix:ring-per-frame"
  | "postMessage-copy"
  | "postMessage-transfer"
  | "postMessage-batch64";

const SUBJECTS: readonly Subject[] = [
  "chronetix:port",
  "floor",
  "chronetix:ring",
  "chronetix:ring-per-frame",
  "postMessage-copy",
  "postMessage-transfer",
  "postMessage-batch64",
];

/** Rounds per subject: interleaved, so noise hits every subject alike. */
function roundsFor(quick: boolean): number {
  return quick ? 3 : 5;
}

/**
 * Frames per round for a full run; `--quick` uses a quarter. At 64 B and
 * 1 KiB a round lasts 0.3-1 s on a 2-core VM: each round starts a fresh
 * Worker (and a fresh ring), whose code V8 compiles in the round's first
 * 50-100 ms, on the cores the two ends stream on; rounds of 0.1-0.2 s were
 * mostly that warm-up (docs/benchmarks.md, 2026-12-04). The 64 KiB case
 * keeps short rounds: its postMessage queues would hold gigabytes.
 */
function framesFor(subject: Subject, size: number): number {
  const big = size >= 65536;
  switch (subject) {
    case "chronetix:port":
      return big ? 25_000 : 4_000_000;
    case "floor":
    case "chronetix:ring":
    case "chronetix:ring-per-frame":
      return big ? 25_000 : 5_000_000;
    case "postMessage-batch64":
      return big ? 5_000 : 1_000_000;
    default:
      return big ? 5_000 : 50_000;
  }
}

interface Run {
  framesPerS: number;
  rssGrowth: number;
}

/**
 * Samples RSS while frames are sent. The baseline is taken once a quarter
 * of the frames went out, so first-touch pages of preallocated buffers and JIT
 * warm-up do not count; the growth is the highest sample after it minus it.
 */
class RssProbe {
  readonly every: number;
  readonly #warm: number;
  #before = -1;
  #max = 0;
  constructor(frames: number) {
    this.every = Math.max(64, Math.floor(frames / 32 / 64) * 64);
    this.#warm = Math.floor(frames / 4);
  }
  sample(sent: number): void {
    if (sent < this.#warm) return;
    const rss = Deno.memoryUsage().rss;
    if (this.#before < 0) this.#before = rss;
    if (rss > this.#max) this.#max = rss;
  }
  get growth(): number {
    if (this.#before < 0) return 0;
    this.sample(Infinity);
    return this.#max - this.#before;
  }
}

function frameOf(size: number): Uint8Array {
  const frame = new Uint8Array(size);
  for (let i = 0; i < size; i++) frame[i] = (i * 31 + 7) & 255;
  return frame;
}

function runPort(size: number, frames: number): Run {
  const slabs = Math.max(2, Math.ceil((1024 * size) / (1 << 20)) + 1);
  const port = new DataPort({ credit: 1024, allocator: new SlabAllocator({ slabs }) });
  const frame = frameOf(size);
  const burst = 64;
  const probe = new RssProbe(frames);
  const start = performance.now();
  for (let i = 0; i < frames; i += burst) {
    for (let j = 0; j < burst; j++) port.send(frame);
    for (let j = 0; j < burst; j++) {
      const meta = port.receive();
      if (meta !== WOULD_BLOCK) port.recycle(meta);
    }
    if (i % probe.every === 0) probe.sample(i);
  }
  const elapsed = performance.now() - start;
  const stats = port.stats();
  if (stats.framesRecycled !== frames) {
    throw new Error(`Port bench lost frames: ${stats.framesRecycled} of ${frames}`);
  }
  port.close();
  return { framesPerS: frames / (elapsed / 1000), rssGrowth: probe.growth };
}

/** A module Worker running `_dataport_worker.ts`, with its replies as a queue. */
class BenchWorker {
  readonly worker: Worker;
  readonly #replies: unknown[] = [];
  #waiter: (() => void) | undefined;
  constructor() {
    this.worker = new Worker(new URL("./_dataport_worker.ts", import.meta.url), {
      type: "module",
    });
    this.worker.onmessage = ({ data }) => {
      this.#replies.push(data);
      this.#waiter?.();
    };
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.#replies.push(new Error(`Bench worker failed: ${event.message}`));
      this.#waiter?.();
    };
  }
  async next<T>(): Promise<T> {
    while (this.#replies.length === 0) {
      await new Promise<void>((resolve) => this.#waiter = resolve);
      this.#waiter = undefined;
    }
    const reply = this.#replies.shift();
    if (reply instanceof Error) throw reply;
    return reply as T;
  }
  [Symbol.dispose](): void {
    this.worker.terminate();
  }
}

function expectedChecksum(frame: Uint8Array, frames: number): number {
  return Math.imul(frame[0]! + frame[frame.length - 1]!, frames) | 0;
}

/** Slots of the shared ring (and of the floor ring) for frames of `size` bytes. */
function slotsFor(size: number): number {
  return size >= 65536 ? 64 : 1024;
}

/** The batch of `chronetix:ring`: the floor ring's (64, or half the slots if fewer). */
function batchFor(size: number): number {
  return Math.max(1, Math.min(64, slotsFor(size) / 2));
}

async function runWorker(subject: Subject, size: number, frames: number): Promise<Run> {
  using bench = new BenchWorker();
  const frame = frameOf(size);
  const batch = 64;
  const ring = subject === "chronetix:ring" || subject === "chronetix:ring-per-frame"
    ? RingWriter.create({
      slots: slotsFor(size),
      slotSize: size,
      publishEvery: subject === "chronetix:ring" ? batchFor(size) : 1,
    })
    : undefined;
  const floor = subject === "floor" ? floorRingBuffer(slotsFor(size), size) : undefined;
  const mode = ({
    "floor": "floor",
    "chronetix:ring": "ring",
    "chronetix:ring-per-frame": "ring",
    "postMessage-copy": "copy",
    "postMessage-transfer": "transfer",
    "postMessage-batch64": "batch",
  } as const)[subject as Exclude<Subject, "chronetix:port">];
  const start: DataPortWorkerStart = {
    mode,
    frames,
    frameSize: size,
    batch,
    buffer: ring?.buffer ?? floor,
  };
  bench.worker.postMessage(start);
  await bench.next<string>();
  const probe = new RssProbe(frames);
  const sampleEvery = probe.every;
  const t0 = performance.now();
  if (floor !== undefined) {
    // Spins: no RSS samples (nothing queues).
    floorWrite(floor, frame, frames);
  } else if (ring !== undefined) {
    // In a function of its own, as the floor's loop is: inline here, it
    // shared this function's type feedback with every other subject's loop
    // and was deoptimized with it (two dozen times in a run).
    await stream(ring, frame, frames, probe);
    ring.close();
  } else if (mode === "copy") {
    for (let i = 0; i < frames; i++) {
      bench.worker.postMessage(frame);
      if (i % sampleEvery === 0) probe.sample(i);
    }
  } else if (mode === "transfer") {
    for (let i = 0; i < frames; i++) {
      const copy = new Uint8Array(size);
      copy.set(frame);
      bench.worker.postMessage(copy, [copy.buffer]);
      if (i % sampleEvery === 0) probe.sample(i);
    }
  } else {
    for (let i = 0; i < frames; i += batch) {
      const n = Math.min(batch, frames - i);
      const packed = new Uint8Array(n * size);
      for (let j = 0; j < n; j++) packed.set(frame, j * size);
      bench.worker.postMessage(packed, [packed.buffer]);
      if (i % sampleEvery < batch) probe.sample(i);
    }
  }
  const done = await bench.next<DataPortWorkerDone>();
  const elapsed = performance.now() - t0;
  const rssGrowth = probe.growth;
  if (done.frames !== frames || done.checksum !== expectedChecksum(frame, frames)) {
    throw new Error(
      `${subject} delivered ${done.frames} of ${frames} frames (checksum ${done.checksum})`,
    );
  }
  return { framesPerS: frames / (elapsed / 1000), rssGrowth };
}

/**
 * Lets the previous subject's terminated Worker tear down (the postMessage
 * ones free hundreds of MB) and collects garbage, so it does not run into
 * the next measurement.
 */
async function settle(quick: boolean): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  await new Promise((resolve) => setTimeout(resolve, quick ? 50 : 300));
  gc?.();
}

/** The process's CPU time (every thread), in milliseconds. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Runs `idle` (about `idleMs` long) and returns the process's CPU over wall
 * time, in cores: the median of four windows, so one burst of the
 * runtime's own (a garbage collection of an earlier subject's buffers)
 * does not count as the ring's.
 */
async function cpuDuring(idleMs: number, idle: () => Promise<void>): Promise<number> {
  const samples = [{ cpu: cpuMs(), at: performance.now() }];
  const sampler = setInterval(
    () => samples.push({ cpu: cpuMs(), at: performance.now() }),
    idleMs / 4,
  );
  try {
    await idle();
  } finally {
    clearInterval(sampler);
  }
  samples.push({ cpu: cpuMs(), at: performance.now() });
  const rates: number[] = [];
  for (let i = 1; i < samples.length; i++) {
    const wall = samples[i]!.at - samples[i - 1]!.at;
    if (wall >= idleMs / 8) rates.push((samples[i]!.cpu - samples[i - 1]!.cpu) / wall);
  }
  return median(rates);
}

/**
 * Sends `frames` frames into `ring`, awaiting credit when it is full, and
 * samples the RSS into `probe` (when given) as it goes.
 */
async function stream(
  ring: RingWriter,
  frame: Uint8Array,
  frames: number,
  probe?: RssProbe,
): Promise<void> {
  const sampleEvery = probe?.every ?? 0;
  for (let i = 0; i < frames; i++) {
    while (ring.send(frame) === WOULD_BLOCK) await ring.whenWritable();
    if (probe !== undefined && i % sampleEvery === 0) probe.sample(i);
  }
}

/**
 * The CPU an idle ring costs, right after a busy stream (so the ends'
 * spin has adapted to it): `reader`: a Worker reader blocks in `wait()`
 * while nothing is sent; `writer`: a main-thread writer awaits
 * `whenWritable()` on a full ring whose reader does not read.
 */
async function runIdle(side: "reader" | "writer" | "none", idleMs: number): Promise<number> {
  using bench = new BenchWorker();
  if (side === "none") {
    // The baseline: the same process with an idle Worker and no ring.
    return await cpuDuring(idleMs, () => new Promise((resolve) => setTimeout(resolve, idleMs)));
  }
  const size = 1024;
  const frame = frameOf(size);
  const frames = 200_000;
  const ring = RingWriter.create({
    slots: slotsFor(size),
    slotSize: size,
    publishEvery: batchFor(size),
  });
  const mode = side === "reader" ? "ring" : "ring-pause";
  const start: DataPortWorkerStart = {
    mode,
    frames,
    frameSize: size,
    batch: 64,
    buffer: ring.buffer,
  };
  bench.worker.postMessage(start);
  await bench.next<string>();
  await stream(ring, frame, frames);
  let total = frames;
  let core: number;
  if (side === "reader") {
    await ring.whenIdle();
    core = await cpuDuring(idleMs, () => new Promise((resolve) => setTimeout(resolve, idleMs)));
  } else {
    await bench.next<string>(); // "paused": the reader stopped reading
    while (ring.send(frame) !== WOULD_BLOCK) total++;
    let result = "";
    core = await cpuDuring(idleMs, async () => {
      result = await ring.whenWritable({ timeoutMs: idleMs });
    });
    if (result !== "timed-out") throw new Error(`Idle writer's wait ended with ${result}`);
    bench.worker.postMessage("go");
  }
  ring.close();
  const done = await bench.next<DataPortWorkerDone>();
  if (done.frames !== total || done.checksum !== expectedChecksum(frame, total)) {
    throw new Error(`idle-${side} delivered ${done.frames} of ${total} frames`);
  }
  return core;
}

async function main(): Promise<void> {
  const args = parseBenchArgs("dataport");
  const rounds = roundsFor(args.quick);
  const results: BenchResult[] = [];
  const rate = new Map<string, number>();
  const growth = new Map<string, number>();
  for (const c of CASES) {
    const runs = new Map<Subject, Run[]>(SUBJECTS.map((subject) => [subject, []]));
    // Interleaved: round r of every subject, then round r + 1.
    for (let r = 0; r < rounds; r++) {
      for (const subject of SUBJECTS) {
        // A multiple of 64, so bursts and batches come out even.
        const frames = Math.ceil(framesFor(subject, c.size) / (args.quick ? 4 : 1) / 64) * 64;
        progress(`dataport ${c.name} ${subject}: round ${r + 1}/${rounds}, ${frames} frames`);
        await settle(args.quick);
        runs.get(subject)!.push(
          subject === "chronetix:port"
            ? runPort(c.size, frames)
            : await runWorker(subject, c.size, frames),
        );
      }
    }
    for (const subject of SUBJECTS) {
      const done = runs.get(subject)!;
      const framesPerS = median(done.map((r) => r.framesPerS));
      const rssGrowth = Math.max(...done.map((r) => r.rssGrowth));
      rate.set(`${c.name}/${subject}`, framesPerS);
      growth.set(`${c.name}/${subject}`, rssGrowth);
      const result: BenchResult = { case: c.name, subject, frames_per_s: Math.round(framesPerS) };
      // The floor's writer spins without a look at RSS: nothing queues there.
      if (subject !== "floor") result.rss_growth_bytes = rssGrowth;
      results.push(result);
    }
    for (const r of results) {
      if (r.case === c.name && r.subject.startsWith("chronetix:ring")) {
        const ring = rate.get(`${c.name}/${r.subject}`)!;
        r.vs_floor_ratio = round(ring / rate.get(`${c.name}/floor`)!, 2);
        r.vs_postMessage_copy_ratio = round(ring / rate.get(`${c.name}/postMessage-copy`)!, 1);
        r.vs_postMessage_batch64_ratio = round(
          ring / rate.get(`${c.name}/postMessage-batch64`)!,
          2,
        );
      }
    }
  }
  const idle = new Map<string, number>();
  for (const side of ["none", "reader", "writer"] as const) {
    const [name, subject] = side === "none"
      ? ["idle", "no-ring"]
      : [`idle-${side}`, "chronetix:ring"];
    progress(`dataport ${name} ${subject}: 1 s with nothing flowing`);
    await settle(false); // the long settle: earlier garbage must not count as idle CPU
    const core = await runIdle(side, 1000);
    idle.set(side, core);
    results.push({ case: name, subject, idle_cpu_core: round(core, 4) });
  }
  const port64 = rate.get("64B/chronetix:port")!;
  const ring1k = rate.get("1KiB/chronetix:ring")!;
  const perFrame1k = rate.get("1KiB/chronetix:ring-per-frame")!;
  const floor1k = rate.get("1KiB/floor")!;
  const copy1k = rate.get("1KiB/postMessage-copy")!;
  const batch1k = rate.get("1KiB/postMessage-batch64")!;
  const ringGrowth = Math.max(
    ...CASES.flatMap((c) => [
      growth.get(`${c.name}/chronetix:ring`)!,
      growth.get(`${c.name}/chronetix:ring-per-frame`)!,
    ]),
  );
  const idleMax = Math.max(idle.get("reader")!, idle.get("writer")!);
  const targets: BenchTarget[] = [
    {
      name: "port send+recycle at 64 B >= 20 million/s",
      ok: port64 >= 20e6,
      detail: `${round(port64 / 1e6, 2)} million/s`,
    },
    {
      name: "ring at 1 KiB >= 5 million/s",
      ok: ring1k >= 5e6,
      detail: `${round(ring1k / 1e6, 2)} million/s`,
    },
    {
      name: "ring at 1 KiB >= 0.5x the floor ring (same run)",
      ok: ring1k >= 0.5 * floor1k,
      detail: `${round(ring1k / floor1k, 2)}x (floor ${round(floor1k / 1e6, 2)} million/s; ${
        round(perFrame1k / floor1k, 2)
      }x per frame)`,
    },
    {
      name: "ring at 1 KiB >= 3x postMessage-batch64",
      ok: ring1k >= 3 * batch1k,
      detail: `${round(ring1k / batch1k, 2)}x`,
    },
    {
      name: "ring at 1 KiB >= 25x postMessage per frame",
      ok: ring1k >= 25 * copy1k,
      detail: `${round(ring1k / copy1k, 1)}x`,
    },
    {
      name: "ring RSS stays flat (growth < 2 MiB in every case)",
      ok: ringGrowth < 2 << 20,
      detail: `largest growth ${round(ringGrowth / (1 << 20), 2)} MiB`,
    },
    {
      name: "idle ring ends use no measurable CPU (< 0.01 core)",
      ok: idleMax < 0.01,
      detail: `reader ${round(idle.get("reader")!, 4)} core, writer ${
        round(idle.get("writer")!, 4)
      } core (the process with no ring: ${round(idle.get("none")!, 4)} core)`,
    },
  ];
  report("dataport", args, results, targets);
}

if (import.meta.main) {
  await main();
} else {
  // `deno bench`: the same-thread port against an array queue of copies.
  const frame = frameOf(64);
  const port = new DataPort({ credit: 1024 });
  Deno.bench({ group: "dataport-64B", name: "chronetix:port send+receive+recycle" }, () => {
    const meta = port.send(frame);
    if (port.receive() !== meta || meta === WOULD_BLOCK) throw new Error("lost a frame");
    port.recycle(meta);
  });
  const queue: Uint8Array[] = [];
  Deno.bench({ group: "dataport-64B", name: "array queue of slice()", baseline: true }, () => {
    queue.push(frame.slice());
    if (queue.shift() === undefined) throw new Error("lost a frame");
  });
}
