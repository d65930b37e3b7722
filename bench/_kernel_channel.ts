// The `channel` case of bench:kernel: send+recv pairs per second.
//
// - `chronetix:channel` against `promise-queue`, in one thread: a producer
//   task awaits `send(i)` while a consumer task awaits `recv()`, capacity
//   1024 for the channel; `promise-queue` is the async queue a user would
//   write (an array of items, an array of waiting resolvers, a promise per
//   item), unbounded.
// - `chronetix:channel-ring` against `postMessage`, across threads: the main
//   thread sends numbers to a Worker that counts them and answers once it
//   has them all. The ring channel (1024 slots, AUTO_CODEC) uses
//   `trySend()` and awaits `send()` only when the ring is full; the Worker
//   receives with `recvSync()`. `postMessage` posts one message per number.
//
// Rounds interleave the subjects; figures are medians, and each chronetix
// row carries its ratio to the baseline of the same run.
import { channel } from "../src/chan/channel.ts";
import { RingSender } from "../src/chan/ring_channel.ts";
import { WOULD_BLOCK } from "../src/data/backpressure.ts";
import { type BenchResult, median, progress, round } from "./_report.ts";

/** The async queue a user would write: a promise per item. */
class PromiseQueue<T> {
  #items: T[] = [];
  #waiters: ((value: T) => void)[] = [];
  send(value: T): Promise<void> {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter(value);
    else this.#items.push(value);
    return Promise.resolve();
  }
  recv(): Promise<T> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift()!);
    return new Promise<T>((resolve) => this.#waiters.push(resolve));
  }
}

interface Pipe {
  send(value: number): Promise<unknown>;
  recv(): Promise<unknown>;
}

/** Runs a producer and a consumer of `items` pairs; returns pairs per second. */
async function inThread(pipe: Pipe, items: number): Promise<number> {
  const start = performance.now();
  const consumer = (async () => {
    for (let i = 0; i < items; i++) await pipe.recv();
  })();
  for (let i = 0; i < items; i++) await pipe.send(i);
  await consumer;
  return items / ((performance.now() - start) / 1000);
}

async function chronetixChannel(items: number): Promise<number> {
  using ch = channel<number>(1024, { name: "bench" });
  return await inThread(ch, items);
}

async function promiseQueue(items: number): Promise<number> {
  return await inThread(new PromiseQueue<number>(), items);
}

function answer(worker: Worker): Promise<number> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<{ count: number }>) => resolve(e.data.count);
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(e.message));
    };
  });
}

async function channelRing(worker: Worker, items: number): Promise<number> {
  using tx = RingSender.create<number>({ slots: 1024, slotSize: 16, name: "bench" });
  const done = answer(worker);
  const start = performance.now();
  worker.postMessage({ kind: "ring", buffer: tx.buffer, items });
  for (let i = 0; i < items; i++) {
    if (tx.trySend(i) === WOULD_BLOCK) await tx.send(i);
  }
  const count = await done;
  const elapsed = performance.now() - start;
  if (count !== items) throw new Error(`The ring worker got ${count} of ${items} items`);
  return items / (elapsed / 1000);
}

async function postMessageRun(worker: Worker, items: number): Promise<number> {
  worker.postMessage({ kind: "post", items });
  const done = answer(worker);
  const start = performance.now();
  for (let i = 0; i < items; i++) worker.postMessage(i);
  const count = await done;
  const elapsed = performance.now() - start;
  if (count !== items) throw new Error(`The postMessage worker got ${count} of ${items} items`);
  return items / (elapsed / 1000);
}

/**
 * Runs the `channel` case: send+recv pairs per second of the in-thread
 * channel against a promise-per-item queue, and of the ring channel
 * against `postMessage`, interleaved round by round.
 *
 * @param quick Fewer, shorter rounds.
 * @returns Four rows (figure `ops_per_s`), the chronetix ones with their ratio.
 */
export async function benchChannel(quick: boolean): Promise<BenchResult[]> {
  const items = quick ? 100_000 : 500_000;
  const crossItems = quick ? 100_000 : 500_000;
  const rounds = quick ? 3 : 7;
  const url = new URL("./_kernel_channel_worker.ts", import.meta.url);
  const ringWorker = new Worker(url, { type: "module" });
  const postWorker = new Worker(url, { type: "module" });
  const rates = new Map<string, number[]>([
    ["chronetix:channel", []],
    ["promise-queue", []],
    ["chronetix:channel-ring", []],
    ["postMessage", []],
  ]);
  try {
    // Warm-up: compile every path once.
    await chronetixChannel(items);
    await promiseQueue(items);
    await channelRing(ringWorker, crossItems / 10);
    await postMessageRun(postWorker, crossItems / 10);
    for (let round = 0; round < rounds; round++) {
      progress(`channel: round ${round + 1}/${rounds}`);
      const flip = round % 2 === 1;
      const local = flip
        ? [["promise-queue", promiseQueue], ["chronetix:channel", chronetixChannel]] as const
        : [["chronetix:channel", chronetixChannel], ["promise-queue", promiseQueue]] as const;
      for (const [name, run] of local) rates.get(name)!.push(await run(items));
      if (flip) {
        rates.get("postMessage")!.push(await postMessageRun(postWorker, crossItems));
        rates.get("chronetix:channel-ring")!.push(await channelRing(ringWorker, crossItems));
      } else {
        rates.get("chronetix:channel-ring")!.push(await channelRing(ringWorker, crossItems));
        rates.get("postMessage")!.push(await postMessageRun(postWorker, crossItems));
      }
    }
  } finally {
    ringWorker.terminate();
    postWorker.terminate();
  }
  const m = (name: string) => median(rates.get(name)!);
  return [
    {
      case: "channel",
      subject: "chronetix:channel",
      ops_per_s: round(m("chronetix:channel"), 0),
      vs_promise_queue_ratio: round(m("chronetix:channel") / m("promise-queue"), 2),
    },
    { case: "channel", subject: "promise-queue", ops_per_s: round(m("promise-queue"), 0) },
    {
      case: "channel",
      subject: "chronetix:channel-ring",
      ops_per_s: round(m("chronetix:channel-ring"), 0),
      vs_postMessage_ratio: round(m("chronetix:channel-ring") / m("postMessage"), 2),
    },
    { case: "channel", subject: "postMessage", ops_per_s: round(m("postMessage"), 0) },
  ];
}
