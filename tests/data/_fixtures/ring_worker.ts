// A Worker for the shared-ring tests. "consume": attach a RingReader, verify
// every frame (sequence number, length, checksum), optionally sleep now and
// then (a slow consumer) or close after some frames; "produce": attach a
// RingWriter and send frames, blocking with waitWritable() when full.
import { RingReader } from "../../../src/data/ring_reader.ts";
import { RingWriter } from "../../../src/data/ring_writer.ts";
import { WOULD_BLOCK } from "../../../src/data/backpressure.ts";
import { ClosedError } from "../../../src/errors.ts";
import { checkFrame, writeFrame } from "./ring_frames.ts";
import { mulberry32 } from "../../_util/prng.ts";

/** The first message of a ring test worker. */
export interface RingWorkerTask {
  mode: "consume" | "produce";
  buffer: SharedArrayBuffer;
  /** consume: sleep `sleepMs` after every this many frames. */
  sleepEvery?: number;
  sleepMs?: number;
  /** consume: close the reader after this many frames. */
  stopAfter?: number;
  /** produce: how many frames to send. */
  frames?: number;
  /** consume: stall at random, about once in `stallEvery` frames, for up to `maxStallMs`. */
  stallSeed?: number;
  stallEvery?: number;
  maxStallMs?: number;
  /** The largest frame (see ring_frames.ts). */
  maxLength?: number;
  /** produce: the writer's `publishEvery`. */
  publishEvery?: number;
}

/** What a ring test worker reports. */
export interface RingWorkerReport {
  consumed: number;
  bad: string[];
  sent?: number;
  unconsumed?: number;
}

const worker = self as unknown as {
  onmessage: ((event: MessageEvent<RingWorkerTask>) => void) | null;
  postMessage(message: unknown): void;
};

worker.onmessage = ({ data: task }) => {
  worker.postMessage(task.mode === "consume" ? consume(task) : produce(task));
};

function consume(task: RingWorkerTask): RingWorkerReport {
  const reader = new RingReader(task.buffer);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const bad: string[] = [];
  let expected = 0;
  const stopAfter = task.stopAfter ?? Infinity;
  const random = mulberry32(task.stallSeed ?? 1);
  const stallChance = task.stallEvery === undefined ? 0 : 1 / task.stallEvery;
  const onFrame = (slot: Uint8Array, length: number, seq: number) => {
    if (stallChance > 0 && random() < stallChance) {
      Atomics.wait(nap, 0, 0, random() * (task.maxStallMs ?? 1));
    }
    const problem = checkFrame(slot, length, expected, task.maxLength);
    if (problem !== undefined && bad.length < 10) bad.push(problem);
    if (seq !== expected && bad.length < 10) bad.push(`seq ${seq} where ${expected} was expected`);
    expected++;
    if (task.sleepEvery !== undefined && expected % task.sleepEvery === 0) {
      Atomics.wait(nap, 0, 0, task.sleepMs ?? 1);
    }
  };
  while (expected < stopAfter && reader.wait() === "ready") {
    reader.poll(onFrame, stopAfter - expected);
  }
  const report = reader.close();
  return { consumed: report.consumed, bad };
}

function produce(task: RingWorkerTask): RingWorkerReport {
  const writer = new RingWriter(task.buffer, { publishEvery: task.publishEvery });
  const frame = new Uint8Array(writer.slotSize);
  let sent = 0;
  try {
    for (; sent < task.frames!; sent++) {
      const length = writeFrame(frame, sent, task.maxLength);
      while (writer.send(frame.subarray(0, length)) === WOULD_BLOCK) {
        if (writer.waitWritable() === "closed") throw new ClosedError("ring's reader", "send");
      }
    }
  } catch (error) {
    if (!(error instanceof ClosedError)) throw error;
  }
  const report = writer.close();
  return { consumed: report.consumed, unconsumed: report.unconsumed, sent, bad: [] };
}
