import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { channel } from "../../src/chan/channel.ts";
import { WOULD_BLOCK } from "../../src/data/backpressure.ts";
import { ClosedError } from "../../src/errors.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { recordingLogger } from "../_util/logger.ts";
import { flush, track } from "./_util.ts";

Deno.test("channel() delivers items in order and refuses a send when full", () => {
  using ch = channel<number>(3);
  assertEquals([ch.trySend(10), ch.trySend(11), ch.trySend(12)], [0, 1, 2]);
  assertEquals(ch.trySend(13), WOULD_BLOCK);
  assertEquals(ch.depth, 3);
  assertEquals(ch.tryRecv(), { ok: true, value: 10 });
  assertEquals(ch.trySend(13), 3);
  const seen: number[] = [];
  for (let r = ch.tryRecv(); r.ok; r = ch.tryRecv()) seen.push(r.value);
  assertEquals(seen, [11, 12, 13]);
  assertEquals(ch.tryRecv(), { ok: false, reason: "would-block" });
  const s = ch.stats();
  assertEquals([s.sent, s.received, s.wouldBlocks, s.peakDepth, s.depth], [4, 4, 1, 3, 0]);
});

Deno.test("Channel.send() waits while full and lets waiting sends in first come, first served", async () => {
  using ch = channel<string>(1);
  await ch.send("a");
  const b = track(ch.send("b"));
  const c = track(ch.send("c"));
  await flush();
  assertEquals([b.settled, c.settled], [false, false]);
  assertEquals(ch.stats().waitingSenders, 2);
  assertEquals(ch.trySend("x"), WOULD_BLOCK, "trySend does not overtake waiting sends");
  assertEquals(await ch.recv(), { ok: true, value: "a" });
  await flush();
  assertEquals([b.settled, b.value, c.settled], [true, "sent", false]);
  assertEquals(await ch.recv(), { ok: true, value: "b" });
  assertEquals(await c.promise, "sent");
  assertEquals(await ch.recv(), { ok: true, value: "c" });
  assertEquals(ch.stats().sendWaits, 2);
  assertEquals(ch.stats().waitingSenders, 0);
});

Deno.test("Channel.recv() waits for an item and takes it directly from a send", async () => {
  using ch = channel<number>(2);
  const r1 = track(ch.recv());
  const r2 = track(ch.recv());
  await flush();
  assertEquals(r1.settled, false);
  assertEquals(ch.stats().waitingReceivers, 2);
  assertEquals(ch.trySend(1), 0);
  assertEquals(ch.depth, 0, "handed to the waiting receive, not queued");
  await ch.send(2);
  assertEquals(await r1.promise, { ok: true, value: 1 });
  assertEquals(await r2.promise, { ok: true, value: 2 });
  assertEquals(ch.stats().recvWaits, 2);
});

Deno.test("Channel timeouts fire on the injected clock, exactly at the deadline", async (t) => {
  await t.step("send", async () => {
    const clock = new VirtualClock();
    using ch = channel<number>(1, { clock });
    ch.trySend(1);
    const s = track(ch.send(2, { timeoutMs: 50 }));
    clock.advance(49);
    await flush();
    assertEquals(s.settled, false);
    clock.advance(1);
    await flush();
    assertEquals(s.value, "timed-out");
    assertEquals(ch.tryRecv(), { ok: true, value: 1 });
    assertEquals(
      ch.tryRecv(),
      { ok: false, reason: "would-block" },
      "the timed-out item was not sent",
    );
    assertEquals(ch.stats().timeouts, 1);
  });
  await t.step("recv", async () => {
    const clock = new VirtualClock();
    using ch = channel<number>(1, { clock });
    const r = track(ch.recv({ timeoutMs: 20 }));
    clock.advance(19.5);
    await flush();
    assertEquals(r.settled, false);
    clock.advance(0.5);
    await flush();
    assertEquals(r.value, { ok: false, reason: "timed-out" });
    ch.trySend(5);
    assertEquals(ch.depth, 1, "a timed-out receive takes nothing");
  });
  await t.step("a zero timeout checks once", async () => {
    using ch = channel<number>(1);
    assertEquals(await ch.recv({ timeoutMs: 0 }), { ok: false, reason: "timed-out" });
    ch.trySend(1);
    assertEquals(await ch.send(2, { timeoutMs: 0 }), "timed-out");
    assertEquals(await ch.whenWritable({ timeoutMs: 0 }), "timed-out");
    assertEquals(await ch.whenReadable({ timeoutMs: 0 }), "ready");
  });
  await t.step("waits", async () => {
    const clock = new VirtualClock();
    using ch = channel<number>(1, { clock });
    const w = track(ch.whenReadable({ timeoutMs: 5 }));
    clock.advance(5);
    await flush();
    assertEquals(w.value, "timed-out");
  });
});

