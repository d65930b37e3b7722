import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { channel } from "../../src/chan/channel.ts";
import { aborted, after, recvFrom, select, sendTo } from "../../src/chan/select.ts";
import { WOULD_BLOCK } from "../../src/data/backpressure.ts";
import { ClosedError } from "../../src/errors.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { mulberry32, testSeeds } from "../_util/prng.ts";
import { flush, track } from "./_util.ts";

Deno.test("select() runs the first ready branch in list order", async () => {
  using a = channel<string>(2);
  using b = channel<string>(2);
  a.trySend("a1");
  b.trySend("b1");
  assertEquals(await select([recvFrom(b), recvFrom(a)]), {
    index: 0,
    value: { ok: true, value: "b1" },
  });
  assertEquals([a.depth, b.depth], [1, 0], "the loser kept its item");
  assertEquals(await select([recvFrom(b), recvFrom(a)]), {
    index: 1,
    value: { ok: true, value: "a1" },
  });
});

Deno.test("select() leaves the losing receive's item in its channel when both become ready at once", async () => {
  using a = channel<number>(2);
  using b = channel<number>(2);
  const s = select([recvFrom(a), recvFrom(b)]);
  b.trySend(2); // both ready in the same turn
  a.trySend(1);
  const r = await s;
  assert(r.index === 0 || r.index === 1);
  const winner = r.index === 0 ? a : b;
  const loser = r.index === 0 ? b : a;
  assertEquals(winner.depth, 0);
  assertEquals(loser.depth, 1, "no item lost by the losing branch");
  assertEquals(a.stats().received + b.stats().received, 1, "exactly one item taken");
});

Deno.test("select() never sends through a send branch that loses", async () => {
  using out = channel<number>(1);
  using inbox = channel<string>(1);
  out.trySend(0);
  const s = track(select([sendTo(out, 1), recvFrom(inbox)]));
  await flush();
  assertEquals(s.settled, false);
  inbox.trySend("go");
  assertEquals((await s.promise).index, 1);
  assertEquals(out.tryRecv(), { ok: true, value: 0 });
  await flush();
  assertEquals(out.tryRecv(), { ok: false, reason: "would-block" }, "the losing send never sent");
  assertEquals(out.stats().sent, 1);
});

Deno.test("select() sends once room appears, taking nothing from the other branches", async () => {
  using out = channel<number>(1);
  using inbox = channel<string>(1);
  out.trySend(0);
  const s = select([recvFrom(inbox), sendTo(out, 1)]);
  assertEquals(out.tryRecv(), { ok: true, value: 0 });
  assertEquals(await s, { index: 1, value: "sent" });
  assertEquals(out.tryRecv(), { ok: true, value: 1 });
  inbox.trySend("later");
  await flush();
  assertEquals(inbox.depth, 1, "the finished select does not take later items");
});

Deno.test("select() timers and timeouts run on the injected clock", async (t) => {
  await t.step("a timer branch elapses exactly at its delay", async () => {
    const clock = new VirtualClock(1000);
    using ch = channel<number>(1);
    const s = track(select([recvFrom(ch), after(25)], { clock }));
    clock.advance(24);
    await flush();
    assertEquals(s.settled, false);
    clock.advance(1);
    assertEquals(await s.promise, { index: 1, value: "elapsed" });
    ch.trySend(1);
    assertEquals(ch.depth, 1);
  });
  await t.step("timeoutMs gives index -1", async () => {
    const clock = new VirtualClock();
    using ch = channel<number>(1);
    const s = select([recvFrom(ch), after(30)], { clock, timeoutMs: 20 });
    clock.advance(20);
    assertEquals(await s, { index: -1, value: "timed-out" });
  });
  await t.step("a branch ready at the timeout's instant wins", async () => {
    const clock = new VirtualClock();
    const s = select([after(20)], { clock, timeoutMs: 20 });
    clock.advance(50);
    assertEquals(await s, { index: 0, value: "elapsed" });
  });
  await t.step("after(0) and timeoutMs 0 check at once", async () => {
    using ch = channel<number>(1);
    assertEquals(await select([recvFrom(ch), after(0)]), { index: 1, value: "elapsed" });
    assertEquals(await select([recvFrom(ch)], { timeoutMs: 0 }), {
      index: -1,
      value: "timed-out",
    });
  });
  await t.step("a real-clock timer that loses is cancelled", async () => {
    using ch = channel<number>(1);
    const s = select([recvFrom(ch), after(60_000)]);
    ch.trySend(9);
    assertEquals(await s, { index: 0, value: { ok: true, value: 9 } });
    // The ops sanitizer fails the test if the 60 s timer were left pending.
  });
});

