// The SSE fault stream on a VirtualClock: events in order with ids, replay
// after Last-Event-ID, keep-alive comments on the driver's cadence, the
// per-client limit, and a client that stops reading.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { fixture } from "./_fixture.ts";

/** Reads SSE blocks (frames and comments) off a response body. */
class SseReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = "";

  constructor(response: Response) {
    this.#reader = response.body!.getReader();
  }

  /** The next `n` blocks; only call when they have been sent (nothing here waits on time). */
  async blocks(n: number): Promise<string[]> {
    const out: string[] = [];
    while (out.length < n) {
      const end = this.#buffer.indexOf("\n\n");
      if (end >= 0) {
        out.push(this.#buffer.slice(0, end));
        this.#buffer = this.#buffer.slice(end + 2);
        continue;
      }
      const { value, done } = await this.#reader.read();
      if (done) throw new Error(`stream ended after ${out.length} of ${n} blocks`);
      this.#buffer += this.#decoder.decode(value, { stream: true });
    }
    return out;
  }

  /** Whether the stream ends once the blocks buffered are read. */
  async ended(): Promise<boolean> {
    while (true) {
      const { done, value } = await this.#reader.read();
      if (done) return true;
      this.#buffer += this.#decoder.decode(value, { stream: true });
    }
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel();
  }
}

function frame(block: string): { id: number; event: string; data: Record<string, unknown> } {
  const fields = Object.fromEntries(
    block.split("\n").map((
      line,
    ) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)]),
  );
  return { id: Number(fields.id), event: fields.event!, data: JSON.parse(fields.data!) };
}