Deno.test("Channel sends and receives abandon on abort, taking nothing", async () => {
  using ch = channel<number>(1);
  ch.trySend(1);
  const controller = new AbortController();
  const s = ch.send(2, { signal: controller.signal });
  controller.abort(new Error("stop"));
  await assertRejects(() => s, Error, "stop");
  assertEquals(ch.stats().waitingSenders, 0);
  assertEquals(ch.tryRecv(), { ok: true, value: 1 });
  assertEquals(ch.tryRecv().ok, false, "the aborted item was not sent");
  const c2 = new AbortController();
  const r = ch.recv({ signal: c2.signal });
  c2.abort("bye");
  await assertRejects(() => r);
  ch.trySend(3);
  assertEquals(ch.depth, 1, "an aborted receive takes nothing");
  assertEquals(
    await ch.recv({ signal: AbortSignal.abort("now") }),
    { ok: true, value: 3 },
    "ready: no wait to abort",
  );
  await assertRejects(() => ch.recv({ signal: AbortSignal.abort("now") }));
});

Deno.test("Channel.close() reports undelivered items, rejects waiting sends and ends receives", async () => {
  const ch = channel<string>(2);
  ch.trySend("a");
  ch.trySend("b");
  const blocked = ch.send("c");
  const writable = ch.whenWritable();
  const report = ch.close();
  assertEquals(report, { received: 0, undelivered: ["a", "b"], rejectedSends: 1 });
  await assertRejects(() => blocked, ClosedError, 'the channel "default" is closed');
  assertEquals(await writable, "closed");
  assertEquals(ch.close(), report, "idempotent");
  assertEquals(ch.closed, true);
  assertThrows(() => ch.trySend("d"), ClosedError);
  await assertRejects(() => ch.send("d"), ClosedError);
  assertEquals(await ch.recv(), { ok: false, reason: "closed" });
  assertEquals(ch.tryRecv(), { ok: false, reason: "closed" });
  assertEquals(await ch.whenReadable(), "closed");

  const other = channel<number>(1);
  const waiting = other.recv();
  const iterating = (async () => {
    const seen: number[] = [];
    for await (const n of other) seen.push(n);
    return seen;
  })();
  other.trySend(1); // to the first receive
  await flush();
  other.close();
  assertEquals(await waiting, { ok: true, value: 1 });
  assertEquals(await iterating, [], "the iteration ends on close");
});

Deno.test("Channel disposal logs what it discarded", () => {
  const logger = recordingLogger();
  {
    using ch = channel<number>(4, { name: "lossy", logger });
    ch.trySend(1);
    ch.trySend(2);
  }
  assertEquals(logger.lines.length, 1);
  assertStringIncludes(
    logger.lines[0]!,
    'warn: Channel "lossy" was disposed with 2 undelivered items',
  );
  {
    using ch = channel<number>(4, { logger });
    ch.trySend(1);
    ch.tryRecv();
  }
  assertEquals(logger.lines.length, 1, "nothing lost, nothing logged");
});

Deno.test("Channel.whenIdle() resolves once every item and waiting send is taken", async () => {
  using ch = channel<number>(1);
  ch.trySend(1);
  const pending = ch.send(2);
  const idle = track(ch.whenIdle());
  ch.tryRecv();
  await flush();
  assertEquals(idle.settled, false, "the waiting send's item is now queued");
  ch.tryRecv();
  await pending;
  await flush();
  assertEquals(idle.settled, true);
  await ch.whenIdle(); // at once
});

