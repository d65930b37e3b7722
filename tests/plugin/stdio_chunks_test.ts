// A process plugin's pipes are read into one buffer used again and again
// (a Deno pipe read the ordinary way allocates 64 KiB per read).
import { assertEquals, assertRejects } from "@std/assert";
import { eachChunk, eachRead, writeAll } from "../../src/plugin/_stdio_chunks.ts";

Deno.test("eachChunk() reads a real pipe whole, each read into the buffer the previous one used", async () => {
  // A child that writes 200 small lines, each its own write.
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      "const e = new TextEncoder(); for (let i = 0; i < 200; i++) { Deno.stdout.writeSync(e.encode(`line ${i}\\n`)); await new Promise((r) => setTimeout(r, 0)); }",
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const decoder = new TextDecoder();
  let text = "";
  let reads = 0;
  let previous: ArrayBuffer | undefined;
  let taken = 0;
  await eachChunk(child.stdout, (chunk) => {
    reads++;
    // The buffer of the previous chunk went to this read (it is detached now).
    if (previous !== undefined && previous.byteLength === 0) taken++;
    previous = chunk.buffer as ArrayBuffer;
    text += decoder.decode(chunk, { stream: true });
  });
  assertEquals((await child.status).code, 0);
  const lines = text.trim().split("\n");
  assertEquals(lines.length, 200);
  assertEquals(lines[199], "line 199");
  assertEquals(taken, reads - 1);
});

Deno.test("eachChunk() reads a stream that is not a byte stream the ordinary way", async () => {
  const parts = [new Uint8Array([1, 2]), new Uint8Array([3])];
  const seen: number[] = [];
  await eachChunk(ReadableStream.from(parts), (chunk) => seen.push(...chunk));
  assertEquals(seen, [1, 2, 3]);
});

Deno.test("eachChunk() rejects with what the callback threw and cancels the stream", async () => {
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    type: "bytes",
    pull(controller) {
      controller.enqueue(new Uint8Array([7]));
    },
    cancel() {
      cancelled = true;
    },
  });
  await assertRejects(
    () =>
      eachChunk(stream, () => {
        throw new RangeError("bad frame");
      }),
    RangeError,
    "bad frame",
  );
  assertEquals(cancelled, true);
});

Deno.test("eachRead() reads a real file whole, every chunk in the same buffer", async () => {
  const path = await Deno.makeTempFile({ dir: ".", prefix: ".each-read-" });
  try {
    const bytes = new Uint8Array(200_000).map((_, i) => i % 251);
    await Deno.writeFile(path, bytes);
    using file = await Deno.open(path);
    const seen: number[] = [];
    const buffers = new Set<ArrayBufferLike>();
    await eachRead(file, (chunk) => {
      buffers.add(chunk.buffer);
      for (const b of chunk) seen.push(b);
    });
    assertEquals(seen.length, bytes.length);
    assertEquals(seen.every((b, i) => b === bytes[i]), true);
    assertEquals(buffers.size, 1);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("eachRead() skips empty reads and stops at the end; a throwing callback rejects", async () => {
  const script = [[1, 2], [], [3]];
  const reader = {
    read(buffer: Uint8Array): Promise<number | null> {
      const next = script.shift();
      if (next === undefined) return Promise.resolve(null);
      buffer.set(next);
      return Promise.resolve(next.length);
    },
  };
  const chunks: number[][] = [];
  await eachRead(reader, (chunk) => chunks.push([...chunk]));
  assertEquals(chunks, [[1, 2], [3]]);
  await assertRejects(
    () =>
      eachRead({ read: (b) => Promise.resolve((b[0] = 9, 1)) }, () => {
        throw new Error("bad frame");
      }),
    Error,
    "bad frame",
  );
});

Deno.test("writeAll() writes everything, in order, through a writer that takes a few bytes at a time", async () => {
  const out: number[] = [];
  const writer = {
    write(data: Uint8Array): Promise<number> {
      const n = Math.min(3, data.length);
      out.push(...data.subarray(0, n));
      return Promise.resolve(n);
    },
  };
  const data = new Uint8Array(100).map((_, i) => i);
  await writeAll(writer, data);
  assertEquals(out, [...data]);
});
