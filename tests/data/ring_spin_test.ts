// The adaptive spin-then-wait of ring ends (src/data/_ring_spin.ts): its
// decisions from counts alone, its pauses and cap on a fake clock, and the
// ring waits that use it (src/data/_ring_wait.ts), in one thread.
import { assert, assertEquals } from "@std/assert";
import {
  COALESCE_MS,
  COALESCE_PAUSE_MS,
  LATE_WAKE_MS,
  MAX_BATCH,
  MAX_ROUNDS,
  MAX_SPIN_MS,
  MIN_ROUNDS,
  RingSpin,
  SHORT_SLEEP_MS,
  SPIN_PAUSE_MS,
  spinWait,
} from "../../src/data/_ring_spin.ts";
import {
  createRingBuffer,
  READER_ROLE,
  READER_SIGNAL,
  READER_WAITING,
  ringViews,
  signal,
} from "../../src/data/_ring_layout.ts";
import { ringSide, type RingWait, waitAsync, waitSync } from "../../src/data/_ring_wait.ts";
import { RingReader } from "../../src/data/ring_reader.ts";
import { RingWriter } from "../../src/data/ring_writer.ts";

/** A clock that moves `step` ms per read and counts its reads. */
function fakeClock(step = SPIN_PAUSE_MS / 2): { now(): number; reads: number; t: number } {
  return {
    reads: 0,
    t: 0,
    now() {
      this.reads++;
      return this.t += step;
    },
  };
}

/** Makes `spin` busy: two waits in a row that did not sleep. */
function makeBusy(spin: RingSpin): void {
  spin.hit();
  spin.hit();
}

Deno.test("RingSpin: an idle end spins its budget, then sleeps", () => {
  const spin = new RingSpin(1024);
  assertEquals(spin.budget, MIN_ROUNDS);
  for (let round = 0; round < MIN_ROUNDS; round++) assertEquals(spin.step(0, 0, round, 0), "spin");
  assertEquals(spin.step(0, 0, MIN_ROUNDS, 0), "sleep");
});

Deno.test("RingSpin: hits and short sleeps double the budget up to the most, long sleeps quarter it", () => {
  const spin = new RingSpin(1024);
  const budgets: number[] = [];
  for (let i = 0; i < 7; i++) {
    spin.hit();
    budgets.push(spin.budget);
  }
  assertEquals(budgets, [32, 64, 128, 256, 512, 512, 512]);
  assertEquals(MAX_ROUNDS, 512);
  assert(spin.busy);
  spin.miss();
  assertEquals(spin.budget, MAX_ROUNDS, "a spin that ran out decides nothing yet");
  spin.woke(true, SHORT_SLEEP_MS * 2, 1);
  assertEquals(spin.budget, MAX_ROUNDS / 4, "a long sleep for one frame: the stream went idle");
  assertEquals(spin.busy, false, "a long sleep ends the streak");
  spin.woke(true, SHORT_SLEEP_MS / 2, 1);
  assertEquals(spin.budget, MAX_ROUNDS / 2, "a short sleep: a longer spin would have saved it");
  spin.hit();
  spin.hit();
  spin.miss();
  spin.woke(true, SHORT_SLEEP_MS / 2, 1);
  assert(spin.busy, "a short sleep keeps the stream busy");
  spin.woke(false, 0, 0);
  assertEquals([spin.busy, spin.budget], [false, MAX_ROUNDS / 4], "a timed-out wait: idle");
  for (let i = 0; i < 10; i++) spin.woke(false, 0, 0);
  assertEquals(spin.budget, MIN_ROUNDS);
  assertEquals([spin.hits, spin.misses, spin.shortSleeps], [9, 2, 2]);
});

Deno.test("RingSpin: a late wake-up to a whole batch grows the budget, a preempted one does not", () => {
  const spin = new RingSpin(1024);
  // The other end sleeps in turn (a full ring, an empty one): each wake-up is late, to a full batch.
  spin.woke(true, (SHORT_SLEEP_MS + LATE_WAKE_MS) / 2, spin.batch);
  assertEquals([spin.budget, spin.shortSleeps], [2 * MIN_ROUNDS, 1]);
  // Woken after LATE_WAKE_MS (this thread was preempted on a loaded machine): do not spin more.
  spin.woke(true, LATE_WAKE_MS, spin.batch);
  assertEquals(spin.budget, MIN_ROUNDS);
  // Less than a batch after a long sleep: a sparse stream.
  spin.hit();
  spin.woke(true, (SHORT_SLEEP_MS + LATE_WAKE_MS) / 2, spin.batch - 1);
  assertEquals(spin.budget, MIN_ROUNDS);
});

