// A Worker for the ring fault fixtures. Every frame carries its sequence
// number, length and a checksum (tests/data/_fixtures/ring_frames.ts); a
// reader checks each against `progress[0]`, the next sequence number the
// ring owes, which it shares with the readers before and after it, so a
// frame lost, duplicated or reordered across a takeover shows up.
//
// Roles:
// - "reader-async": reads with whenReadable() (so terminate() can stop it);
//   after `stallAt` frames it goes idle for good (posts "stalled").
// - "reader-hang": reads with the blocking wait(); inside the callback of
//   frame `stallAt` it hangs on `progress[2]` until the parent releases it.
// - "reader-sync": reads with the blocking wait() until it returns "closed"
//   (posts "stalled" after `stallAt` frames, and keeps reading).
// - "writer-sync": sends `frames` frames, blocking in waitWritable() when full.
// - "writer-async": sends with whenWritable(); after `stallAt` frames it goes
//   idle for good (posts "stalled").
import { RingReader } from "../../../src/data/ring_reader.ts";
import { RingWriter } from "../../../src/data/ring_writer.ts";
import { WOULD_BLOCK } from "../../../src/data/backpressure.ts";
import { ClosedError } from "../../../src/errors.ts";
import { checkFrame, writeFrame } from "../../data/_fixtures/ring_frames.ts";

/** The task a fault fixture posts to this Worker. */
export interface RingFaultTask {
  role: "reader-async" | "reader-hang" | "reader-sync" | "writer-sync" | "writer-async";
  buffer: SharedArrayBuffer;
  /** [0]: next sequence number owed; [1]: bad frames; [2]: hang release word, or how a reader-sync loop ended. */
  progress: SharedArrayBuffer;
  stallAt?: number;
  frames?: number;
  /** Take over the side of this epoch instead of attaching to a free one. */
  takeover?: number;
}

/** What this Worker posts. */
export type RingFaultMessage =
  | { kind: "attached"; epoch: number }
  | { kind: "stalled" }
  | { kind: "hung" }
  | { kind: "bad"; problem: string }
  | { kind: "done"; [key: string]: unknown };

const worker = self as unknown as {
  onmessage: ((event: MessageEvent<RingFaultTask>) => void) | null;
  postMessage(message: RingFaultMessage): void;
};

worker.onmessage = async ({ data: task }) => {
  const progress = new Int32Array(task.progress);
  if (task.role === "reader-async") await readAsync(task, progress);
  else if (task.role === "reader-hang") readHanging(task, progress);
  else if (task.role === "reader-sync") readSync(task, progress);
  else if (task.role === "writer-sync") writeSync(task);
  else await writeAsync(task);
};

/** Checks a frame against the sequence the ring owes; counts it when good. */
function check(progress: Int32Array, slot: Uint8Array, length: number, seq: number): void {
  const expected = Atomics.load(progress, 0);
  const problem = seq !== expected
    ? `seq ${seq} where ${expected} was expected`
    : checkFrame(slot, length, seq);
  if (problem !== undefined) {
    if (Atomics.add(progress, 1, 1) === 0) worker.postMessage({ kind: "bad", problem });
  }
  Atomics.store(progress, 0, seq + 1);
}

async function attachReader(task: RingFaultTask): Promise<RingReader> {
  const reader = task.takeover === undefined
    ? new RingReader(task.buffer)
    : await RingReader.takeover(task.buffer, task.takeover);
  worker.postMessage({ kind: "attached", epoch: reader.epoch });
  return reader;
}

async function readAsync(task: RingFaultTask, progress: Int32Array): Promise<void> {
  const reader = await attachReader(task);
  const stallAt = task.stallAt ?? Infinity;
  const onFrame = (slot: Uint8Array, length: number, seq: number) =>
    check(progress, slot, length, seq);
  while (await reader.whenReadable() === "ready") {
    const left = stallAt - Atomics.load(progress, 0);
    reader.poll(onFrame, Math.max(0, left));
    if (Atomics.load(progress, 0) >= stallAt) {
      worker.postMessage({ kind: "stalled" });
      await new Promise(() => {}); // alive and idle, until terminated
    }
  }
  worker.postMessage({ kind: "done", report: reader.close(), stats: reader.stats() });
}

function readHanging(task: RingFaultTask, progress: Int32Array): void {
  const reader = new RingReader(task.buffer);
  worker.postMessage({ kind: "attached", epoch: reader.epoch });
  const onFrame = (slot: Uint8Array, length: number, seq: number) => {
    if (seq === task.stallAt) {
      worker.postMessage({ kind: "hung" });
      Atomics.wait(progress, 2, 0); // hung inside the callback until released
    }
    check(progress, slot, length, seq);
  };
  let polls = 0;
  let result = "";
  try {
    while ((result = reader.wait()) === "ready") {
      reader.poll(onFrame);
      polls++;
    }
  } catch (error) {
    result = error instanceof ClosedError ? "ClosedError" : String(error);
  }
  worker.postMessage({
    kind: "done",
    result,
    closed: reader.closed,
    polls,
    progress: Atomics.load(progress, 0),
  });
}

function readSync(task: RingFaultTask, progress: Int32Array): void {
  const reader = new RingReader(task.buffer);
  worker.postMessage({ kind: "attached", epoch: reader.epoch });
  let told = false;
  const onFrame = (slot: Uint8Array, length: number, seq: number) => {
    check(progress, slot, length, seq);
    if (!told && seq + 1 >= task.stallAt!) {
      told = true;
      worker.postMessage({ kind: "stalled" });
    }
  };
  let result = "";
  while ((result = reader.wait()) === "ready") reader.poll(onFrame);
  // Told through shared memory: a terminated Worker's messages are never delivered.
  const closed = result === "closed" && reader.closed &&
    reader.close().consumed === seqDone(progress);
  Atomics.store(progress, 2, closed ? 1 : 2);
  Atomics.notify(progress, 2);
}

function seqDone(progress: Int32Array): number {
  return Atomics.load(progress, 0);
}

function writeSync(task: RingFaultTask): void {
  const writer = new RingWriter(task.buffer);
  worker.postMessage({ kind: "attached", epoch: writer.epoch });
  const frame = new Uint8Array(writer.slotSize);
  let sent = 0;
  let result = "sent";
  try {
    for (; sent < task.frames!; sent++) {
      const length = writeFrame(frame, sent);
      while (writer.send(frame.subarray(0, length)) === WOULD_BLOCK) {
        result = writer.waitWritable();
        if (result === "closed") throw new ClosedError("ring's reader", "send");
      }
    }
  } catch (error) {
    if (!(error instanceof ClosedError)) throw error;
    result = "closed";
  }
  const stats = writer.stats();
  worker.postMessage({
    kind: "done",
    result,
    sent,
    report: writer.close(),
    readerState: stats.readerState,
    readerDeaths: stats.readerDeaths,
  });
}

async function writeAsync(task: RingFaultTask): Promise<void> {
  const writer = new RingWriter(task.buffer);
  worker.postMessage({ kind: "attached", epoch: writer.epoch });
  const frame = new Uint8Array(writer.slotSize);
  for (let sent = 0; sent < task.frames!; sent++) {
    if (sent === task.stallAt) {
      worker.postMessage({ kind: "stalled" });
      await new Promise(() => {}); // alive and idle, until terminated
    }
    const length = writeFrame(frame, sent);
    while (writer.send(frame.subarray(0, length)) === WOULD_BLOCK) {
      if (await writer.whenWritable() === "closed") return;
    }
  }
  writer.close();
}
