// Seeded fuzz of the channel layer. Hostile values go into every public
// entry (channel options, wait options, select branches and options, codec
// input, ring-end options): each call works or fails with a clean error
// naming its parameter, and the object still works afterwards. Random
// operation sequences run a channel against a FIFO model on a virtual clock.
// Random frames, valid and broken, go through a ring into a RingReceiver:
// each is decoded to the value that was encoded or refused with
// FrameCodecError, and the frames after a bad one still arrive intact.
import { assert, assertEquals } from "@std/assert";
import {
  assertCleanError,
  check,
  cleanCall,
  cleanCallAsync,
  fc,
  hostile,
  maybe,
} from "./_hostile.ts";
import { channel } from "../../src/chan/channel.ts";
import { aborted, after, recvFrom, select, sendTo } from "../../src/chan/select.ts";
import { AUTO_CODEC, FrameCodecError, type FrameValue } from "../../src/chan/codec.ts";
import { RingReceiver, RingSender } from "../../src/chan/ring_channel.ts";
import { RingWriter } from "../../src/data/ring_writer.ts";
import { WOULD_BLOCK } from "../../src/data/backpressure.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import type { Logger } from "../../src/logger.ts";
import { ClosedError } from "../../src/errors.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

const SILENT: Logger = { error() {}, warn() {}, info() {} };

const CHANNEL_NAMES = ["capacity", "options", "name", "logger", "clock", "metrics"];
const WAIT_NAMES = ["options", "timeoutMs", "signal"];

/** Checks that a channel still works: an item in, the same item out. */
async function stillWorks(ch: ReturnType<typeof channel<unknown>>): Promise<void> {
  while (ch.tryRecv().ok);
  assert(ch.trySend("probe") !== WOULD_BLOCK);
  assertEquals(await ch.recv(), { ok: true, value: "probe" });
}

Deno.test("fuzz: channel() options work or fail cleanly", () => {
  check(
    fc.property(
      hostile(),
      fc.record({
        name: maybe(),
        logger: maybe(),
        clock: maybe(),
        metrics: maybe(),
      }, { requiredKeys: [] }),
      (capacity, options) => {
        const ch = cleanCall(() => channel(capacity as number, options as Loose), CHANNEL_NAMES);
        if (ch === undefined) return;
        assert(ch.capacity === Infinity || (Number.isInteger(ch.capacity) && ch.capacity >= 1));
        assert(ch.trySend(1) === 0);
        assertEquals(ch.tryRecv(), { ok: true, value: 1 });
        ch.close();
      },
    ),
  );
});

Deno.test("fuzz: wait options of send, recv and the waits work or fail cleanly", async () => {
  await check(
    fc.asyncProperty(
      fc.oneof(hostile(), fc.record({ timeoutMs: maybe(), signal: maybe() })),
      fc.constantFrom("send", "recv", "whenReadable", "whenWritable"),
      async (options, method) => {
        const clock = new VirtualClock();
        const ch = channel<unknown>(1, { clock, logger: SILENT });
        if (method === "send" || method === "whenWritable") ch.trySend("full");
        const call: Promise<unknown> = method === "send"
          ? ch.send("x", options as Loose)
          : method === "recv"
          ? ch.recv(options as Loose)
          : method === "whenReadable"
          ? ch.whenReadable(options as Loose)
          : ch.whenWritable(options as Loose);
        // A wait with a finite timeout ends when the clock passes it; one without, at close.
        clock.advance(1e9);
        ch.close();
        try {
          await call;
        } catch (error) {
          // A send still waiting at the close is rejected: the item was not sent.
          if (!(error instanceof ClosedError && method === "send")) {
            assertCleanError(error, WAIT_NAMES);
          }
        }
        const fresh = channel<unknown>(1, { logger: SILENT });
        await stillWorks(fresh);
        fresh.close();
      },
    ),
  );
});