Deno.test("RingSpin: a stream that is not busy gets its first unit at once", () => {
  const spin = new RingSpin(1024);
  spin.hit(); // one hit is not a streak
  assertEquals(spin.busy, false);
  assertEquals(spin.step(1, 0, 0, 0), "ready");
});

Deno.test("RingSpin: a busy stream waits for a batch while units keep coming", () => {
  const spin = new RingSpin(1024);
  makeBusy(spin);
  assertEquals(spin.batch, 256);
  assertEquals(spin.step(1, 0, 0, 0), "spin", "a few ready: wait for more");
  assertEquals(spin.step(5, 1, 1, COALESCE_PAUSE_MS), "spin", "more came: wait on");
  assertEquals(spin.step(5, 5, 2, 2 * COALESCE_PAUSE_MS), "ready", "none came: the stream paused");
  assertEquals(spin.step(256, 5, 2, 2 * COALESCE_PAUSE_MS), "ready", "a batch");
  assertEquals(spin.step(200, 100, 9, COALESCE_MS), "ready", "coalescing is bounded in time");
  assertEquals(spin.step(200, 100, 9, COALESCE_MS * 0.99), "spin");
});

Deno.test("RingSpin: a batch is a quarter of the slots, at most MAX_BATCH, at least 1", () => {
  assertEquals(new RingSpin(2).batch, 1);
  assertEquals(new RingSpin(64).batch, 16);
  assertEquals(new RingSpin(1024).batch, 256);
  assertEquals(new RingSpin(1 << 20).batch, MAX_BATCH);
});

Deno.test("spinWait(): pauses between looks, then sleeps when nothing comes", () => {
  const spin = new RingSpin(1024);
  const clock = fakeClock();
  const looksAt: number[] = [];
  const ready = spinWait(spin, () => (looksAt.push(clock.t), 0), () => true, clock);
  assertEquals(ready, false);
  assertEquals(looksAt.length, MIN_ROUNDS + 1, "one look per round, plus the first");
  assertEquals(spin.budget, MIN_ROUNDS, "unchanged until the sleep ends");
  for (let i = 1; i < looksAt.length; i++) {
    assert(looksAt[i]! - looksAt[i - 1]! >= SPIN_PAUSE_MS, `look ${i} came after a pause`);
  }
  assertEquals([spin.hits, spin.misses], [0, 1]);
});

Deno.test("spinWait(): returns ready in the round a unit arrives", () => {
  const spin = new RingSpin(1024);
  const clock = fakeClock();
  let looks = 0;
  const ready = spinWait(spin, () => (++looks >= 5 ? 1 : 0), () => true, clock);
  assertEquals(ready, true);
  assertEquals(looks, 5);
  assertEquals([spin.hits, spin.misses, spin.budget], [1, 0, 2 * MIN_ROUNDS]);
});

Deno.test("spinWait(): on a busy stream, collects a batch, looking less often", () => {
  const spin = new RingSpin(1024);
  makeBusy(spin);
  const clock = fakeClock();
  let units = 0;
  const looksAt: number[] = [];
  const ready = spinWait(spin, () => (looksAt.push(clock.t), units += 64), () => true, clock);
  assertEquals(ready, true);
  assertEquals(units, 256, "returned once a batch was there");
  assertEquals(spin.coalesced, 3);
  for (let i = 1; i < looksAt.length; i++) {
    assert(looksAt[i]! - looksAt[i - 1]! >= COALESCE_PAUSE_MS, `look ${i} came after a long pause`);
  }
});

Deno.test("spinWait(): on a busy stream, returns what is there once the stream pauses or time is up", () => {
  const spin = new RingSpin(1024);
  makeBusy(spin);
  const trickle = [3, 5, 5, 9];
  let i = 0;
  assertEquals(spinWait(spin, () => trickle[i++]!, () => true, fakeClock()), true);
  assertEquals(i, 3, "the third look saw no new frame: ready with 5");
  // A frame every look, for ever: coalescing stops after COALESCE_MS.
  const clock = fakeClock();
  let n = 0;
  assertEquals(spinWait(spin, () => ++n, () => true, clock), true);
  assert(n < spin.batch, "returned before a batch");
  assert(clock.t >= COALESCE_MS && clock.t < COALESCE_MS + 2 * COALESCE_PAUSE_MS, `${clock.t}`);
});

Deno.test("spinWait(): units that are not ready (a closed end) end the spin without a hit", () => {
  const spin = new RingSpin(1024);
  assertEquals(spin.budget, MIN_ROUNDS);
  assertEquals(spinWait(spin, () => 1, () => false, fakeClock()), false);
  assertEquals([spin.hits, spin.misses], [0, 0]);
});