Deno.test("channel(Infinity) is unbounded; a capacity must be chosen", () => {
  using ch = channel<number>(Infinity);
  for (let i = 0; i < 10_000; i++) assertEquals(ch.trySend(i), i);
  assertEquals(ch.stats().capacity, Infinity);
  assertEquals(ch.depth, 10_000);
  for (const bad of [0, -1, 1.5, NaN, -Infinity]) {
    assertThrows(() => channel(bad), RangeError, "'capacity'");
  }
  assertThrows(() => channel("5" as unknown as number), TypeError, "'capacity'");
  assertThrows(() => channel(undefined as unknown as number), TypeError, "'capacity'");
  assertThrows(() => channel(1, { name: "" }), TypeError, "'name'");
  assertThrows(() => channel(1, { clock: {} as VirtualClock }), TypeError, "'clock'");
  assertThrows(() => channel(1, null as unknown as object), TypeError, "'options'");
});

Deno.test("Channel rejects bad wait options with clear errors", async () => {
  using ch = channel<number>(1);
  await assertRejects(() => ch.recv({ timeoutMs: -1 }), RangeError, "'timeoutMs'");
  await assertRejects(
    () => ch.recv({ signal: {} as AbortSignal }),
    TypeError,
    "'signal' must be an AbortSignal",
  );
  ch.trySend(1);
  await assertRejects(() => ch.send(2, 5 as unknown as object), TypeError, "'options'");
  assertEquals(ch.depth, 1);
});

Deno.test("Channel receives that poll with short timeouts do not pile up", async () => {
  const clock = new VirtualClock();
  using ch = channel<number>(1, { clock });
  for (let i = 0; i < 1000; i++) {
    const r = ch.recv({ timeoutMs: 1 });
    clock.advance(1);
    assertEquals(await r, { ok: false, reason: "timed-out" });
  }
  assertEquals(ch.stats().waitingReceivers, 0);
  const live = ch.recv();
  ch.trySend(7);
  assertEquals(await live, { ok: true, value: 7 });
  assertEquals(ch.stats().timeouts, 1000);
});

Deno.test("Channel exports depth, waits and would-blocks as metrics labelled by name", async () => {
  const registry = new MetricsRegistry();
  const ch = channel<number>(2, { name: "jobs", metrics: registry });
  ch.trySend(1);
  ch.trySend(2);
  ch.trySend(3);
  const waiting = ch.send(4);
  let text = registry.exposeText();
  assertStringIncludes(text, 'chronetix_channel_depth{channel="jobs"} 2\n');
  assertStringIncludes(text, 'chronetix_channel_would_blocks_total{channel="jobs"} 1\n');
  assertStringIncludes(text, 'chronetix_channel_send_waits_total{channel="jobs"} 1\n');
  assertStringIncludes(text, 'chronetix_channel_waiting_senders{channel="jobs"} 1\n');
  assertStringIncludes(text, 'chronetix_channel_capacity{channel="jobs"} 2\n');
  ch.tryRecv();
  await waiting;
  ch.close();
  text = registry.exposeText();
  assertStringIncludes(text, 'chronetix_channel_sent_total{channel="jobs"} 3\n');
  assertStringIncludes(text, 'chronetix_channel_received_total{channel="jobs"} 1\n');
  const two = channel<number>(Infinity, { name: "other", metrics: registry });
  assertStringIncludes(registry.exposeText(), 'chronetix_channel_capacity{channel="other"} +Inf\n');
  two.close();
});

Deno.test("Channel serves many producers and one iterating consumer without loss", async () => {
  const ch = channel<number>(4);
  const producers = Array.from({ length: 5 }, (_, p) =>
    (async () => {
      for (let i = 0; i < 200; i++) assertEquals(await ch.send(p * 1000 + i), "sent");
    })());
  const seen: number[] = [];
  const consumer = (async () => {
    for await (const n of ch) seen.push(n);
  })();
  await Promise.all(producers);
  await ch.whenIdle();
  assertEquals(ch.close().undelivered, []);
  await consumer;
  assertEquals(seen.length, 1000);
  for (let p = 0; p < 5; p++) {
    const mine = seen.filter((n) => Math.floor(n / 1000) === p);
    assertEquals(mine, Array.from({ length: 200 }, (_, i) => p * 1000 + i), "per-producer order");
  }
  assert(ch.stats().peakDepth <= 4);
});