Deno.test("fuzz: select() branches and options work or fail cleanly", async () => {
  await check(
    fc.asyncProperty(
      fc.array(fc.oneof(hostile(), fc.constantFrom("recv", "send", "timer", "abort")), {
        maxLength: 4,
      }),
      fc.oneof(hostile(), fc.record({ timeoutMs: maybe(), signal: maybe(), clock: maybe() })),
      async (specs, options) => {
        const clock = new VirtualClock();
        const ch = channel<unknown>(1, { logger: SILENT });
        const cases = specs.map((s) =>
          s === "recv"
            ? recvFrom(ch)
            : s === "send"
            ? sendTo(ch, "x")
            : s === "timer"
            ? after(5)
            : s === "abort"
            ? aborted(AbortSignal.abort("a"))
            : cleanCall(() => recvFrom(s as Loose), ["receiver"]) ?? s
        );
        const opts = options !== null && typeof options === "object" &&
            (options as Loose).clock === undefined
          ? { ...(options as object), clock }
          : options;
        const pending = select(cases as Loose, opts as Loose);
        clock.advance(1e9);
        ch.trySend("late");
        const r = await cleanCallAsync(() => pending, [
          "cases",
          "cases[0]",
          "cases[1]",
          "cases[2]",
          "cases[3]",
          ...WAIT_NAMES,
          "clock",
        ]);
        if (r !== undefined) assert(r.index >= -1 && r.index < cases.length);
        ch.close();
      },
    ),
    100,
  );
});

Deno.test("fuzz: a channel matches a FIFO model under random operations", async () => {
  await check(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 5 }),
      fc.array(
        fc.oneof(
          fc.constant({ op: "trySend" as const }),
          fc.constant({ op: "tryRecv" as const }),
          fc.record({
            op: fc.constant("send" as const),
            timeoutMs: fc.integer({ min: 1, max: 5 }),
          }),
          fc.record({
            op: fc.constant("recv" as const),
            timeoutMs: fc.integer({ min: 1, max: 5 }),
          }),
          fc.record({ op: fc.constant("advance" as const), ms: fc.integer({ min: 1, max: 4 }) }),
        ),
        { maxLength: 60 },
      ),
      async (capacity, ops) => {
        const clock = new VirtualClock();
        const ch = channel<number>(capacity, { clock, logger: SILENT });
        let next = 0;
        const accepted = new Set<number>();
        const timedOut = new Set<number>();
        const got: number[] = [];
        const waits: Promise<void>[] = [];
        for (const o of ops) {
          if (o.op === "trySend") {
            const v = next++;
            if (ch.trySend(v) !== WOULD_BLOCK) accepted.add(v);
          } else if (o.op === "tryRecv") {
            const r = ch.tryRecv();
            if (r.ok) got.push(r.value);
          } else if (o.op === "send") {
            const v = next++;
            waits.push(
              ch.send(v, { timeoutMs: o.timeoutMs }).then((s) => {
                if (s === "sent") accepted.add(v);
                else timedOut.add(v);
              }),
            );
          } else if (o.op === "recv") {
            waits.push(
              ch.recv({ timeoutMs: o.timeoutMs }).then((r) => {
                if (r.ok) got.push(r.value);
              }),
            );
          } else clock.advance(o.ms);
          await Promise.resolve();
          const s = ch.stats();
          assert(s.depth <= capacity, "never above capacity");
        }
        clock.advance(10);
        await Promise.all(waits);
        const report = ch.close();
        const delivered = [...got, ...report.undelivered];
        // Every value accepted arrives once, in the order of acceptance (values are increasing per sender).
        assertEquals(delivered.length, new Set(delivered).size, "no duplicates");
        assertEquals(new Set(delivered), accepted, "every accepted value, nothing else");
        for (const v of timedOut) assert(!delivered.includes(v), "a timed-out send never arrives");
        const s = ch.stats();
        assertEquals(s.sent, accepted.size);
        assertEquals(s.received, got.length);
        assertEquals(report.rejectedSends, 0);
      },
    ),
  );
});

