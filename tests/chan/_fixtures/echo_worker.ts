// A Worker that talks to the main thread through two ring channels: it
// receives items on one, answers each on the other (numbers doubled, typed
// arrays reversed, anything else wrapped in { echo }), and closes its
// sending end once the main thread closed its own.
import { RingReceiver, RingSender } from "../../../src/chan/ring_channel.ts";
import type { FrameValue } from "../../../src/chan/codec.ts";

/** The rings the worker attaches to. */
export interface EchoTask {
  toWorker: SharedArrayBuffer;
  toMain: SharedArrayBuffer;
  /** Receive with `recvSync()` (blocking) instead of `for await`. */
  blocking: boolean;
}

const worker = self as unknown as {
  onmessage: ((event: MessageEvent<EchoTask>) => void) | null;
  postMessage(message: { received: number }): void;
};

function answer(value: FrameValue): FrameValue {
  if (typeof value === "number") return value * 2;
  if (ArrayBuffer.isView(value)) return (value as Float64Array).slice().reverse();
  return { echo: value ?? null };
}

worker.onmessage = async ({ data }) => {
  const rx = new RingReceiver(data.toWorker, { name: "to-worker" });
  const tx = new RingSender(data.toMain, { name: "to-main" });
  let received = 0;
  if (data.blocking) {
    for (let r = rx.recvSync(); r.ok; r = rx.recvSync()) {
      received++;
      await tx.send(answer(r.value));
    }
  } else {
    for await (const value of rx) {
      received++;
      await tx.send(answer(value));
    }
  }
  await tx.whenIdle();
  tx.close();
  rx.close();
  worker.postMessage({ received });
};
