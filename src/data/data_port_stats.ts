// What a DataPort reports: its stats snapshot, its close report, and the
// metrics fed from the snapshot at scrape time.

import type { StatMetric } from "../metrics/export_stats.ts";

/** A snapshot of a {@linkcode DataPort}'s counters. */
export interface DataPortStats {
  /** Frames accepted by `send()`. */
  framesSent: number;
  /** Payload bytes accepted by `send()`. */
  bytesSent: number;
  /** Frames handed to the consumer. */
  framesReceived: number;
  /** Frames recycled. */
  framesRecycled: number;
  /** The configured credit (the high watermark). */
  creditLimit: number;
  /** Credit left now. */
  credit: number;
  /** The lowest credit seen. */
  minCredit: number;
  /** Frames sent and not yet received. */
  unreceived: number;
  /** Frames received and not yet recycled: credit a consumer is holding. */
  unrecycled: number;
  /** Frames in flight as a fraction of the credit, in [0, 1], now. */
  utilizationRatio: number;
  /** Utilization averaged over every `send()`, in [0, 1]. */
  averageUtilizationRatio: number;
  /** The highest utilization seen, in [0, 1]. */
  peakUtilizationRatio: number;
  /** `send()` calls refused because the credit was spent. */
  wouldBlockCredit: number;
  /** `send()` calls refused because the allocator was full. */
  wouldBlockMemory: number;
  /** Frame callbacks that threw (their frames were recycled). */
  consumerErrors: number;
}

/** What was left in a port when it closed. */
export interface DataPortCloseReport {
  /** Frames sent that the consumer never received; recycled by `close()`. */
  unreceived: number;
  /** Frames the consumer had received and not recycled when the port closed. */
  unrecycled: number;
}

/** The metrics a port exports, read from its stats at scrape time. */
export const PORT_METRICS: readonly StatMetric<DataPortStats>[] = [
  {
    name: "chronetix_dataport_frames_sent_total",
    help: "Frames accepted by send()",
    type: "counter",
    value: (s) => s.framesSent,
  },
  {
    name: "chronetix_dataport_sent_bytes_total",
    help: "Payload bytes accepted by send()",
    type: "counter",
    unit: "bytes",
    value: (s) => s.bytesSent,
  },
  {
    name: "chronetix_dataport_frames_recycled_total",
    help: "Frames recycled",
    type: "counter",
    value: (s) => s.framesRecycled,
  },
  {
    name: "chronetix_dataport_would_block_total",
    help: "Sends refused with WOULD_BLOCK, by reason (credit, memory)",
    type: "counter",
    labels: { reason: "credit" },
    value: (s) => s.wouldBlockCredit,
  },
  {
    name: "chronetix_dataport_would_block_total",
    help: "Sends refused with WOULD_BLOCK, by reason (credit, memory)",
    type: "counter",
    labels: { reason: "memory" },
    value: (s) => s.wouldBlockMemory,
  },
  {
    name: "chronetix_dataport_consumer_errors_total",
    help: "Frame callbacks that threw; their frames were recycled",
    type: "counter",
    value: (s) => s.consumerErrors,
  },
  {
    name: "chronetix_dataport_credit",
    help: "Credit left: frames that may still be sent",
    type: "gauge",
    value: (s) => s.credit,
  },
  {
    name: "chronetix_dataport_min_credit",
    help: "The lowest credit seen",
    type: "gauge",
    value: (s) => s.minCredit,
  },
  {
    name: "chronetix_dataport_unrecycled_frames",
    help: "Frames the consumer received and has not recycled (credit it holds)",
    type: "gauge",
    value: (s) => s.unrecycled,
  },
  {
    name: "chronetix_dataport_utilization_ratio",
    help: "Frames in flight as a fraction of the credit",
    type: "gauge",
    unit: "ratio",
    value: (s) => s.utilizationRatio,
  },
  {
    name: "chronetix_dataport_utilization_avg_ratio",
    help: "Utilization averaged over every send",
    type: "gauge",
    unit: "ratio",
    value: (s) => s.averageUtilizationRatio,
  },
  {
    name: "chronetix_dataport_utilization_peak_ratio",
    help: "The highest utilization seen",
    type: "gauge",
    unit: "ratio",
    value: (s) => s.peakUtilizationRatio,
  },
];
