/**
 * The data plane: a {@linkcode SlabAllocator}, the {@linkcode DataPort}
 * (same-thread frames with credit backpressure) and a single-producer
 * single-consumer ring in a `SharedArrayBuffer` ({@linkcode RingWriter},
 * {@linkcode RingReader}) for frames between threads. Nothing is dropped:
 * a full port or ring answers {@linkcode WOULD_BLOCK}, and the producer
 * waits with `whenWritable()`, which resolves a {@linkcode WaitResult}.
 *
 * @example Frames through a DataPort, read in place
 * ```ts
 * import { DataPort, WOULD_BLOCK } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * using port = new DataPort({ credit: 2 });
 * const a = port.send(Uint8Array.of(7, 8));
 * port.send(Uint8Array.of(9));
 * assertEquals(port.send(Uint8Array.of(10)), WOULD_BLOCK);
 * const meta = port.receive();
 * assertEquals(meta, a);
 * if (meta !== WOULD_BLOCK) {
 *   assertEquals([...port.view(meta)], [7, 8]);
 *   port.recycle(meta);
 * }
 * assertEquals(port.credit, 1);
 * ```
 *
 * @module
 */
export { type WaitOptions, type WaitResult, WOULD_BLOCK, type WouldBlock } from "./backpressure.ts";
export { DataPort } from "./data_port.ts";
export type {
  DataPortOptions,
  FrameCallback,
  FrameMeta,
  WouldBlockReason,
} from "./data_port_types.ts";
export type { DataPortCloseReport, DataPortStats } from "./data_port_stats.ts";
export {
  type BlockHandle,
  NO_BLOCK,
  SlabAllocator,
  type SlabAllocatorOptions,
  type SlabAllocatorStats,
} from "./slab_allocator.ts";
export {
  type RingTakeoverOptions,
  RingWriter,
  type RingWriterOptions,
  type SharedRingOptions,
} from "./ring_writer.ts";
export type { RingCloseReport, RingEndState, RingStats } from "./ring_stats.ts";
export { type RingFrameCallback, RingReader, type RingReaderOptions } from "./ring_reader.ts";
