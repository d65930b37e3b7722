// Run by ring_shape_test.ts in a child process with
// `--v8-flags=--allow-natives-syntax,--expose-gc`: streams through one ring
// with `send()` and `poll()` optimized, lets every ring be collected, and
// prints V8's optimization status of both methods before and after.
import { RingReader } from "../../../src/data/ring_reader.ts";
import { RingWriter } from "../../../src/data/ring_writer.ts";

// V8 intrinsics, reachable only through code compiled at run time.
const status = new Function("f", "return %GetOptimizationStatus(f)") as (f: unknown) => number;
const optimize = new Function(
  "f",
  "%PrepareFunctionForOptimization(f); %OptimizeFunctionOnNextCall(f);",
) as (f: unknown) => void;
const gc = (globalThis as unknown as { gc: () => void }).gc;

const send = RingWriter.prototype.send;
const poll = RingReader.prototype.poll;
let sum = 0;

function onFrame(slot: Uint8Array): void {
  sum += slot[0]!;
}

/** One ring, used and closed; nothing of it outlives this call. */
function stream(frames: number): void {
  const writer = RingWriter.create({ slots: 64, slotSize: 8 });
  const reader = new RingReader(writer.buffer);
  const frame = Uint8Array.of(1, 2, 3);
  for (let i = 0; i < frames; i++) {
    writer.send(frame);
    if (i % 32 === 31) reader.poll(onFrame);
    if (i === frames / 2) {
      optimize(send);
      optimize(poll);
    }
  }
  writer.close();
  reader.close();
}

stream(20_000);
const before = [status(send), status(poll)];
// V8 keeps an unused shape for a few collections before it lets it go.
for (let round = 0; round < 2; round++) {
  for (let i = 0; i < 6; i++) gc();
  await new Promise((resolve) => setTimeout(resolve, 10));
}
const after = [status(send), status(poll)];
console.log(JSON.stringify({ before, after, frames: sum }));
