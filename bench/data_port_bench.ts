/**
 * `deno task bench:dataport [--quick] [--json]`: frame throughput of the
 * data plane against what a user would write instead, in the same run, for
 * frames of 64 B, 1 KiB and 64 KiB.
 *
 * - `chronetix:port`: a same-thread {@linkcode DataPort}: `send()` (copies
 *   the frame into a slab block), `receive()`, `recycle()`, in bursts of 64.
 * - `chronetix:ring`: the main thread sends into a shared ring
 *   ({@linkcode RingWriter}); a Worker reads every frame in place
 *   ({@linkcode RingReader}). Measured until the Worker has read the last.
 * - `postMessage-copy`: one `postMessage(frame)` per frame (structured clone).
 * - `postMessage-transfer`: a fresh buffer per frame, filled and transferred.
 * - `postMessage-batch64`: 64 frames copied into one buffer, transferred.
 *
 * Every Worker reads the first and last byte of each frame and returns a
 * checksum, which must match the producer's. Figures: `frames_per_s`
 * (median of the rounds) and `rss_growth_bytes` (the highest RSS seen
 * while sending, minus the RSS once a quarter of the frames was sent;
 * postMessage queues grow without a bound, the ring cannot). Under
 * `deno bench`, this file registers the
 * same-thread port against an array queue of copies.
 *
 * @module
 */
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

const CASES = [
  { name: "64B", size: 64 },
  { name: "1KiB", size: 1024 },
  { name: "64KiB", size: 65536 },
] as const;

type Subject =
  | "chronetix:port"
  | "chronetix:ring"
  | "postMessage-copy"
  | "postMessage-transfer"
  | "postMessage-batch64";

const SUBJECTS: readonly Subject[] = [
  "chronetix:port",
  "chronetix:ring",
  "postMessage-copy",
  "postMessage-transfer",
  "postMessage-batch64",
];

/** Frames per round for a full run; `--quick` uses a tenth. */
function framesFor(subject: Subject, size: number): number {
  const big = size >= 65536;
  switch (subject) {
    case "chronetix:port":
      return big ? 100_000 : 4_000_000;
    case "chronetix:ring":
      return big ? 100_000 : 5_000_000;
    case "postMessage-batch64":
      return big ? 20_000 : 1_000_000;
    default:
      return big ? 20_000 : 200_000;
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

async function runWorker(subject: Subject, size: number, frames: number): Promise<Run> {
  using bench = new BenchWorker();
  const frame = frameOf(size);
  const batch = 64;
  const ring = subject === "chronetix:ring"
    ? RingWriter.create({ slots: size >= 65536 ? 64 : 1024, slotSize: size })
    : undefined;
  const mode = ({
    "chronetix:ring": "ring",
    "postMessage-copy": "copy",
    "postMessage-transfer": "transfer",
    "postMessage-batch64": "batch",
  } as const)[subject as Exclude<Subject, "chronetix:port">];
  const start: DataPortWorkerStart = { mode, frames, frameSize: size, batch, buffer: ring?.buffer };
  bench.worker.postMessage(start);
  await bench.next<string>();
  const probe = new RssProbe(frames);
  const sampleEvery = probe.every;
  const t0 = performance.now();
  if (ring !== undefined) {
    for (let i = 0; i < frames; i++) {
      while (ring.send(frame) === WOULD_BLOCK) await ring.whenWritable();
      if (i % sampleEvery === 0) probe.sample(i);
    }
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

async function main(): Promise<void> {
  const args = parseBenchArgs("dataport");
  const rounds = args.quick ? 1 : 3;
  const results: BenchResult[] = [];
  const rate = new Map<string, number>();
  const growth = new Map<string, number>();
  for (const c of CASES) {
    for (const subject of SUBJECTS) {
      // A multiple of 64, so bursts and batches come out even.
      const frames = Math.ceil(framesFor(subject, c.size) / (args.quick ? 10 : 1) / 64) * 64;
      const runs: Run[] = [];
      for (let r = 0; r < rounds; r++) {
        progress(`dataport ${c.name} ${subject}: round ${r + 1}/${rounds}, ${frames} frames`);
        await settle(args.quick);
        runs.push(
          subject === "chronetix:port"
            ? runPort(c.size, frames)
            : await runWorker(subject, c.size, frames),
        );
      }
      const framesPerS = median(runs.map((r) => r.framesPerS));
      const rssGrowth = Math.max(...runs.map((r) => r.rssGrowth));
      rate.set(`${c.name}/${subject}`, framesPerS);
      growth.set(`${c.name}/${subject}`, rssGrowth);
      results.push({
        case: c.name,
        subject,
        frames_per_s: Math.round(framesPerS),
        rss_growth_bytes: rssGrowth,
      });
    }
    const ring = rate.get(`${c.name}/chronetix:ring`)!;
    for (const r of results) {
      if (r.case === c.name && r.subject === "chronetix:ring") {
        r.vs_postMessage_copy_ratio = round(ring / rate.get(`${c.name}/postMessage-copy`)!, 1);
        r.vs_postMessage_batch64_ratio = round(
          ring / rate.get(`${c.name}/postMessage-batch64`)!,
          2,
        );
      }
    }
  }
  const port64 = rate.get("64B/chronetix:port")!;
  const ring1k = rate.get("1KiB/chronetix:ring")!;
  const copy1k = rate.get("1KiB/postMessage-copy")!;
  const ringGrowth = Math.max(...CASES.map((c) => growth.get(`${c.name}/chronetix:ring`)!));
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
      name: "ring at 1 KiB >= 25x postMessage per frame",
      ok: ring1k >= 25 * copy1k,
      detail: `${round(ring1k / copy1k, 1)}x`,
    },
    {
      name: "ring RSS stays flat (growth < 2 MiB in every case)",
      ok: ringGrowth < 2 << 20,
      detail: `largest growth ${round(ringGrowth / (1 << 20), 2)} MiB`,
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
