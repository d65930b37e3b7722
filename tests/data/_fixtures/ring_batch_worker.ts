// A Worker for the batched-publication tests: a RingWriter with
// `publishEvery` that sends frames in a synchronous loop, optionally
// flushes, then stalls (its thread blocked, as a stuck or dying thread: no
// event-loop turn, so no turn-end publication and no beat) until the test
// releases it, then closes and reports.
import { RingWriter } from "../../../src/data/ring_writer.ts";
import { WOULD_BLOCK } from "../../../src/data/backpressure.ts";
import type { RingCloseReport } from "../../../src/data/ring_stats.ts";
import type { Logger } from "../../../src/logger.ts";
import { writeFrame } from "./ring_frames.ts";

/** The task of a batch test worker. */
export interface BatchWorkerTask {
  buffer: SharedArrayBuffer;
  frames: number;
  publishEvery: number;
  /** Call `flush()` before stalling. */
  flush: boolean;
  /** Int32 word 0: the worker stalls while it is 0. */
  stall: SharedArrayBuffer;
}

/** The worker's messages: first when it stalls, then when it closed. */
export type BatchWorkerMessage =
  | { t: "stalled"; sent: number; unpublished: number; flushed: number }
  | { t: "closed"; report: RingCloseReport; logged: string[] };

const worker = self as unknown as {
  onmessage: ((event: MessageEvent<BatchWorkerTask>) => void) | null;
  postMessage(message: BatchWorkerMessage): void;
};

worker.onmessage = ({ data: task }) => {
  const logged: string[] = [];
  const logger: Logger = {
    error: (line) => logged.push(line),
    warn: (line) => logged.push(line),
    info: (line) => logged.push(line),
  };
  const writer = new RingWriter(task.buffer, { publishEvery: task.publishEvery, logger });
  const frame = new Uint8Array(writer.slotSize);
  for (let seq = 0; seq < task.frames; seq++) {
    const length = writeFrame(frame, seq);
    if (writer.send(frame.subarray(0, length)) === WOULD_BLOCK) {
      throw new Error("the batch worker's ring must hold every frame");
    }
  }
  const flushed = task.flush ? writer.flush() : 0;
  worker.postMessage({ t: "stalled", sent: task.frames, unpublished: writer.unpublished, flushed });
  const stall = new Int32Array(task.stall);
  while (Atomics.load(stall, 0) === 0) Atomics.wait(stall, 0, 0);
  worker.postMessage({ t: "closed", report: writer.close(), logged });
};
