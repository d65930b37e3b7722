// The public types of a DataPort: its frames, its consumer callback, why it
// refuses a frame, and its options.

import type { Logger } from "../logger.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import type { BlockHandle, SlabAllocator } from "./slab_allocator.ts";

/**
 * A frame in flight on a `DataPort`: the handle of the slab block
 * that holds its bytes. Read it with `DataPort.offsetOf()`,
 * `DataPort.lengthOf()` or `DataPort.view()`; give it back
 * with `DataPort.recycle()`.
 */
export type FrameMeta = BlockHandle;

/**
 * The capability a plugin manifest must declare before the kernel hands the
 * plugin a `DataPort`. A port holds no ambient authority: there is
 * no global lookup, so code reaches a port only when given one. Not public:
 * for the kernel's plugin loader.
 */
export const DATAPORT_CAPABILITY = "dataport";

/**
 * Why a `DataPort` is not writable (see
 * `DataPort.wouldBlockReason`): `"credit"` when the frames in
 * flight used up its credit, `"memory"` when its allocator had no block for
 * the last frame refused.
 */
export type WouldBlockReason = "credit" | "memory";

/** Receives each frame of a `DataPort`; see `DataPort.onFrame()`. */
export type FrameCallback = (meta: FrameMeta, view: Uint8Array) => void | PromiseLike<void>;

/** Options of a `DataPort`. */
export interface DataPortOptions {
  /**
   * The credit: how many frames may be in flight (sent and not yet
   * recycled). This is the high watermark; `send()` returns
   * `WOULD_BLOCK` once it is spent.
   *
   * @default {1024}
   */
  credit?: number;
  /**
   * After the credit ran out, the port is writable again (and
   * `DataPort.whenWritable()` resolves) once the credit rises past
   * this many frames. The gap to 0 keeps a producer from waking per frame.
   *
   * @default {credit / 4, rounded down}
   */
  lowWatermark?: number;
  /**
   * The allocator frames are copied into; share one among ports to pool memory.
   *
   * @default {a new SlabAllocator with 4 slabs of 1 MiB, closed with the port}
   */
  allocator?: SlabAllocator;
  /**
   * Registry to export `chronetix_dataport_*` metrics into (see
   * `docs/metrics.md`) until the port closes.
   */
  metrics?: MetricsRegistry;
  /**
   * The port's name: the `port` label of its metrics and the name in its
   * log lines.
   *
   * @default {"default"}
   */
  name?: string;
  /**
   * Where frame callbacks that throw are reported (the 1st, 2nd, 4th, 8th,
   * ... error, so a consumer that always throws cannot flood it).
   *
   * @default {CONSOLE_LOGGER}
   */
  logger?: Logger;
}
