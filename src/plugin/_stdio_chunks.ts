// Reading a pipe (a process plugin's stdout and stderr on the host's side,
// its stdin on the plugin's) into one buffer that is used again and again.
//
// Iterating a Deno pipe's ReadableStream allocates a fresh 64 KiB
// ArrayBuffer for every read, however few bytes arrived (measured on Deno
// 2.9.6: a 3-byte read came in a 65,536-byte buffer). A process plugin's
// frames arrive hundreds of times a second, so that is megabytes a second of
// short-lived external memory: garbage-collection work on both sides and
// allocator fragmentation that shows as RSS growth of the kernel's process.
// A BYOB reader reads into the caller's buffer instead, which comes back
// (transferred) with each read.

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
