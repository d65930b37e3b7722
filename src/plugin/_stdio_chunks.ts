// A process plugin's stdio without a buffer per read: the host reads the
// plugin's stdout and stderr (`eachChunk`), the plugin reads its stdin
// (`eachRead`), each into one buffer used again and again.
//
// Iterating a Deno pipe's ReadableStream allocates a fresh 64 KiB
// ArrayBuffer for every read, however few bytes arrived (measured on Deno
// 2.9.6: a 3-byte read came in a 65,536-byte buffer). A process plugin's
// frames arrive hundreds of times a second, so that is megabytes a second of
// short-lived external memory: garbage-collection work on both sides and
// allocator fragmentation that shows as RSS growth of the kernel's process.
// A BYOB reader reads into the caller's buffer instead, which comes back
// (transferred) with each read.
//
// The plugin's process reads its stdin and writes its stdout without streams
// at all (`eachRead`, `writeAll`): on Deno 2.9.6 the first use of
// `Deno.stdin.readable` or `Deno.stdout.writable` in a process loads the web
// streams implementation, 11.8 ms of a process plugin's start in a CPU
// profile, paid on every start, restart and hot reload.

/** The buffer each read fills, bytes. */
const CHUNK_BYTES = 64 * 1024;

/**
 * Calls `each` with every chunk of `stream` until it ends. A chunk is a view
 * of a buffer the next read fills again: `each` must copy what it keeps.
 * Streams that are not byte streams are read the ordinary way.
 *
 * @param stream The pipe.
 * @param each Takes one chunk; what it throws rejects the read (the stream
 * is cancelled).
 */
export async function eachChunk(
  stream: ReadableStream<Uint8Array>,
  each: (chunk: Uint8Array) => void,
): Promise<void> {
  let reader: ReadableStreamBYOBReader;
  try {
    reader = stream.getReader({ mode: "byob" });
  } catch {
    for await (const chunk of stream) each(chunk);
    return;
  }
  let buffer = new ArrayBuffer(CHUNK_BYTES);
  try {
    while (true) {
      const { value, done } = await reader.read(new Uint8Array(buffer));
      if (done || value === undefined) return;
      buffer = value.buffer as ArrayBuffer;
      each(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  } finally {
    reader.releaseLock();
  }
}

/** Something read into a caller's buffer, as `Deno.stdin` is. */
export interface ByteReader {
  /** Reads into `buffer`; resolves with the bytes read, or `null` at the end. */
  read(buffer: Uint8Array): Promise<number | null>;
}

/** Something written from a caller's buffer, as `Deno.stdout` is. */
export interface ByteWriter {
  /** Writes some of `data`; resolves with the bytes written. */
  write(data: Uint8Array): Promise<number>;
}

/**
 * Calls `each` with every chunk read from `reader` until its end, all read
 * into one buffer: `each` must copy what it keeps.
 *
 * @param reader The input (`Deno.stdin`).
 * @param each Takes one chunk; what it throws rejects the read.
 */
export async function eachRead(
  reader: ByteReader,
  each: (chunk: Uint8Array) => void,
): Promise<void> {
  const buffer = new Uint8Array(CHUNK_BYTES);
  while (true) {
    const n = await reader.read(buffer);
    if (n === null) return;
    if (n > 0) each(buffer.subarray(0, n));
  }
}

/**
 * Writes all of `data` to `writer` (a write may take part of it).
 *
 * @param writer The output (`Deno.stdout`).
 * @param data The bytes.
 */
export async function writeAll(writer: ByteWriter, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) offset += await writer.write(data.subarray(offset));
}
