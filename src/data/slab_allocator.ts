import { requireBoolean, requireName } from "../internal/validate.ts";
import { requireMetricsRegistry } from "../metrics/registry.ts";
import { requireClock } from "../time/clock.ts";
import { type Clock, MONOTONIC_CLOCK } from "../time/clock.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import { requireInteger, requireOptions, show } from "../internal/validate.ts";
import { exportStats, type StatMetric } from "../metrics/export_stats.ts";
import { SlabCore } from "./_slab_core.ts";
import { requireArray } from "./_checks.ts";

/**
 * A block allocated by a {@linkcode SlabAllocator}: a small non-negative
 * integer (it never allocates) that encodes the block and its generation,
 * so a stale or foreign handle is recognised instead of freeing someone
 * else's block.
 *
 * How long a freed handle stays recognised: every allocation of a block
 * gives it the next of 2^(31 - b) generations, where 2^b bounds the number
 * of blocks (`slabs * slabSize / sizeClasses[0]` rounded up to a power of
 * two; 2^15 = 32,768 generations for the default 4 slabs of 1 MiB in
 * 64-byte blocks). A block freed at its last generation is parked instead
 * of reused, and parked blocks come back (generation 0 again) only when the
 * allocator has no other room, oldest first. So a freed handle never names
 * a live block again before its block was allocated 2^(31 - b) more times,
 * nor after that while the allocator has memory to spare;
 * `quarantineReleases` in {@linkcode SlabAllocator.stats} counts the parked
 * blocks memory pressure brought back.
 */
export type BlockHandle = number & { readonly __brand: "BlockHandle" };

/** What {@linkcode SlabAllocator.alloc} returns when every slab is full. */
export const NO_BLOCK: -1 = -1;

/** Options of a {@linkcode SlabAllocator}. */
export interface SlabAllocatorOptions {
  /**
   * How many slabs the buffer holds.
   *
   * @default {4}
   */
  slabs?: number;
  /**
   * Bytes per slab: a multiple of the smallest size class, at least the
   * largest.
   *
   * @default {1048576}
   */
  slabSize?: number;
  /**
   * Block sizes in bytes, strictly ascending; each a multiple of the first,
   * which must be a power of two, at least 8.
   *
   * @default {powers of two from 64 bytes to `slabSize`}
   */
  sizeClasses?: readonly number[];
  /**
   * Back the allocator with a `SharedArrayBuffer`, so other threads can read
   * blocks in place (allocation itself stays on the owning thread).
   *
   * @default {false}
   */
  shared?: boolean;
  /**
   * Measure the recycle age (free to reuse) of one freed block in this many;
   * a power of two. Sampling keeps clock reads (about 0.1 µs each) off the
   * fast path.
   *
   * @default {256}
   */
  recycleAgeSampleEvery?: number;
  /** Clock for recycle ages. @default {MONOTONIC_CLOCK} */
  clock?: Clock;
  /** Registry to export `chronetix_alloc_*` metrics into (see `docs/metrics.md`). */
  metrics?: MetricsRegistry;
  /**
   * The `allocator` label of this allocator's metrics.
   *
   * @default {"default"}
   */
  name?: string;
}

/** A snapshot of a {@linkcode SlabAllocator}'s state and counters. */
export interface SlabAllocatorStats {
  /** Bytes the allocator manages (`slabs * slabSize`). */
  capacityBytes: number;
  /** Slabs given to a size class; the others wait in the pool. */
  slabsInUse: number;
  /** Blocks currently allocated. */
  blocksInUse: number;
  /** Bytes of the allocated blocks (their class sizes). */
  bytesInUse: number;
  /** Bytes requested for the allocated blocks. */
  requestedBytes: number;
  /**
   * Internal fragmentation of live blocks, in [0, 1]:
   * `1 - requestedBytes / bytesInUse` (0 when empty).
   */
  fragmentationRatio: number;
  /** Blocks waiting on the free lists. */
  freeBlocks: number;
  /** The largest block an `alloc()` could get now, in bytes (0 when full). */
  largestFreeBlock: number;
  /**
   * Average time between a block's free and its reuse, in milliseconds
   * (sampled; `NaN` before the first reuse).
   */
  averageRecycleAgeMs: number;
  /** Successful allocations. */
  allocs: number;
  /** Frees. */
  frees: number;
  /** `alloc()` calls that returned {@linkcode NO_BLOCK} because the slabs were full. */
  failedAllocs: number;
  /** `free()` calls rejected for a foreign, stale or already freed handle. */
  rejectedFrees: number;
  /**
   * Slabs of a size class that held no live block, taken back for another
   * class that needed a slab when none was free.
   */
  slabsReclaimed: number;
  /** Slabs of a size class with no live block now: reclaimable for another class. */
  emptySlabs: number;
  /**
   * Blocks parked because they were freed at their last handle generation
   * (see {@linkcode BlockHandle}): neither live nor free, reused only when
   * the allocator has no other room.
   */
  quarantinedBlocks: number;
  /**
   * Parked blocks put back into use because the allocator had no other
   * room: after one, a handle freed more than 2^(31 - b) allocations of its
   * block ago could name a live block again.
   */
  quarantineReleases: number;
}

