// What a shared ring reports, the same from either end: its stats snapshot,
// the close report of an end, and the metrics fed from the snapshot.

import type { StatMetric } from "../metrics/export_stats.ts";
import {
  BYTES_RECEIVED,
  BYTES_SENT,
  CONSUMER_ERRORS,
  epochOf,
  FRAMES_RECEIVED,
  FRAMES_SENT,
  isGone,
  PEAK_IN_FLIGHT,
  READ,
  READER_DEATHS,
  READER_END,
  READER_TAKEOVERS,
  type RingViews,
  stateName,
  UTIL_SUM,
  WOULD_BLOCK_COUNT,
  WRITE,
  WRITER_DEATHS,
  WRITER_END,
  WRITER_TAKEOVERS,
} from "./_ring_layout.ts";

/**
 * The state of one end of a shared ring: `"none"` before any end attached
 * to that side, `"attached"`, `"closed"` (it closed, or acknowledged a
 * takeover), `"dead"` (presumed dead: it showed no sign of life for the
 * ring's `livenessTimeoutMs`), `"evicting"` (a takeover asked it to stop
 * and waits for it).
 */
export type RingEndState = "none" | "attached" | "closed" | "dead" | "evicting";

/** A snapshot of a shared ring, the same from either end. */
export interface RingStats {
  /** Slots in the ring: its credit when empty. */
  slots: number;
  /** Bytes per slot: the largest frame. */
  slotSize: number;
  /**
   * Frames the writer published (a batching writer's frames count once
   * their batch is published; see `RingWriterOptions.publishEvery`).
   */
  framesSent: number;
  /** Payload bytes the writer published. */
  bytesSent: number;
  /** Frames the reader consumed: exact, frame by frame. */
  framesReceived: number;
  /** Payload bytes the reader consumed. */
  bytesReceived: number;
  /**
   * Frames published and not yet released by the reader (it releases slots
   * every 64 frames and at the end of each poll).
   */
  inFlight: number;
  /** Free slots: frames the writer may still publish. */
  credit: number;
  /** The lowest credit seen after a send: `slots` minus the peak in flight. */
  minCredit: number;
  /** Slots in use as a fraction of `slots`, in [0, 1], now. */
  utilizationRatio: number;
  /**
   * Utilization averaged over every send, as the writer saw it: it re-reads
   * the reader's position every 64 frames (and whenever the ring looks
   * full), so this and the peak may overstate the slots in use by up to 64.
   */
  averageUtilizationRatio: number;
  /** The highest utilization seen at a send (see `averageUtilizationRatio`). */
  peakUtilizationRatio: number;
  /** Sends refused with `WOULD_BLOCK` because the ring was full. */
  wouldBlock: number;
  /** Frames the reader left unread when it closed or died. */
  discarded: number;
  /** Reader callbacks that threw (their frames counted as consumed). */
  consumerErrors: number;
  /** Whether the writer is gone: closed or presumed dead. */
  writerClosed: boolean;
  /** Whether the reader is gone: closed or presumed dead. */
  readerClosed: boolean;
  /** The writer's state. */
  writerState: RingEndState;
  /** The reader's state. */
  readerState: RingEndState;
  /** The writer's epoch: 1 for the first writer, one more per takeover (0: none yet). */
  writerEpoch: number;
  /** The reader's epoch: 1 for the first reader, one more per takeover (0: none yet). */
  readerEpoch: number;
  /** Writers presumed dead (no sign of life for the liveness timeout). */
  writerDeaths: number;
  /** Readers presumed dead (no sign of life for the liveness timeout). */
  readerDeaths: number;
  /** Writers that replaced a gone one (`RingWriter.takeover()`). */
  writerTakeovers: number;
  /** Readers that replaced a gone one (`RingReader.takeover()`). */
  readerTakeovers: number;
  /** After how long without a sign of life an end is presumed dead (`Infinity`: never). */
  livenessTimeoutMs: number;
}

/** What a ring endpoint reports when it closes. */
export interface RingCloseReport {
  /**
   * Frames the reader had consumed when this endpoint closed: exact, a
   * frame counts once its callback returned (or threw).
   */
  consumed: number;
  /**
   * Frames published that the reader had not consumed when this endpoint
   * closed (and now never will, if the reader closed or died).
   */
  unconsumed: number;
  /**
   * A writer's report only, present when not 0: frames this writer
   * accepted (`send()` returned their sequence numbers) but never
   * published, because it lost the ring first (it was presumed dead, and
   * maybe taken over, while they waited for their batch's publication; see
   * `RingWriterOptions.publishEvery`). The reader never gets them: they
   * count in neither `consumed` nor `unconsumed`, nor in `framesSent`, and
   * the ring's next writer gives their sequence numbers again.
   */
  unpublished?: number;
}

/**
 * Reads a stats snapshot from a ring's header: for both endpoints. Not
 * public (the endpoints' `stats()` are).
 *
 * @param views The endpoint's views of the ring.
 * @returns The snapshot.
 */
