// Run as a subprocess by data_faults_test.ts, one fault per process (mode in
// Deno.args[0]), with real Workers on the real clock. Each mode kills or hangs
// one end of a shared ring, lets the other end find out, closes everything,
// prints a JSON report as its last line and then ends by itself: no
// Deno.exit, so a wait, Worker or timer left behind shows as a hang.
import { RingReader } from "../../../src/data/ring_reader.ts";
import { RingWriter } from "../../../src/data/ring_writer.ts";
import { WOULD_BLOCK } from "../../../src/data/backpressure.ts";
import { ClosedError } from "../../../src/errors.ts";
import { MetricsRegistry } from "../../../src/metrics/registry.ts";
import { checkFrame, writeFrame } from "../../data/_fixtures/ring_frames.ts";
import type { RingFaultMessage, RingFaultTask } from "./data_ring_worker.ts";
import { mulberry32 } from "../../_util/prng.ts";

/** After this long without a sign of life, an end is presumed dead. */
const LIVENESS_MS = 200;

const log: string[] = [];
const logger = {
  error: (m: string) => void log.push(m),
  warn: (m: string) => void log.push(m),
  info: () => {},
};

/** A fixture Worker and the messages it posted, as a queue. */
class FaultWorker {
  readonly worker: Worker;
  readonly #messages: RingFaultMessage[] = [];
  #wake: (() => void) | undefined;
  bad: string | undefined;

  constructor(task: Omit<RingFaultTask, "progress">, progress: SharedArrayBuffer) {
    this.worker = new Worker(new URL("./data_ring_worker.ts", import.meta.url), {
      type: "module",
    });
    this.worker.onmessage = ({ data }: MessageEvent<RingFaultMessage>) => {
      if (data.kind === "bad") this.bad ??= data.problem;
      else this.#messages.push(data);
      this.#wake?.();
    };
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.#messages.push({ kind: "done", error: event.message });
      this.#wake?.();
    };
    this.worker.postMessage({ ...task, progress });
  }

  /** The next message of `kind` (earlier ones of other kinds are dropped). */
  async next(kind: RingFaultMessage["kind"]): Promise<RingFaultMessage> {
    for (;;) {
      const message = this.#messages.shift();
      if (message?.kind === kind) return message;
      if (message !== undefined) continue;
      await new Promise<void>((resolve) => this.#wake = resolve);
      this.#wake = undefined;
    }
  }

  terminate(): void {
    this.worker.terminate();
  }
}

/** Counts the ticks of a 5 ms loop: the other work that must keep running. */
function otherWork(): { stop(): number } {
  let ticks = 0;
  const id = setInterval(() => ticks++, 5);
  return {
    stop: () => {
      clearInterval(id);
      return ticks;
    },
  };
}

function metricLines(registry: MetricsRegistry, prefix: string): string[] {
  return registry.exposeText().split("\n").filter((l) => l.startsWith(prefix));
}

/**
 * Sends frames from `next` until `total`, waiting for credit with
 * whenWritable() (no timeout); returns how the last wait ended.
 */
async function produce(
  writer: RingWriter,
  from: number,
  total: number,
  onClosed?: () => Promise<boolean>,
): Promise<{ sent: number; result: string }> {
  const frame = new Uint8Array(writer.slotSize);
  let seq = from;
  while (seq < total) {
    const length = writeFrame(frame, seq);
    let result: number;
    try {
      result = writer.send(frame.subarray(0, length));
    } catch (error) {
      if (!(error instanceof ClosedError)) throw error;
      if (onClosed !== undefined && await onClosed()) continue;
      return { sent: seq, result: "ClosedError" };
    }
    if (result !== WOULD_BLOCK) {
      seq++;
      continue;
    }
    const waited = await writer.whenWritable();
    if (waited === "closed") {
      if (onClosed !== undefined && await onClosed()) continue;
      return { sent: seq, result: waited };
    }
  }
  return { sent: seq, result: "sent" };
}

