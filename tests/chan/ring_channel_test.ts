import { assertEquals, assertInstanceOf, assertRejects, assertThrows } from "@std/assert";
import { RingReceiver, RingSender } from "../../src/chan/ring_channel.ts";
import {
  BYTES_CODEC,
  type FrameCodec,
  FrameCodecError,
  type FrameValue,
} from "../../src/chan/codec.ts";
import { recvFrom, select } from "../../src/chan/select.ts";
import { channel } from "../../src/chan/channel.ts";
import { RingWriter } from "../../src/data/ring_writer.ts";
import { WOULD_BLOCK } from "../../src/data/backpressure.ts";
import { ClosedError } from "../../src/errors.ts";
import type { EchoTask } from "./_fixtures/echo_worker.ts";

/** Starts the echo worker on two fresh rings; resolves its count once it is done. */
function startEcho(blocking: boolean, slots = 8) {
  const tx = RingSender.create({ slots, slotSize: 256, name: "to-worker" });
  const rx = RingReceiver.create({ slots, slotSize: 256, name: "to-main" });
  const worker = new Worker(new URL("./_fixtures/echo_worker.ts", import.meta.url), {
    type: "module",
  });
  const done = new Promise<number>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<{ received: number }>) => resolve(e.data.received);
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(e.message));
    };
  });
  const task: EchoTask = { toWorker: tx.buffer, toMain: rx.buffer, blocking };
  worker.postMessage(task);
  return { tx, rx, worker, done };
}

for (const blocking of [false, true]) {
  Deno.test(
    `RingSender and RingReceiver carry typed items to a real Worker and back (${
      blocking ? "recvSync" : "for await"
    } in the worker)`,
    async () => {
      const { tx, rx, worker, done } = startEcho(blocking);
      try {
        const items: FrameValue[] = [];
        for (let i = 0; i < 300; i++) {
          items.push(
            i % 3 === 0 ? i : i % 3 === 1 ? Float64Array.of(i, i + 0.5) : { n: i, tag: `t${i}` },
          );
        }
        // Send everything while receiving the answers: the small rings make both sides wait.
        const sending = (async () => {
          for (const item of items) assertEquals(await tx.send(item), "sent");
          await tx.whenIdle();
          tx.close();
        })();
        const answers: FrameValue[] = [];
        for await (const value of rx) answers.push(value);
        await sending;
        assertEquals(await done, items.length);
        assertEquals(answers.length, items.length);
        for (let i = 0; i < items.length; i++) {
          const item = items[i]!;
          const expected = typeof item === "number"
            ? item * 2
            : ArrayBuffer.isView(item)
            ? Float64Array.of(i + 0.5, i)
            : { echo: item };
          assertEquals(answers[i], expected, `item ${i}`);
        }
        assertEquals(rx.stats().framesReceived, items.length);
      } finally {
        tx.close();
        rx.close();
        worker.terminate();
      }
    },
  );
}

Deno.test("RingReceiver works with select() next to an in-thread channel", async () => {
  using tx = RingSender.create<FrameValue>({ slots: 4, slotSize: 32 });
  using rx = new RingReceiver<FrameValue>(tx.buffer);
  using local = channel<string>(1);
  const s = select([recvFrom(local), recvFrom(rx)]);
  tx.trySend("from the ring");
  assertEquals(await s, { index: 1, value: { ok: true, value: "from the ring" } });
  tx.trySend(1);
  local.trySend("local");
  assertEquals((await select([recvFrom(local), recvFrom(rx)])).index, 0);
  assertEquals(rx.tryRecv(), { ok: true, value: 1 }, "the ring's item waited");
});

Deno.test("RingSender applies backpressure and reports the end", async () => {
  const tx = RingSender.create<number>({ slots: 2, slotSize: 16 });
  const rx = new RingReceiver<number>(tx.buffer);
  assertEquals([tx.trySend(1), tx.trySend(2), tx.trySend(3)], [0, 1, WOULD_BLOCK]);
  assertEquals(await tx.send(3, { timeoutMs: 0 }), "timed-out");
  const sending = tx.send(3);
  assertEquals(rx.tryRecv(), { ok: true, value: 1 });
  assertEquals(await sending, "sent");
  rx.close();
  assertThrows(() => tx.trySend(4), ClosedError);
  await assertRejects(() => tx.send(4), ClosedError);
  assertEquals(rx.tryRecv(), { ok: false, reason: "closed" });
  assertEquals(tx.close(), { consumed: 1, unconsumed: 2 });
});