export function readRingStats(views: RingViews): RingStats {
  const { header, stats, layout } = views;
  const sent = stats[FRAMES_SENT]!;
  const received = stats[FRAMES_RECEIVED]!;
  const inFlight = Math.min(
    (Atomics.load(header, WRITE) - Atomics.load(header, READ)) >>> 0,
    layout.slots,
  );
  const slots = layout.slots;
  const writer = Atomics.load(header, WRITER_END);
  const reader = Atomics.load(header, READER_END);
  return {
    slots,
    slotSize: layout.slotSize,
    framesSent: sent,
    bytesSent: stats[BYTES_SENT]!,
    framesReceived: received,
    bytesReceived: stats[BYTES_RECEIVED]!,
    inFlight,
    credit: slots - inFlight,
    minCredit: slots - stats[PEAK_IN_FLIGHT]!,
    utilizationRatio: inFlight / slots,
    averageUtilizationRatio: sent === 0 ? 0 : stats[UTIL_SUM]! / sent / slots,
    peakUtilizationRatio: stats[PEAK_IN_FLIGHT]! / slots,
    wouldBlock: stats[WOULD_BLOCK_COUNT]!,
    discarded: isGone(reader) ? Math.max(0, sent - received) : 0,
    consumerErrors: stats[CONSUMER_ERRORS]!,
    writerClosed: isGone(writer),
    readerClosed: isGone(reader),
    writerState: stateName(writer),
    readerState: stateName(reader),
    writerEpoch: epochOf(writer),
    readerEpoch: epochOf(reader),
    writerDeaths: stats[WRITER_DEATHS]!,
    readerDeaths: stats[READER_DEATHS]!,
    writerTakeovers: stats[WRITER_TAKEOVERS]!,
    readerTakeovers: stats[READER_TAKEOVERS]!,
    livenessTimeoutMs: views.livenessTimeoutMs,
  };
}

/**
 * The close report of a ring endpoint, from its header: frames consumed and
 * published but not consumed, now. Not public.
 *
 * @param stats The ring's statistics words.
 * @returns The report.
 */
export function ringCloseReport(stats: Float64Array): RingCloseReport {
  const consumed = stats[FRAMES_RECEIVED]!;
  return { consumed, unconsumed: Math.max(0, stats[FRAMES_SENT]! - consumed) };
}

/** The metrics a ring writer exports, read from the ring's stats at scrape time. */
export const RING_METRICS: readonly StatMetric<RingStats>[] = [
  {
    name: "chronetix_ring_frames_sent_total",
    help: "Frames the ring's writer published",
    type: "counter",
    value: (s) => s.framesSent,
  },
  {
    name: "chronetix_ring_sent_bytes_total",
    help: "Payload bytes the ring's writer published",
    type: "counter",
    unit: "bytes",
    value: (s) => s.bytesSent,
  },
  {
    name: "chronetix_ring_frames_received_total",
    help: "Frames the ring's reader consumed",
    type: "counter",
    value: (s) => s.framesReceived,
  },
  {
    name: "chronetix_ring_would_block_total",
    help: "Sends refused with WOULD_BLOCK because every slot was in use",
    type: "counter",
    value: (s) => s.wouldBlock,
  },
  {
    name: "chronetix_ring_discarded_frames_total",
    help: "Frames left unread when the ring's reader closed or died",
    type: "counter",
    value: (s) => s.discarded,
  },
  {
    name: "chronetix_ring_dead_ends_total",
    help: "Ring ends presumed dead (no sign of life for the liveness timeout), by end",
    type: "counter",
    labels: { end: "reader" },
    value: (s) => s.readerDeaths,
  },
  {
    name: "chronetix_ring_dead_ends_total",
    help: "Ring ends presumed dead (no sign of life for the liveness timeout), by end",
    type: "counter",
    labels: { end: "writer" },
    value: (s) => s.writerDeaths,
  },
  {
    name: "chronetix_ring_takeovers_total",
    help: "Ring ends that replaced a gone one, by end",
    type: "counter",
    labels: { end: "reader" },
    value: (s) => s.readerTakeovers,
  },
  {
    name: "chronetix_ring_takeovers_total",
    help: "Ring ends that replaced a gone one, by end",
    type: "counter",
    labels: { end: "writer" },
    value: (s) => s.writerTakeovers,
  },
  {
    name: "chronetix_ring_consumer_errors_total",
    help: "Reader callbacks that threw; their frames counted as consumed",
    type: "counter",
    value: (s) => s.consumerErrors,
  },
  {
    name: "chronetix_ring_credit",
    help: "Free slots: frames the writer may still publish",
    type: "gauge",
    value: (s) => s.credit,
  },
  {
    name: "chronetix_ring_min_credit",
    help: "The lowest credit seen after a send",
    type: "gauge",
    value: (s) => s.minCredit,
  },
  {
    name: "chronetix_ring_utilization_ratio",
    help: "Slots in use as a fraction",
    type: "gauge",
    unit: "ratio",
    value: (s) => s.utilizationRatio,
  },
  {
    name: "chronetix_ring_utilization_avg_ratio",
    help: "Slot utilization averaged over every send",
    type: "gauge",
    unit: "ratio",
    value: (s) => s.averageUtilizationRatio,
  },
  {
    name: "chronetix_ring_utilization_peak_ratio",
    help: "The highest slot utilization seen",
    type: "gauge",
    unit: "ratio",
    value: (s) => s.peakUtilizationRatio,
  },
];