/** A reader Worker is terminated mid-stream while the writer awaits whenWritable() with no timeout. */
async function deadReader(): Promise<Record<string, unknown>> {
  const metrics = new MetricsRegistry();
  const writer = RingWriter.create({
    slots: 64,
    slotSize: 1024,
    livenessTimeoutMs: LIVENESS_MS,
    metrics,
    name: "faults",
    logger,
  });
  const progress = new SharedArrayBuffer(12);
  const reader = new FaultWorker(
    { role: "reader-async", buffer: writer.buffer, stallAt: 3000 },
    progress,
  );
  const other = otherWork();
  const producing = produce(writer, 0, 1_000_000);
  await reader.next("stalled");
  reader.terminate();
  const { sent, result } = await producing;
  const stats = writer.stats();
  const report = writer.close();
  return {
    result,
    sent,
    report,
    progress: new Int32Array(progress)[0],
    bad: reader.bad ?? null,
    readerState: stats.readerState,
    readerDeaths: stats.readerDeaths,
    discarded: stats.discarded,
    metrics: metricLines(metrics, "chronetix_ring_dead_ends_total"),
    log,
    otherWork: other.stop(),
  };
}

/** A producer Worker blocks in waitWritable() while the reader Worker is terminated. */
async function blockedProducer(): Promise<Record<string, unknown>> {
  const buffer = RingWriter.createBuffer({
    slots: 64,
    slotSize: 1024,
    livenessTimeoutMs: LIVENESS_MS,
  });
  const progress = new SharedArrayBuffer(12);
  const reader = new FaultWorker({ role: "reader-async", buffer, stallAt: 3000 }, progress);
  await reader.next("attached");
  const producer = new FaultWorker({ role: "writer-sync", buffer, frames: 1_000_000 }, progress);
  const other = otherWork();
  await reader.next("stalled");
  reader.terminate();
  const done = await producer.next("done");
  producer.terminate();
  return { ...done, progress: new Int32Array(progress)[0], otherWork: other.stop() };
}

/** A reader Worker hangs inside its frame callback: the writer presumes it dead, counts exactly. */
async function hungConsumer(): Promise<Record<string, unknown>> {
  const writer = RingWriter.create({ slots: 256, slotSize: 1024, livenessTimeoutMs: LIVENESS_MS });
  const progress = new SharedArrayBuffer(12);
  const reader = new FaultWorker(
    { role: "reader-hang", buffer: writer.buffer, stallAt: 2500 },
    progress,
  );
  const other = otherWork();
  const producing = produce(writer, 0, 1_000_000);
  await reader.next("hung");
  const { sent, result } = await producing;
  const stats = writer.stats();
  const report = writer.close();
  // Let the hung callback return: the reader finds it lost the ring and stops.
  const words = new Int32Array(progress);
  Atomics.store(words, 2, 1);
  Atomics.notify(words, 2);
  const done = await reader.next("done");
  reader.terminate();
  return {
    result,
    sent,
    report,
    readerState: stats.readerState,
    progressWhenHung: 2500,
    reader: done,
    bad: reader.bad ?? null,
    otherWork: other.stop(),
  };
}

/**
 * A million frames; the reader Worker is terminated at a random frame and a
 * new one takes over with its epoch: every frame arrives once, in order.
 */
async function takeover(seed: number): Promise<Record<string, unknown>> {
  const frames = 1_000_000;
  const stallAt = 100_000 + Math.floor(mulberry32(seed)() * 800_000);
  const writer = RingWriter.create({ slots: 256, slotSize: 1024, livenessTimeoutMs: LIVENESS_MS });
  const progress = new SharedArrayBuffer(12);
  const first = new FaultWorker(
    { role: "reader-async", buffer: writer.buffer, stallAt },
    progress,
  );
  let second: FaultWorker | undefined;
  const other = otherWork();
  void first.next("stalled").then(() => first.terminate());
  const replace = async (): Promise<boolean> => {
    if (second !== undefined) return false;
    const stats = writer.stats();
    second = new FaultWorker(
      { role: "reader-async", buffer: writer.buffer, takeover: stats.readerEpoch },
      progress,
    );
    await second.next("attached");
    return true;
  };
  const { sent, result } = await produce(writer, 0, frames, replace);
  await writer.whenIdle();
  const stats = writer.stats();
  const report = writer.close();
  const done = second === undefined ? undefined : await second.next("done");
  second?.terminate();
  return {
    result,
    sent,
    stallAt,
    report,
    progress: new Int32Array(progress)[0],
    bad: first.bad ?? second?.bad ?? null,
    badCount: new Int32Array(progress)[1],
    readerDeaths: stats.readerDeaths,
    readerTakeovers: stats.readerTakeovers,
    secondReport: done ?? null,
    otherWork: other.stop(),
  };
}

