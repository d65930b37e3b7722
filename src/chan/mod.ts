/**
 * Channels: a bounded multi-producer single-consumer {@linkcode channel}
 * with backpressure (`send()` waits when full, `trySend()` answers
 * `WOULD_BLOCK`), {@linkcode select} over receives, sends, timers and abort
 * signals, and the same {@linkcode Sender} / {@linkcode Receiver} interface
 * between threads over the shared ring ({@linkcode RingSender},
 * {@linkcode RingReceiver}), with a codec for numbers, strings, typed arrays
 * and small JSON ({@linkcode AUTO_CODEC}).
 *
 * @example A producer, a consumer and a timeout
 * ```ts
 * import { after, channel, recvFrom, select } from "@chronetix/core";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * using ch = channel<number>(16, { clock });
 * await ch.send(1);
 * assertEquals(await select([recvFrom(ch), after(10)], { clock }), {
 *   index: 0,
 *   value: { ok: true, value: 1 },
 * });
 * const idle = select([recvFrom(ch), after(10)], { clock });
 * clock.advance(10);
 * assertEquals((await idle).index, 1);
 * ```
 *
 * @module
 */
export { Channel, channel } from "./channel.ts";
export type {
  ChannelCloseReport,
  ChannelOptions,
  ChannelStats,
  Receiver,
  RecvResult,
  Sender,
  SendResult,
} from "./channel_types.ts";
export {
  aborted,
  after,
  recvFrom,
  select,
  type SelectCase,
  type SelectOptions,
  type SelectResult,
  type SelectTimedOut,
  sendTo,
} from "./select.ts";
export {
  AUTO_CODEC,
  BYTES_CODEC,
  type FrameCodec,
  FrameCodecError,
  type FrameValue,
  type JsonValue,
  type TypedArray,
} from "./codec.ts";
export {
  type RingChannelOptions,
  type RingCodecOptions,
  RingReceiver,
  type RingReceiverOptions,
  RingSender,
  type RingSenderOptions,
} from "./ring_channel.ts";
