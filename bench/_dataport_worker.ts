// The consuming side of `bench:dataport`, run in a module Worker: either a
// RingReader on a shared ring, or a postMessage receiver. It touches the
// first and last byte of every frame (so a frame is read, not just counted)
// and reports the frame count and that checksum when it has all frames.
import { RingReader } from "../src/data/ring_reader.ts";

/** The first message a bench worker gets. */
export interface DataPortWorkerStart {
  mode: "ring" | "copy" | "transfer" | "batch";
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
