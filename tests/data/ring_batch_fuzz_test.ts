// Fuzz of batched publication (`publishEvery`): hostile values for the
// option, and random send / poll / flush / wait sequences against a model
// of what the reader may see: frames appear in order, exactly once, only
// when their batch is due (a whole batch, a full ring, a flush, a wait, a
// close), and the counts and the close report match the model.
import { assertEquals } from "@std/assert";
import fc from "fast-check";
import { check, cleanCall, hostile } from "../fuzz/_hostile.ts";
import { RingReader } from "../../src/data/ring_reader.ts";
import { RingWriter } from "../../src/data/ring_writer.ts";
import { WOULD_BLOCK } from "../../src/data/backpressure.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

Deno.test("fuzz: RingWriter's publishEvery takes hostile values cleanly and claims nothing when refused", () => {
  check(
    fc.property(hostile(), (value) => {
      const buffer = RingWriter.createBuffer({ slots: 4, slotSize: 8 });
      const writer = cleanCall(
        () => new RingWriter(buffer, { publishEvery: value as Loose }),
        ["publishEvery", "options"],
      );
      const created = cleanCall(
        () => RingWriter.create({ slots: 4, slotSize: 8, publishEvery: value as Loose }),
        ["publishEvery", "options"],
      );
      created?.close();
      // Refused: the side is still free; accepted: a working writer with 1 or 2 per batch.
      const attached = writer ?? new RingWriter(buffer);
      try {
        assertEquals([1, 2].includes(attached.publishEvery), true);
        assertEquals(attached.send(Uint8Array.of(1)), 0);
        attached.flush();
        assertEquals(attached.stats().framesSent, 1);
      } finally {
        attached.close();
      }
    }),
  );
});

type Op =
  | { op: "send"; length: number }
  | { op: "poll"; max: number }
  | { op: "flush" }
  | { op: "wait" };

const ops: fc.Arbitrary<Op[]> = fc.array(
  fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        op: fc.constant("send" as const),
        length: fc.integer({ min: 1, max: 64 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant("poll" as const),
        max: fc.oneof(fc.nat(10), fc.constant(Infinity)),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("flush" as const) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("wait" as const) }) },
  ),
  { maxLength: 400, size: "large" },
);

Deno.test("fuzz: a batching ring matches a model of publication, FIFO order and counts", () => {
  check(
    fc.property(
      fc.constantFrom(2, 4, 8, 16, 128),
      fc.constantFrom(1, 2, 3, 4, 7, 64, 1000),
      ops,
      (slots, publishEvery, steps) => {
        const writer = RingWriter.create({ slots, slotSize: 64, publishEvery });
        const reader = new RingReader(writer.buffer);
        const batch = Math.min(publishEvery, slots / 2);
        assertEquals(writer.publishEvery, batch);
        const lengths: number[] = []; // of every frame accepted, by sequence number
        let published = 0;
        let consumed = 0;
        // The writer's view of the reader: refreshed every 64 frames and on a full-looking ring.
        let readCache = 0;
        try {
          for (const step of steps) {
            const accepted = lengths.length;
            if (step.op === "send") {
              let inFlight = accepted - readCache;
              if (inFlight >= slots || accepted % 64 === 0) {
                readCache = consumed;
                inFlight = accepted - readCache;
              }
              const seq = writer.send(new Uint8Array(step.length).fill(accepted & 255));
              if (accepted - consumed >= slots) {
                assertEquals(seq, WOULD_BLOCK, "refused only when every slot is in flight");
                published = accepted;
              } else {
                assertEquals(seq, accepted);
                lengths.push(step.length);
                if (lengths.length - published >= batch || inFlight + 1 >= slots) {
                  published = lengths.length;
                }
              }
            } else if (step.op === "poll") {
              const seen = reader.poll((slot, length, seq) => {
                assertEquals([seq, length], [consumed, lengths[consumed]], "frames come in order");
                assertEquals(slot.subarray(0, length).every((b) => b === (seq & 255)), true);
                consumed++;
              }, step.max);
              assertEquals(seen, Math.min(step.max, published - (consumed - seen)));
            } else if (step.op === "flush") {
              assertEquals(writer.flush(), accepted - published);
              published = accepted;
            } else {
              const result = writer.waitWritable({ timeoutMs: 0 });
              published = accepted;
              assertEquals(result, accepted - consumed < slots ? "ready" : "timed-out");
            }
            const stats = writer.stats();
            assertEquals(writer.unpublished, lengths.length - published);
            assertEquals(reader.available, published - consumed);
            assertEquals(stats.framesSent, published);
            assertEquals(
              stats.bytesSent,
              lengths.slice(0, published).reduce((a, b) => a + b, 0),
            );
            assertEquals(stats.framesReceived, consumed);
            assertEquals(writer.credit, slots - (lengths.length - consumed));
          }
          assertEquals(writer.close(), { consumed, unconsumed: lengths.length - consumed });
          assertEquals(reader.available, lengths.length - consumed, "close published the rest");
        } finally {
          writer.close();
          reader.close();
        }
      },
    ),
  );
});