/** Block index bits: at most 2^22 blocks, leaving at least 2^9 generations per block. */
const MAX_GRANULE_BITS = 22;
const ACTION = "create a SlabAllocator";

// The friend that hands an allocator's core to its owners (DataPort),
// assigned in the class's static block, the only place that can reach it.
let coreOf: (allocator: SlabAllocator) => SlabCore;

/**
 * A slab allocator over one `ArrayBuffer` (or `SharedArrayBuffer`): the
 * buffer is cut into slabs, each slab serves one size class at a time,
 * blocks are bump-allocated from a class's slab and recycled through the
 * slab's free list. A slab whose blocks are all free stays with its class
 * until another class needs a slab and none is free: it is then reclaimed
 * (`slabsReclaimed` in {@linkcode SlabAllocator.stats}), so memory freed by
 * one size class always serves the others. Allocation and free are O(1)
 * and allocate nothing (reclaiming a slab scans the slab table once).
 *
 * Read and write a block through {@linkcode SlabAllocator.bytes} at
 * {@linkcode SlabAllocator.offsetOf}. A handle is checked on `free()`: a
 * foreign, stale or already freed handle throws and leaves the allocator
 * untouched.
 *
 * @example Allocate, write, free
 * ```ts
 * import { NO_BLOCK, SlabAllocator } from "@chronetix/core";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * using slab = new SlabAllocator({ slabs: 2, slabSize: 4096 });
 * const block = slab.alloc(100); // served by the 128-byte class
 * if (block === NO_BLOCK) throw new Error("Cannot allocate as the slabs are full");
 * slab.bytes.set([1, 2, 3], slab.offsetOf(block));
 * assertEquals(slab.sizeOf(block), 128);
 * assertEquals(slab.stats().bytesInUse, 128);
 * slab.free(block);
 * assertThrows(() => slab.free(block), RangeError, "already freed");
 * assertThrows(() => slab.alloc(8192), RangeError, "largest size class");
 * ```
 */
export class SlabAllocator {
  static {
    coreOf = (allocator) => allocator.#core;
  }

  /** The bytes of every slab; blocks live at {@linkcode SlabAllocator.offsetOf}. */
  readonly bytes: Uint8Array;
  /** The underlying buffer (shareable with Workers when `shared` was set). */
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /** Block sizes, ascending. */
  readonly sizeClasses: readonly number[];
  /** Bytes per slab. */
  readonly slabSize: number;

  readonly #core: SlabCore;
  #collector: Disposable | undefined;

