// The consumer of `examples/data_port_stream.ts`: attaches a RingReader to
// the ring it is given, reads every frame in place, checks its sequence
// number (the first 4 bytes), and reports what it consumed.
import { RingReader } from "../mod.ts";

const worker = self as unknown as {
  onmessage: ((event: MessageEvent<SharedArrayBuffer>) => void) | null;
  postMessage(message: unknown): void;
};

worker.onmessage = ({ data: buffer }) => {
  const reader = new RingReader(buffer);
  worker.postMessage("ready");
  let expected = 0;
  let outOfOrder = 0;
  const onFrame = (slot: Uint8Array, length: number) => {
    const seq = length >= 4 ? slot[0]! | slot[1]! << 8 | slot[2]! << 16 | slot[3]! << 24 : expected;
    if (seq >>> 0 !== expected >>> 0) outOfOrder++;
    expected++;
  };
  while (reader.wait() === "ready") reader.poll(onFrame);
  const report = reader.close();
  worker.postMessage({ ...report, outOfOrder });
};