/**
 * A reader Worker blocked in the synchronous wait() cannot be terminated (a
 * blocked thread runs no termination): taking its side over makes its wait
 * return "closed", its loop ends, and the Worker stops.
 */
async function evictSyncReader(): Promise<Record<string, unknown>> {
  const writer = RingWriter.create({ slots: 64, slotSize: 1024, livenessTimeoutMs: 60_000 });
  const progress = new SharedArrayBuffer(12);
  const old = new FaultWorker(
    { role: "reader-sync", buffer: writer.buffer, stallAt: 1000 },
    progress,
  );
  await old.next("attached");
  const other = otherWork();
  const { sent } = await produce(writer, 0, 1000);
  await old.next("stalled");
  old.terminate(); // has no effect while its thread blocks in wait()
  const started = performance.now();
  const replacement = await RingReader.takeover(writer.buffer, 1);
  const tookMs = performance.now() - started;
  // The old reader's loop ended: its wait() returned "closed" (1), or something else (2).
  const words = new Int32Array(progress);
  const ended = Atomics.waitAsync(words, 2, 0, 60_000);
  if (ended.async) await ended.value;
  const stats = writer.stats();
  replacement.close();
  writer.close();
  return {
    sent,
    quick: tookMs < 30_000, // well under the 60 s liveness timeout: it acknowledged
    oldEnded: Atomics.load(words, 2),
    readerState: stats.readerState,
    readerTakeovers: stats.readerTakeovers,
    readerDeaths: stats.readerDeaths,
    otherWork: other.stop(),
  };
}

/** The writer Worker is terminated mid-stream while the main-thread reader awaits whenReadable(). */
async function deadWriter(): Promise<Record<string, unknown>> {
  const buffer = RingWriter.createBuffer({
    slots: 64,
    slotSize: 1024,
    livenessTimeoutMs: LIVENESS_MS,
  });
  const reader = new RingReader(buffer, { name: "faults", logger });
  const progress = new SharedArrayBuffer(12);
  const producer = new FaultWorker(
    { role: "writer-async", buffer, frames: 1_000_000, stallAt: 4000 },
    progress,
  );
  const other = otherWork();
  void producer.next("stalled").then(() => producer.terminate());
  let expected = 0;
  let bad: string | null = null;
  let result: string;
  while ((result = await reader.whenReadable()) === "ready") {
    reader.poll((slot, length, seq) => {
      bad ??= seq !== expected
        ? `seq ${seq} for ${expected}`
        : checkFrame(slot, length, seq) ?? null;
      expected++;
    });
  }
  const stats = reader.stats();
  return {
    result,
    received: expected,
    bad,
    report: reader.close(),
    writerState: stats.writerState,
    writerDeaths: stats.writerDeaths,
    log,
    otherWork: other.stop(),
  };
}

const mode = Deno.args[0];
const modes: Record<string, () => Promise<Record<string, unknown>>> = {
  "dead-reader": deadReader,
  "blocked-producer": blockedProducer,
  "hung-consumer": hungConsumer,
  "takeover": () => takeover(Number(Deno.args[1] ?? "1")),
  "dead-writer": deadWriter,
  "evict-sync-reader": evictSyncReader,
};
const run = modes[mode ?? ""];
if (run === undefined) throw new Error(`Unknown mode ${mode}`);
console.log(JSON.stringify(await run()));
