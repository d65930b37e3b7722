// The receiving side of the `channel` case of bench:kernel, in a Worker:
// `{ kind: "ring", buffer, items }` receives that many items from a ring
// channel (blocking `recvSync()`, as a Worker that only receives would);
// `{ kind: "post", items }` counts that many `postMessage` messages. Either
// way it answers `{ count }` when done.
import { RingReceiver } from "../src/chan/ring_channel.ts";

type Task = { kind: "ring"; buffer: SharedArrayBuffer; items: number } | {
  kind: "post";
  items: number;
};

const worker = self as unknown as {
  onmessage: ((event: MessageEvent<Task | number>) => void) | null;
  postMessage(message: { count: number }): void;
};

let expected = 0;
let count = 0;

worker.onmessage = ({ data }) => {
  if (typeof data === "number") {
    if (++count === expected) worker.postMessage({ count });
    return;
  }
  if (data.kind === "post") {
    expected = data.items;
    count = 0;
    return;
  }
  const rx = new RingReceiver<number>(data.buffer, { name: "bench" });
  let n = 0;
  let sum = 0;
  while (n < data.items) {
    const r = rx.recvSync();
    if (!r.ok) break;
    sum += r.value;
    n++;
  }
  rx.close();
  worker.postMessage({ count: sum >= 0 ? n : -1 });
};