  /**
   * Creates the allocator and its buffer.
   *
   * @param options Slab count and size, size classes, sharing, metrics.
   * @throws {RangeError} when a count or size is out of range, or the size
   *   classes are not ascending multiples of the smallest.
   * @throws {TypeError} when the name is empty.
   */
  constructor(options: SlabAllocatorOptions = {}) {
    requireOptions(ACTION, "options", options);
    const slabs = requireInteger(ACTION, "slabs", options.slabs ?? 4, 1, 4096);
    const slabSize = requireInteger(ACTION, "slabSize", options.slabSize ?? 1 << 20, 64, 1 << 30);
    const classes = options.sizeClasses === undefined
      ? defaultClasses(slabSize)
      : requireArray(ACTION, "sizeClasses", options.sizeClasses, 120) as number[];
    checkClasses(classes, slabSize);
    const granule = classes[0]!;
    if (slabSize % granule !== 0) {
      throw new RangeError(
        `Cannot ${ACTION} as 'slabSize' must be a multiple of the smallest size class (${granule}): current value is ${slabSize}`,
      );
    }
    const granules = slabs * slabSize / granule;
    const granuleBits = Math.max(1, Math.ceil(Math.log2(granules)));
    if (granuleBits > MAX_GRANULE_BITS) {
      throw new RangeError(
        `Cannot ${ACTION} as it would hold ${granules} blocks of ${granule} bytes: at most ${
          2 ** MAX_GRANULE_BITS
        } are supported, use a larger smallest size class`,
      );
    }
    const sampleEvery = requireInteger(
      ACTION,
      "recycleAgeSampleEvery",
      options.recycleAgeSampleEvery ?? 256,
      1,
      1 << 20,
    );
    if ((sampleEvery & (sampleEvery - 1)) !== 0) {
      throw new RangeError(
        `Cannot ${ACTION} as 'recycleAgeSampleEvery' must be a power of two: current value is ${sampleEvery}`,
      );
    }
    const shared = requireBoolean(ACTION, "shared", options.shared ?? false);
    const clock = requireClock(ACTION, "clock", options.clock ?? MONOTONIC_CLOCK);
    const metrics = options.metrics === undefined
      ? undefined
      : requireMetricsRegistry(ACTION, "metrics", options.metrics);
    const name = requireName(ACTION, "name", options.name ?? "default");
    this.slabSize = slabSize;
    this.sizeClasses = Object.freeze(classes);
    this.buffer = shared
      ? new SharedArrayBuffer(slabs * slabSize)
      : new ArrayBuffer(slabs * slabSize);
    this.bytes = new Uint8Array(this.buffer);
    this.#core = new SlabCore({ slabs, slabSize, classes, granuleBits, sampleEvery, clock });
    if (metrics !== undefined) {
      this.#collector = exportStats(metrics, () => this.stats(), ALLOCATOR_METRICS, {
        labels: { allocator: name },
      });
    }
  }

  /** Whether {@linkcode SlabAllocator.close} was called. */
  get closed(): boolean {
    return this.#core.closed;
  }

  /** The largest block `alloc()` can serve, in bytes. */
  get maxBlockSize(): number {
    return this.#core.maxBlockSize;
  }

  /**
   * Allocates a block of at least `size` bytes.
   *
   * @param size Bytes needed, an integer from 1 to {@linkcode SlabAllocator.maxBlockSize}.
   * @returns A handle, or {@linkcode NO_BLOCK} when no slab has room.
   * @throws {RangeError} when `size` is not an integer in range.
   * @throws {ClosedError} when the allocator is closed.
   */
  alloc(size: number): BlockHandle | typeof NO_BLOCK {
    return this.#core.alloc(size) as BlockHandle | typeof NO_BLOCK;
  }

  /**
   * Frees a block, making it available to the next `alloc()` of its class.
   *
   * @param handle A handle from this allocator's `alloc()`.
   * @throws {RangeError} when the handle is foreign, stale or already freed;
   *   the allocator is left unchanged (but for its `rejectedFrees` count).
   */
  free(handle: BlockHandle): void {
    this.#core.free(handle);
  }

  /**
   * Whether `handle` is a live block of this allocator.
   *
   * @param handle Any value.
   * @returns `true` for a block allocated here and not freed since.
   */
  owns(handle: number): boolean {
    return this.#core.liveIndex(handle) >= 0;
  }

  /**
   * The byte offset of a live block in {@linkcode SlabAllocator.bytes}.
   *
   * @param handle A live block's handle.
   * @returns The offset of its first byte.
   * @throws {RangeError} when the handle is not a live block of this allocator.
   */
  offsetOf(handle: BlockHandle): number {
    const core = this.#core;
    return core.validate(handle, "read block") * core.granule;
  }

  /**
   * The usable size of a live block: its size class, at least the size asked for.
   *
   * @param handle A live block's handle.
   * @returns Bytes.
   * @throws {RangeError} when the handle is not a live block of this allocator.
   */
  sizeOf(handle: BlockHandle): number {
    const core = this.#core;
    return core.sizeAt(core.validate(handle, "read block"));
  }

  /**
   * The index of a live block, unique among live blocks and below
   * `slabs * slabSize / sizeClasses[0]`: lets owners keep per-block data in
   * their own typed arrays. The block starts at byte
   * `blockIndex(handle) * sizeClasses[0]`.
   *
   * @param handle A live block's handle.
   * @returns The block's index.
   * @throws {RangeError} when the handle is not a live block of this allocator.
   */
  blockIndex(handle: BlockHandle): number {
    return this.#core.validate(handle, "read block");
  }

  /**
   * A view of a live block's bytes (allocates the view object).
   *
   * @param handle A live block's handle.
   * @param length Bytes to view, an integer from 0 to the block's size.
   * @returns A `Uint8Array` over the block, no copy.
   * @throws {RangeError} when the handle is not a live block of this allocator,
   *   or `length` is out of range.
   */
  view(handle: BlockHandle, length?: number): Uint8Array {
    const core = this.#core;
    const g = core.validate(handle, "view block");
    const size = core.sizeAt(g);
    const bytes = length === undefined
      ? size
      : requireInteger("view block", "length", length, 0, size);
    const offset = g * core.granule;
    return this.bytes.subarray(offset, offset + bytes);
  }

  /**
   * Takes a snapshot of the allocator's state; walks the slab table, so
   * call it on a reporting cadence, not per block.
   *
   * @returns The current figures.
   */
  stats(): SlabAllocatorStats {
    const core = this.#core;
    let blocksInUse = 0;
    let bytesInUse = 0;
    let freeBlocks = 0;
    let emptySlabs = 0;
    // The largest class with room: a slab's own class when it has a free or
    // parked block or room to carve; any class when it could be emptied.
    let largest = core.freeSlabCount > 0 ? core.maxBlockSize : 0;
    for (let s = 0; s < core.slabCount; s++) {
      const c = core.slabClass[s]!;
      if (c < 0) continue;
      const live = core.slabLive[s]! - core.slabParked[s]!;
      const carved = (core.slabBump[s]! - s * core.granulesPerSlab) / core.classGranules[c]!;
      blocksInUse += live;
      bytesInUse += live * core.classSize[c]!;
      freeBlocks += carved - core.slabLive[s]!;
      if (core.slabLive[s] === 0) emptySlabs++;
      if (live === 0) largest = core.maxBlockSize;
      else if (
        core.slabFree[s]! >= 0 || core.slabParked[s]! > 0 || core.slabBump[s]! < core.slabEnd[s]!
      ) {
        largest = Math.max(largest, core.classSize[c]!);
      }
    }
    return {
      capacityBytes: this.bytes.byteLength,
      slabsInUse: core.slabCount - core.freeSlabCount,
      blocksInUse,
      bytesInUse,
      requestedBytes: core.requestedBytes,
      fragmentationRatio: bytesInUse === 0 ? 0 : 1 - core.requestedBytes / bytesInUse,
      freeBlocks,
      largestFreeBlock: core.closed ? 0 : largest,
      averageRecycleAgeMs: core.ageCount === 0 ? NaN : core.ageSum / core.ageCount,
      allocs: core.frees + blocksInUse,
      frees: core.frees,
      failedAllocs: core.failedAllocs,
      rejectedFrees: core.rejectedFrees,
      slabsReclaimed: core.slabsReclaimed,
      emptySlabs,
      quarantinedBlocks: core.parkedCount,
      quarantineReleases: core.quarantineReleases,
    };
  }

  /**
   * Closes the allocator: later `alloc()` calls throw, and its metrics stop
   * after a final update. Nothing is freed: blocks still held stay readable
   * and may still be freed, so owners can finish with them. Calling it again
   * does nothing.
   *
   * @example Closing stops allocation, not reads or frees
   * ```ts
   * import { NO_BLOCK, SlabAllocator } from "@chronetix/core";
   * import { assertEquals, assertThrows } from "@std/assert";
   *
   * const slab = new SlabAllocator({ slabs: 1, slabSize: 4096 });
   * const block = slab.alloc(64);
   * if (block === NO_BLOCK) throw new Error("Cannot allocate as the slab is full");
   * slab.close();
   * slab.close(); // idempotent
   * assertThrows(() => slab.alloc(64), Error, "the SlabAllocator is closed");
   * assertEquals(slab.sizeOf(block), 64);
   * slab.free(block);
   * assertEquals(slab.stats().blocksInUse, 0);
   * ```
   */
  close(): void {
    if (this.#core.closed) return;
    this.#core.close();
    this.#collector?.[Symbol.dispose]();
    this.#collector = undefined;
  }

  /** Same as {@linkcode SlabAllocator.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * The core of `allocator`: its state and operations, for owners that keep
 * per-block data by block index (DataPort). Not public: a friend of the
 * allocator. Call it once and keep the core; its methods are the hot path.
 *
 * @param allocator The allocator.
 * @returns Its core.
 */
export function slabCore(allocator: SlabAllocator): SlabCore {
  return coreOf(allocator);
}

function defaultClasses(slabSize: number): number[] {
  const classes: number[] = [];
  for (let size = 64; size <= slabSize; size *= 2) classes.push(size);
  return classes;
}

function checkClasses(classes: number[], slabSize: number): void {
  if (classes.length === 0) {
    throw new RangeError(
      `Cannot ${ACTION} as 'sizeClasses' must hold 1 to 120 sizes: current length is 0`,
    );
  }
  const first = requireInteger(ACTION, "sizeClasses[0]", classes[0], 8, slabSize);
  if ((first & (first - 1)) !== 0) {
    throw new RangeError(
      `Cannot ${ACTION} as 'sizeClasses[0]' must be a power of two: current value is ${first}`,
    );
  }
  for (let i = 1; i < classes.length; i++) {
    const size = requireInteger(ACTION, `sizeClasses[${i}]`, classes[i], first, slabSize);
    if (size <= classes[i - 1]! || size % first !== 0) {
      throw new RangeError(
        `Cannot ${ACTION} as 'sizeClasses' must be strictly ascending multiples of ${first}: current value is ${
          show(classes)
        }`,
      );
    }
  }
}

const ALLOCATOR_METRICS: readonly StatMetric<SlabAllocatorStats>[] = [
  {
    name: "chronetix_alloc_fragmentation_ratio",
    help: "Internal fragmentation of live blocks: 1 - requested bytes / block bytes",
    type: "gauge",
    unit: "ratio",
    value: (s) => s.fragmentationRatio,
  },
  {
    name: "chronetix_alloc_recycle_age_avg_seconds",
    help: "Average time between a block's free and its reuse (sampled)",
    type: "gauge",
    unit: "seconds",
    value: (s) => Number.isNaN(s.averageRecycleAgeMs) ? 0 : s.averageRecycleAgeMs / 1000,
  },
  {
    name: "chronetix_alloc_free_blocks",
    help: "Blocks waiting on the free lists",
    type: "gauge",
    value: (s) => s.freeBlocks,
  },
  {
    name: "chronetix_alloc_largest_free_block_bytes",
    help: "The largest block an allocation could get now",
    type: "gauge",
    unit: "bytes",
    value: (s) => s.largestFreeBlock,
  },
  {
    name: "chronetix_alloc_in_use_bytes",
    help: "Bytes of allocated blocks",
    type: "gauge",
    unit: "bytes",
    value: (s) => s.bytesInUse,
  },
  {
    name: "chronetix_alloc_capacity_bytes",
    help: "Bytes the allocator manages",
    type: "gauge",
    unit: "bytes",
    value: (s) => s.capacityBytes,
  },
  {
    name: "chronetix_alloc_allocations_total",
    help: "Blocks allocated",
    type: "counter",
    value: (s) => s.allocs,
  },
  {
    name: "chronetix_alloc_failures_total",
    help: "Allocations refused because every slab was full",
    type: "counter",
    value: (s) => s.failedAllocs,
  },
  {
    name: "chronetix_alloc_slabs_reclaimed_total",
    help: "Empty slabs taken back from one size class for another",
    type: "counter",
    value: (s) => s.slabsReclaimed,
  },
  {
    name: "chronetix_alloc_quarantined_blocks",
    help: "Blocks parked after their last handle generation, reused only when memory runs short",
    type: "gauge",
    value: (s) => s.quarantinedBlocks,
  },
  {
    name: "chronetix_alloc_quarantine_releases_total",
    help: "Parked blocks put back into use because the allocator had no other room",
    type: "counter",
    value: (s) => s.quarantineReleases,
  },
  {
    name: "chronetix_alloc_rejected_frees_total",
    help: "Frees rejected for a foreign, stale or already freed handle",
    type: "counter",
    value: (s) => s.rejectedFrees,
  },
];
