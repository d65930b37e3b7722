// The metrics a channel exports, read from its stats at scrape time.

import type { StatMetric } from "../metrics/export_stats.ts";
import type { ChannelStats } from "./channel_types.ts";

/** The `chronetix_channel_*` metrics, labelled `channel="<name>"`. */
export const CHANNEL_METRICS: readonly StatMetric<ChannelStats>[] = [
  {
    name: "chronetix_channel_depth",
    help: "Items waiting in the channel",
    type: "gauge",
    value: (s) => s.depth,
  },
  {
    name: "chronetix_channel_peak_depth",
    help: "Most items that waited in the channel at once",
    type: "gauge",
    value: (s) => s.peakDepth,
  },
  {
    name: "chronetix_channel_capacity",
    help: "Items the channel holds at most (+Inf when unbounded)",
    type: "gauge",
    value: (s) => s.capacity,
  },
  {
    name: "chronetix_channel_sent_total",
    help: "Items the channel accepted",
    type: "counter",
    value: (s) => s.sent,
  },
  {
    name: "chronetix_channel_received_total",
    help: "Items the channel handed to its receiver",
    type: "counter",
    value: (s) => s.received,
  },
  {
    name: "chronetix_channel_send_waits_total",
    help: "Sends that waited for room (backpressure)",
    type: "counter",
    value: (s) => s.sendWaits,
  },
  {
    name: "chronetix_channel_recv_waits_total",
    help: "Receives that waited for an item",
    type: "counter",
    value: (s) => s.recvWaits,
  },
  {
    name: "chronetix_channel_would_blocks_total",
    help: "trySend() calls refused because the channel was full",
    type: "counter",
    value: (s) => s.wouldBlocks,
  },
  {
    name: "chronetix_channel_timeouts_total",
    help: "Sends and receives whose timeout passed first",
    type: "counter",
    value: (s) => s.timeouts,
  },
  {
    name: "chronetix_channel_waiting_senders",
    help: "Sends waiting for room",
    type: "gauge",
    value: (s) => s.waitingSenders,
  },
];