Deno.test("select() with a signal rejects on abort and leaves every channel untouched", async () => {
  using a = channel<number>(1);
  using b = channel<number>(1);
  b.trySend(0); // full: the send branch waits
  const controller = new AbortController();
  const s = select([recvFrom(a), sendTo(b, 1)], { signal: controller.signal });
  controller.abort(new Error("cancelled"));
  await assertRejects(() => s, Error, "cancelled");
  a.trySend(5);
  b.tryRecv();
  await flush();
  assertEquals(a.depth, 1, "no receive after the abort");
  assertEquals(b.depth, 0, "no send after the abort");
  await assertRejects(() =>
    select([recvFrom(a)], { signal: AbortSignal.abort("x") }).then(() => {
      throw new Error("ready branch");
    })
  );
});

Deno.test("select() abort branches make cancellation an outcome", async () => {
  using ch = channel<number>(1);
  const controller = new AbortController();
  const s = select([recvFrom(ch), aborted(controller.signal)]);
  controller.abort("shutdown");
  assertEquals(await s, { index: 1, value: "shutdown" });
  assertEquals(await select([aborted(AbortSignal.abort("now"))]), { index: 0, value: "now" });
});

Deno.test("select() on closed channels: a receive sees the end, a send rejects", async () => {
  const ch = channel<number>(1);
  const waiting = select([recvFrom(ch)]);
  ch.close();
  assertEquals(await waiting, { index: 0, value: { ok: false, reason: "closed" } });
  await assertRejects(() => select([sendTo(ch, 1)]), ClosedError);
  const full = channel<number>(1);
  full.trySend(1);
  const blocked = select([sendTo(full, 2)]);
  full.close();
  await assertRejects(() => blocked, ClosedError);
});

Deno.test("select() checks its arguments", async () => {
  await assertRejects(() => select([]), TypeError, "'cases' must be a non-empty array");
  await assertRejects(
    () => select([{ kind: "recv" }] as never),
    TypeError,
    "'cases[0]' must be a branch",
  );
  await assertRejects(() => select([after(1)], { timeoutMs: -1 }), RangeError, "'timeoutMs'");
  await assertRejects(() => select([after(1)], { clock: {} as never }), TypeError, "'clock'");
  assertThrows(() => recvFrom({} as never), TypeError, "'receiver' must be a Receiver");
  assertThrows(() => sendTo(null as never, 1), TypeError, "'sender' must be a Sender");
  assertThrows(() => after(-1), RangeError, "'delayMs'");
  assertThrows(() => aborted("x" as never), TypeError, "'signal'");
});

// The race stress: consumers select over shared channels (and a timer and
// an output channel) while producers send at random moments on a virtual
// clock. Every item must arrive exactly once, in each producer's order, and
// every "sent" a select reported must be in the output channel.
for (const seed of testSeeds([1, 2, 3, 4, 5, 6, 7, 8])) {
  Deno.test(`select() races lose no item and duplicate none (seed ${seed})`, async () => {
    const random = mulberry32(seed);
    const clock = new VirtualClock();
    const inputs = [channel<number>(1 + Math.floor(random() * 3)), channel<number>(2)];
    const out = channel<number>(1);
    const perChannel = 150;
    const received: number[][] = [[], []];
    let forwarded = 0;
    let timeouts = 0;
    let done = false;
    const consumers = Array.from({ length: 3 }, () =>
      (async () => {
        while (!done) {
          const r = await select([
            recvFrom(inputs[0]!),
            recvFrom(inputs[1]!),
            sendTo(out, forwarded),
            after(1 + Math.floor(random() * 3)),
          ], { clock, timeoutMs: 4 });
          if (r.index === 0 || r.index === 1) {
            const v = r.value;
            if (v.ok) received[r.index]!.push(v.value);
          } else if (r.index === 2) forwarded++;
          else timeouts++;
        }
      })());
    let drained = 0;
    const producers = inputs.map((ch, c) =>
      (async () => {
        for (let i = 0; i < perChannel; i++) {
          if (random() < 0.3) {
            const s = ch.trySend(c * 1000 + i);
            if (s === WOULD_BLOCK) await ch.send(c * 1000 + i);
          } else await ch.send(c * 1000 + i);
          if (random() < 0.2) await flush();
        }
      })()
    );
    const all = Promise.all(producers);
    let finished = false;
    all.then(() => finished = true);
    while (!finished) {
      clock.advance(1);
      await flush();
      if (random() < 0.5 && out.tryRecv().ok) drained++;
    }
    while (inputs.some((ch) => ch.depth > 0)) {
      clock.advance(1);
      await flush();
    }
    done = true;
    for (let i = 0; i < 10; i++) {
      clock.advance(5);
      if (out.tryRecv().ok) drained++;
      await flush();
    }
    await Promise.all(consumers);
    while (out.tryRecv().ok) drained++;
    for (let c = 0; c < 2; c++) {
      assertEquals(
        received[c],
        Array.from({ length: perChannel }, (_, i) => c * 1000 + i),
        `channel ${c}: every item once, in order (seed ${seed})`,
      );
    }
    assertEquals(drained, forwarded, `every reported send is in the output (seed ${seed})`);
    assertEquals(out.stats().sent, forwarded);
    assert(timeouts >= 0);
    for (const ch of [...inputs, out]) ch.close();
  });
}