/** A value AUTO_CODEC carries, and what it decodes to. */
const frameValue: fc.Arbitrary<FrameValue> = fc.oneof(
  fc.double(),
  fc.string({ maxLength: 20 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.float64Array({ maxLength: 4 }),
  fc.int32Array({ maxLength: 4 }),
  fc.uint8Array({ maxLength: 8 }),
  fc.bigInt64Array({ maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.integer(), fc.string({ maxLength: 4 })), {
    maxKeys: 3,
  }),
  fc.array(fc.integer(), { maxLength: 4 }),
);

Deno.test("fuzz: AUTO_CODEC decodes what it encodes and refuses random bytes cleanly", () => {
  const scratch = new Uint8Array(256);
  check(
    fc.property(frameValue, fc.uint8Array({ minLength: 0, maxLength: 40 }), (value, noise) => {
      const n = AUTO_CODEC.encode(value, scratch);
      const back = AUTO_CODEC.decode(scratch.subarray(0, n));
      if (typeof value === "number" && Number.isNaN(value)) assert(Number.isNaN(back as number));
      else assertEquals(back, value);
      try {
        AUTO_CODEC.decode(noise);
      } catch (error) {
        assert(error instanceof FrameCodecError, `random bytes: ${error}`);
        assertCleanError(error);
      }
      for (const room of [0, 1, 5]) {
        try {
          AUTO_CODEC.encode(value, new Uint8Array(room));
        } catch (error) {
          assert(error instanceof RangeError, `small slot: ${error}`);
          assertCleanError(error);
        }
      }
      cleanCall(() => AUTO_CODEC.encode(hostileValue(noise) as Loose, scratch), ["value"]);
    }),
  );
});

/** A value picked from hostile inputs by the noise: functions, symbols, bigints, cycles. */
function hostileValue(noise: Uint8Array): unknown {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const values = [() => 1, Symbol("s"), 5n, cyclic, new DataView(new ArrayBuffer(2)), {
    toJSON: () => undefined,
  }];
  return values[(noise[0] ?? 0) % values.length];
}

Deno.test("fuzz: frames through a ring arrive intact or as a clean FrameCodecError", async () => {
  await check(
    fc.asyncProperty(
      fc.array(
        fc.oneof(
          frameValue.map((v) => ({ good: true as const, v })),
          fc.uint8Array({ minLength: 1, maxLength: 24 }).map((b) => ({ good: false as const, b })),
        ),
        { maxLength: 30 },
      ),
      async (frames) => {
        const writer = RingWriter.create({ slots: 64, slotSize: 128, logger: SILENT });
        const rx = new RingReceiver<FrameValue>(writer.buffer, { logger: SILENT });
        const scratch = new Uint8Array(128);
        const expected: ({ ok: true; v: FrameValue } | { ok: false; b: Uint8Array })[] = [];
        for (const f of frames) {
          if (f.good) {
            const n = AUTO_CODEC.encode(f.v, scratch);
            writer.send(scratch.slice(0, n));
            expected.push({ ok: true, v: f.v });
          } else {
            writer.send(f.b);
            expected.push({ ok: false, b: f.b });
          }
        }
        writer.close();
        for (const e of expected) {
          let got: FrameValue;
          try {
            const r = await rx.recv();
            assert(r.ok, "a frame is waiting");
            got = r.value;
          } catch (error) {
            assert(error instanceof FrameCodecError, `only codec errors: ${error}`);
            assert(!e.ok, "a good frame never fails");
            continue;
          }
          if (e.ok) {
            if (typeof e.v === "number" && Number.isNaN(e.v)) assert(Number.isNaN(got as number));
            else assertEquals(got, e.v);
          }
        }
        assertEquals(await rx.recv(), { ok: false, reason: "closed" });
        assertEquals(rx.stats().framesReceived, frames.length);
        rx.close();
      },
    ),
    100,
  );
});

Deno.test("fuzz: ring channel options work or fail cleanly", () => {
  check(
    fc.property(
      fc.record({
        slots: maybe(),
        slotSize: maybe(),
        codec: maybe(),
        name: maybe(),
        logger: maybe(),
      }, { requiredKeys: [] }),
      (options) => {
        const tx = cleanCall(
          () => RingSender.create(options as Loose),
          ["options", "slots", "slotSize", "codec", "name", "logger"],
        );
        if (tx === undefined) return;
        const rx = new RingReceiver(tx.buffer, { codec: (options as Loose).codec });
        tx.trySend(1);
        assertEquals(rx.tryRecv(), { ok: true, value: 1 });
        tx.close();
        rx.close();
      },
    ),
    100,
  );
});
