// The consuming side of `bench:dataport`, run in a module Worker: a
// RingReader on a shared ring, the reader of the floor ring
// (`_floor_ring.ts`), or a postMessage receiver. It touches the
// first and last byte of every frame (so a frame is read, not just counted)
// and reports the frame count and that checksum when it has all frames.
import { RingReader } from "../src/data/ring_reader.ts";
import { floorRead } from "./_floor_ring.ts";

/** The first message a bench worker gets. */
export interface DataPortWorkerStart {
  /** `ring-pause`: a ring reader that reads `frames` frames, posts "paused", and drains the rest after the next message. */
  mode: "ring" | "ring-pause" | "floor" | "copy" | "transfer" | "batch";
  frames: number;
  frameSize: number;
  batch: number;
  buffer?: SharedArrayBuffer;
}

/** What the worker posts back when done. */
export interface DataPortWorkerDone {
  frames: number;
  checksum: number;
}

const worker = self as unknown as {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
};

worker.onmessage = ({ data }: MessageEvent<DataPortWorkerStart>) => {
  if (data.mode === "ring") {
    worker.postMessage(readRing(data.buffer!));
    return;
  }
  if (data.mode === "ring-pause") {
    pauseRing(data.buffer!, data.frames);
    return;
  }
  if (data.mode === "floor") {
    worker.postMessage("ready");
    worker.postMessage({ frames: data.frames, checksum: floorRead(data.buffer!, data.frames) });
    return;
  }
  let frames = 0;
  let checksum = 0;
  const size = data.frameSize;
  worker.onmessage = ({ data: bytes }: MessageEvent<Uint8Array>) => {
    if (data.mode === "batch") {
      for (let offset = 0; offset < bytes.length; offset += size) {
        checksum = (checksum + bytes[offset]! + bytes[offset + size - 1]!) | 0;
        frames++;
      }
    } else {
      checksum = (checksum + bytes[0]! + bytes[bytes.length - 1]!) | 0;
      frames++;
    }
    if (frames === data.frames) worker.postMessage({ frames, checksum });
  };
  worker.postMessage("ready");
};

function pauseRing(buffer: SharedArrayBuffer, frames: number): void {
  const reader = new RingReader(buffer);
  let checksum = 0;
  let consumed = 0;
  const onFrame = (slot: Uint8Array, length: number) => {
    checksum = (checksum + slot[0]! + slot[length - 1]!) | 0;
  };
  worker.postMessage("ready");
  while (consumed < frames && reader.wait() === "ready") {
    consumed += reader.poll(onFrame, frames - consumed);
  }
  worker.onmessage = () => {
    while (reader.wait() === "ready") reader.poll(onFrame);
    worker.postMessage({ frames: reader.close().consumed, checksum });
  };
  worker.postMessage("paused");
}

function readRing(buffer: SharedArrayBuffer): DataPortWorkerDone {
  const reader = new RingReader(buffer);
  let checksum = 0;
  const onFrame = (slot: Uint8Array, length: number) => {
    checksum = (checksum + slot[0]! + slot[length - 1]!) | 0;
  };
  worker.postMessage("ready");
  while (reader.wait() === "ready") reader.poll(onFrame);
  const { consumed } = reader.close();
  return { frames: consumed, checksum };
}