Deno.test("GET /faults/stream sends raise, update, passive and clear in order with growing ids", async () => {
  await using f = await fixture();
  const response = await f.server.request("/sovd/v1/faults/stream");
  assertEquals(response.status, 200);
  assertEquals(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
  const sse = new SseReader(response);
  assertEquals(await sse.blocks(1), ["retry: 5000"]);
  f.plant.leaking = true;
  f.clock.advance(100); // raised
  f.clock.advance(100); // one more occurrence: updated
  f.plant.leaking = false;
  f.clock.advance(100); // passive
  f.clock.advance(600); // healed after 500 ms: cleared
  const frames = (await sse.blocks(4)).map(frame);
  assertEquals(frames.map((x) => x.id), [1, 2, 3, 4]);
  assertEquals(frames.map((x) => x.event), [
    "fault_confirmed",
    "fault_updated",
    "fault_updated",
    "fault_cleared",
  ]);
  const statuses = frames.map((x) =>
    (x.data.fault as { status: { aggregatedStatus: string } }).status.aggregatedStatus
  );
  assertEquals(statuses, ["active", "active", "passive", "cleared"]);
  assertEquals(frames[0]!.data["x-medkit"], { entity_type: "app", entity_id: "pump" });
  assertEquals(frames[0]!.data.timestamp, 1_700_000_000.1);
  assertEquals((frames[1]!.data.fault as { occurrence_count: number }).occurrence_count, 2);
  await sse.cancel();
  assertEquals(f.server.stats().streamsOpen, 0);
});

Deno.test("GET /faults/stream replays what came after Last-Event-ID", async () => {
  await using f = await fixture();
  f.plant.leaking = true;
  f.clock.advance(200);
  f.plant.leaking = false;
  f.clock.advance(700); // events 1..4 are in the log
  assertEquals(f.server.monitor.log.lastId, 4);
  const response = await f.server.request("/api/v1/faults/stream", {
    headers: { "last-event-id": "2" },
  });
  const sse = new SseReader(response);
  const [retry, ...replayed] = await sse.blocks(3);
  assertEquals(retry, "retry: 5000");
  assertEquals(replayed.map((b) => frame(b).id), [3, 4]);
  f.plant.leaking = true;
  f.clock.advance(100);
  assertEquals(frame((await sse.blocks(1))[0]!).id, 5);
  await sse.cancel();
  const fresh = new SseReader(
    await f.server.request("/api/v1/faults/stream", { headers: { "last-event-id": "5" } }),
  );
  f.clock.advance(100); // occurrence 2: event 6, nothing replayed before it
  const blocks = await fresh.blocks(2);
  assertEquals(frame(blocks[1]!).id, 6);
  await fresh.cancel();
  const unknown = new SseReader(
    await f.server.request("/api/v1/faults/stream", { headers: { "last-event-id": "99" } }),
  );
  const [, note, first] = await unknown.blocks(3);
  assertStringIncludes(note!, ": unknown Last-Event-ID 99");
  assertEquals(frame(first!).id, 1);
  await unknown.cancel();
  const bad = await f.server.request("/api/v1/faults/stream", {
    headers: { "last-event-id": "x1" },
  });
  assertEquals(bad.status, 400);
  assertEquals((await bad.json()).parameters, { name: "Last-Event-ID" });
});

Deno.test("GET /faults/stream says how many events were evicted before a replay", async () => {
  await using f = await fixture({
    faults: { evaluateEveryMs: 100, healAfterMs: 500, logCapacity: 2 },
  });
  f.plant.leaking = true;
  f.clock.advance(400); // events 1..4, the log keeps 3 and 4
  const sse = new SseReader(
    await f.server.request("/sovd/v1/faults/stream", { headers: { "last-event-id": "1" } }),
  );
  const [, note, a, b] = await sse.blocks(4);
  assertEquals(note, ": 1 events after 1 were evicted");
  assertEquals([frame(a!).id, frame(b!).id], [3, 4]);
  await sse.cancel();
});

Deno.test("GET /faults/stream sends keep-alive comments on the kernel driver's cadence", async () => {
  await using f = await fixture({ stream: { keepAliveMs: 15000 } });
  const sse = new SseReader(await f.server.request("/sovd/v1/faults/stream"));
  await sse.blocks(1);
  f.clock.advance(15000);
  assertEquals(await sse.blocks(1), [": keep-alive"]);
  f.clock.advance(30000);
  assertEquals(await sse.blocks(2), [": keep-alive", ": keep-alive"]);
  await sse.cancel();
});

Deno.test("GET /faults/stream limits streams per client with 429 and frees a slot on cancel", async () => {
  await using f = await fixture({ stream: { maxPerClient: 2, maxStreams: 3 } });
  const a = { address: "10.0.0.1" };
  const open = [
    await f.server.request("/sovd/v1/faults/stream", {}, a),
    await f.server.request("/sovd/v1/faults/stream", {}, a),
  ];
  const third = await f.server.request("/sovd/v1/faults/stream", {}, a);
  assertEquals(third.status, 429);
  const body = await third.json();
  assertEquals([body.error_code, body.vendor_code], ["vendor-specific", "too-many-streams"]);
  assertEquals(third.headers.get("retry-after"), "5");
  const other = await f.server.request("/sovd/v1/faults/stream", {}, { address: "10.0.0.2" });
  assertEquals(other.status, 200);
  const overall = await f.server.request("/sovd/v1/faults/stream", {}, { address: "10.0.0.3" });
  assertEquals(overall.status, 429);
  await overall.body?.cancel();
  await open[0]!.body!.cancel();
  const again = await f.server.request("/sovd/v1/faults/stream", {}, a);
  assertEquals(again.status, 200);
  for (const r of [open[1]!, other, again]) await r.body!.cancel();
  assertEquals(f.server.stats().streamsRefused, 2);
  assertEquals(f.server.stats().streamsOpen, 0);
});

Deno.test("GET /faults/stream closes a client that stops reading, and it replays on reconnect", async () => {
  await using f = await fixture({ stream: { maxQueuedFrames: 3 } });
  const slow = await f.server.request("/sovd/v1/faults/stream");
  f.plant.leaking = true;
  f.clock.advance(1000); // 10 events; the client reads none
  assertEquals(f.server.stats().streamsSlowClosed, 1);
  assertEquals(f.server.stats().streamsOpen, 0);
  const sse = new SseReader(slow);
  const got = await sse.blocks(3);
  assertEquals(got[0], "retry: 5000");
  assert(await sse.ended(), "the slow stream was not closed");
  const last = frame(got[2]!).id;
  const again = new SseReader(
    await f.server.request("/sovd/v1/faults/stream", {
      headers: { "last-event-id": String(last) },
    }),
  );
  const replay = await again.blocks(1 + 10 - last);
  assertEquals(
    replay.slice(1).map((b) => frame(b).id),
    Array.from({ length: 10 - last }, (_, i) => last + 1 + i),
  );
  await again.cancel();
});

Deno.test("DiagnosticsServer.close() ends open fault streams", async () => {
  await using f = await fixture();
  const sse = new SseReader(await f.server.request("/sovd/v1/faults/stream"));
  await sse.blocks(1);
  await f.server.close();
  assert(await sse.ended());
});