Deno.test("spinWait(): the clock caps a spin whose rounds run slow", () => {
  const spin = new RingSpin(1024);
  for (let i = 0; i < 10; i++) spin.hit();
  assert(MAX_ROUNDS * SPIN_PAUSE_MS > MAX_SPIN_MS, "the cap is below the budget's pauses");
  assertEquals(spin.budget, MAX_ROUNDS);
  // Each read takes a tenth of the cap: the spin ends after a few pauses, far below its budget.
  const clock = fakeClock(MAX_SPIN_MS / 10);
  let looks = 0;
  assertEquals(spinWait(spin, () => (looks++, 0), () => true, clock), false);
  assert(looks <= 12, `${looks} looks`);
  assertEquals(spin.misses, 1);
  // A unit seen when the cap strikes still counts.
  let n = 0;
  assertEquals(spinWait(spin, () => (n++ >= 1 ? 1 : 0), () => true, fakeClock(MAX_SPIN_MS)), true);
  assertEquals(n, 2, "the first look, then the one after the pause in which the cap struck");
});

/** A ring side with a fake clock and a wait on a counter the test moves. */
function testWait(units: { n: number }, closed = false): RingWait {
  const views = ringViews(
    READER_ROLE,
    createRingBuffer({ slots: 1024, slotSize: 8, livenessTimeoutMs: Infinity }),
  );
  const side = ringSide(views, READER_ROLE, () => {});
  side.clock = fakeClock();
  return {
    side,
    ready: () => units.n > 0,
    units: () => units.n,
    closed: () => closed,
    action: "wait for a frame",
  };
}

Deno.test("waitSync(): a wait whose spin runs out counts a miss; a unit ready counts a hit", () => {
  const units = { n: 0 };
  const wait = testWait(units);
  assertEquals(waitSync(wait, { timeoutMs: 0 }), "timed-out");
  assertEquals([wait.side.spin.hits, wait.side.spin.misses], [0, 1]);
  assertEquals(wait.side.spin.budget, MIN_ROUNDS, "a wait that timed out shrinks the budget");
  units.n = 1;
  assertEquals(waitSync(wait, undefined), "ready");
  assertEquals([wait.side.spin.hits, wait.side.spin.misses], [1, 1]);
});

Deno.test("waitAsync(): returns the shared settled promise on a hit, sleeps after a miss", async () => {
  const units = { n: 1 };
  const wait = testWait(units);
  const first = waitAsync(wait, undefined);
  assertEquals(await first, "ready");
  assertEquals(wait.side.spin.hits, 1);
  units.n = 0;
  const sleeping = waitAsync(wait, undefined);
  assertEquals(wait.side.spin.misses, 1);
  const { header } = wait.side.views;
  assertEquals(Atomics.load(header, READER_WAITING), 1, "asleep: the flag is up");
  units.n = 1;
  signal(header, READER_SIGNAL, READER_WAITING);
  assertEquals(await sleeping, "ready");
  // On the fake clock the sleep took a few reads: short, so the next spin is longer.
  assertEquals([wait.side.spin.shortSleeps, wait.side.spin.budget], [1, 4 * MIN_ROUNDS]);
});

Deno.test("signal(): wakes once per sleep, lowering the waiting flag", () => {
  const header = new Int32Array(new SharedArrayBuffer(512));
  signal(header, READER_SIGNAL, READER_WAITING);
  assertEquals(header[READER_SIGNAL], 0, "nobody waits: no wake-up");
  header[READER_WAITING] = 1;
  signal(header, READER_SIGNAL, READER_WAITING);
  signal(header, READER_SIGNAL, READER_WAITING);
  assertEquals(header[READER_SIGNAL], 1, "one wake-up until the flag is raised again");
  assertEquals(header[READER_WAITING], 0);
});

Deno.test("Ring ends adapt their spin: a reader's empty waits shrink it, frames ready grow it", () => {
  using writer = RingWriter.create({ slots: 8, slotSize: 8 });
  using reader = new RingReader(writer.buffer);
  for (let i = 0; i < 3; i++) assertEquals(reader.wait({ timeoutMs: 0 }), "timed-out");
  for (let i = 0; i < 20; i++) {
    writer.send(Uint8Array.of(i));
    assertEquals(reader.wait(), "ready");
    assertEquals(reader.poll(() => {}), 1);
  }
  // A full ring: the writer's credit wait times out, then gets credit at once.
  for (let i = 0; i < 8; i++) writer.send(Uint8Array.of(i));
  assertEquals(writer.waitWritable({ timeoutMs: 0 }), "timed-out");
  reader.poll(() => {});
  assertEquals(writer.waitWritable(), "ready");
  assertEquals(writer.stats().framesReceived, 28, "nothing lost on the way");
});
