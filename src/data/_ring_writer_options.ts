// The options of a ring writer, its checks and log lines, and the count a
// writer resumes from when it attaches to a ring another writer used.

import type { MetricsRegistry } from "../metrics/registry.ts";
import { requireMetricsRegistry } from "../metrics/registry.ts";
import { CONSOLE_LOGGER, type Logger } from "../logger.ts";
import {
  requireInteger,
  requireLogger,
  requireName,
  requireOptions,
  show,
} from "../internal/validate.ts";
import { BYTES_SENT, FRAMES_SENT } from "./_ring_layout.ts";
import { requireBytes } from "./_checks.ts";

/** Options of a `RingWriter`: its metrics, name, logger and batching. */
export interface RingWriterOptions {
  /**
   * Registry to export `chronetix_ring_*` metrics into (see
   * `docs/metrics.md`) until the writer closes.
   */
  metrics?: MetricsRegistry;
  /**
   * The ring's name: the `ring` label of its metrics and the name in its
   * log lines.
   *
   * @default {"default"}
   */
  name?: string;
  /**
   * Where the writer reports a reader it presumed dead, and frames it could
   * not publish because it lost the ring first.
   *
   * @default {CONSOLE_LOGGER}
   */
  logger?: Logger;
  /**
   * Batched publication: `send()` copies each frame into its slot at once
   * but publishes the ring's write index (a full fence, and the reader's
   * view of the frame) only once per this many frames. 1 publishes every
   * frame. A busy stream then pays one fence per batch, as a hand-written
   * ring does; frames wait in their slots (counted in
   * `RingWriter.unpublished`, and as in flight for credit) until the next
   * publication, which also comes:
   *
   * - at `flush()`;
   * - when the ring is full (before `send()` returns `WOULD_BLOCK`), and in
   *   `whenWritable()`, `waitWritable()`, `whenIdle()` and `close()`;
   * - at once while the reader sleeps (a reader that sleeps is woken with
   *   everything sent so far);
   * - at the end of the current event-loop turn (a microtask), so an async
   *   writer that stops sending never strands frames.
   *
   * A writer in a synchronous loop that never returns to its event loop (a
   * Worker that blocks between sends, an island task) must call `flush()`
   * when it stops sending, or its last frames wait until the batch fills.
   * Values above half the ring's slots act as half the slots, so the
   * reader works on one half while the writer fills the other.
   *
   * @default {1}
   */
  publishEvery?: number;
}

/** Options of `RingWriter.create()` and `RingWriter.createBuffer()`. */
export interface SharedRingOptions extends RingWriterOptions {
  /**
   * Slots in the ring (a power of two): the credit, how many frames may be
   * in flight.
   *
   * @default {1024}
   */
  slots?: number;
  /**
   * Bytes per slot (a multiple of 8): the largest frame.
   *
   * @default {1024}
   */
  slotSize?: number;
  /**
   * After how many milliseconds without a sign of life an end of the ring is
   * presumed dead: an integer from 10, or `Infinity` to never presume so.
   * Each end shows it lives while its thread's event loop runs, while it
   * waits, and on each `poll()` (reader) or every 64 sends and each
   * `flush()` (writer); an end whose Worker was terminated, or whose thread
   * is stuck in synchronous code that long, goes quiet. The other end's
   * waits then end with `"closed"`, its close report is exact, and the side
   * can be taken over.
   *
   * @default {5000}
   */
  livenessTimeoutMs?: number;
}

/** Options of a takeover (`RingWriter.takeover()`, `RingReader.takeover()`). */
export interface RingTakeoverOptions {
  /**
   * Abandons the takeover: the promise rejects with the signal's reason. An
   * end asked to stop stays asked (it stops at its next call).
   */
  signal?: AbortSignal;
}

/** A writer's options, checked. */
export interface CheckedWriterOptions {
  metrics: MetricsRegistry | undefined;
  name: string;
  logger: Logger;
  publishEvery: number;
}

const ACTION = "attach a RingWriter";

/** Checks a writer's options; returns them with their defaults. */
export function writerOptions(options: RingWriterOptions | undefined): CheckedWriterOptions {
  requireOptions(ACTION, "options", options);
  const metrics = options?.metrics === undefined
    ? undefined
    : requireMetricsRegistry(ACTION, "metrics", options.metrics);
  const name = requireName(ACTION, "name", options?.name ?? "default");
  const logger = requireLogger(ACTION, "logger", options?.logger ?? CONSOLE_LOGGER);
  const publishEvery = requireInteger(
    ACTION,
    "publishEvery",
    options?.publishEvery ?? 1,
    1,
    2 ** 31 - 1,
  );
  return { metrics, name, logger, publishEvery };
}

/**
 * The count of frames published, consistent with the ring's write position:
 * a writer counts a batch before it publishes it, so one that died between
 * the two left the count up to a ring's worth ahead, which a new writer
 * takes back (those frames were never published).
 */
export function resumeCount(
  stats: Float64Array,
  lengths: Int32Array,
  write: number,
  mask: number,
): number {
  const sent = stats[FRAMES_SENT]!;
  const ahead = ((sent % 2 ** 32) - (write >>> 0) + 2 ** 32) % 2 ** 32;
  if (ahead === 0 || ahead > mask + 1) return sent;
  let bytes = 0;
  for (let i = 0; i < ahead; i++) bytes += lengths[(write + i) & mask]!;
  stats[FRAMES_SENT] = sent - ahead;
  stats[BYTES_SENT]! -= bytes;
  return sent - ahead;
}

/** Checks a frame off `send()`'s fast path; returns its length. */
export function requireFrame(bytes: unknown, slotSize: number): number {
  const length = requireBytes("send a frame", "bytes", bytes);
  if (length > slotSize) {
    throw new RangeError(
      `Cannot send a frame as 'bytes' is longer than a slot (${slotSize} bytes): current length is ${length}`,
    );
  }
  return length;
}

/** The error of a frame whose buffer could not be read (detached or shrunk meanwhile). */
export function unreadable(error: unknown): TypeError {
  return new TypeError(
    `Cannot send a frame as 'bytes' could not be read: ${
      error instanceof Error ? error.message : show(error)
    }`,
  );
}

/** The log line of a writer that presumed its reader dead. */
export function readerDeadLine(name: string, epoch: number, silentMs: number): string {
  return `Reader of ring "${name}" (epoch ${epoch}) showed no sign of life for ${
    Math.round(silentMs)
  } ms: presumed dead, waits end with "closed" (take it over with RingReader.takeover())`;
}

/** The log line of a writer that lost the ring with frames it had not published. */
export function lostLine(name: string, epoch: number, lost: number): string {
  return `RingWriter of ring "${name}" (epoch ${epoch}) lost the ring with ${lost} ${
    lost === 1 ? "frame" : "frames"
  } not yet published (it was presumed dead): the reader never gets them`;
}
