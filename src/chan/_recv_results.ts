// The receive results without an item: shared and frozen, so an empty poll
// allocates nothing.

import type { RecvResult } from "./channel_types.ts";

/** The channel closed and nothing is left. */
export const RECV_CLOSED: RecvResult<never> = Object.freeze({ ok: false, reason: "closed" });
/** A receive whose timeout passed. */
export const RECV_TIMED_OUT: RecvResult<never> = Object.freeze({ ok: false, reason: "timed-out" });
/** A `tryRecv()` that found nothing. */
export const RECV_WOULD_BLOCK: RecvResult<never> = Object.freeze({
  ok: false,
  reason: "would-block",
});