Deno.test("RingReceiver skips a bad frame with a clear error and goes on", async () => {
  const writer = RingWriter.create({ slots: 8, slotSize: 16 });
  using rx = new RingReceiver<FrameValue>(writer.buffer);
  writer.send(Uint8Array.of(99)); // an unknown tag
  writer.send(Uint8Array.of(4, 1, 2)); // a number frame of the wrong length
  const good = new Uint8Array(9);
  good[0] = 4;
  new DataView(good.buffer).setFloat64(1, 2.5, true);
  writer.send(good);
  assertThrows(() => rx.tryRecv(), FrameCodecError, "its tag 99 is unknown");
  const error = await assertRejects(() => rx.recv(), FrameCodecError);
  assertInstanceOf(error, FrameCodecError);
  assertEquals(error.code, "E_BAD_FRAME");
  assertEquals(await rx.recv(), { ok: true, value: 2.5 });
  assertEquals(rx.stats().consumerErrors, 2);
  writer.close();
  assertEquals(await rx.recv(), { ok: false, reason: "closed" });
});

Deno.test("RingSender refuses what its codec cannot carry, and sends nothing", () => {
  using tx = RingSender.create({ slots: 4, slotSize: 16 });
  using rx = new RingReceiver(tx.buffer);
  assertThrows(() => tx.trySend("x".repeat(64)), RangeError, "the slot holds 16");
  assertThrows(() => tx.trySend((() => 1) as never), TypeError, "'value' must be");
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assertThrows(() => tx.trySend(cyclic as never), TypeError, "JSON-serialisable");
  assertThrows(() => tx.trySend(10n as never), TypeError);
  assertEquals(rx.tryRecv(), { ok: false, reason: "would-block" });
  const broken: FrameCodec<number> = { name: "broken", encode: () => 0, decode: () => 0 };
  using tx2 = RingSender.create({ slots: 4, slotSize: 16, codec: broken });
  assertThrows(() => tx2.trySend(1), RangeError, 'codec "broken" must return a length');
  assertThrows(
    () => RingSender.create({ codec: {} as never }),
    TypeError,
    "'codec' must be a FrameCodec",
  );
});

Deno.test("RingSender with BYTES_CODEC carries raw bytes", async () => {
  using tx = RingSender.create({ slots: 4, slotSize: 8, codec: BYTES_CODEC });
  using rx = new RingReceiver(tx.buffer, { codec: BYTES_CODEC });
  await tx.send(Uint8Array.of(1, 2, 3));
  const r = await rx.recv();
  assertEquals(r, { ok: true, value: Uint8Array.of(1, 2, 3) });
  assertThrows(() => tx.trySend(new Uint8Array(0)), RangeError, "must not be empty");
});

Deno.test("select() races a ring fed by a real Worker against a local channel: nothing lost, nothing twice", async () => {
  const { tx, rx, worker, done } = startEcho(false, 4);
  using local = channel<number>(2);
  try {
    const n = 300;
    const feeding = (async () => {
      for (let i = 0; i < n; i++) await tx.send(i);
      await tx.whenIdle();
      tx.close();
    })();
    const localFeed = (async () => {
      for (let i = 0; i < n; i++) {
        await local.send(i);
        if (i % 7 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
      }
    })();
    const fromRing: FrameValue[] = [];
    const fromLocal: number[] = [];
    let ringOpen = true;
    while (ringOpen || fromLocal.length < n) {
      const r = ringOpen
        ? await select([recvFrom(rx), recvFrom(local)])
        : await select([recvFrom(local)]);
      if (ringOpen && r.index === 0) {
        if (r.value.ok) fromRing.push(r.value.value);
        else ringOpen = false;
      } else if (r.value.ok) fromLocal.push(r.value.value as number);
    }
    await Promise.all([feeding, localFeed]);
    assertEquals(await done, n);
    assertEquals(fromRing, Array.from({ length: n }, (_, i) => i * 2));
    assertEquals(fromLocal, Array.from({ length: n }, (_, i) => i));
  } finally {
    tx.close();
    rx.close();
    worker.terminate();
  }
});
