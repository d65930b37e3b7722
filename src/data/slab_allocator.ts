import { type Clock, MONOTONIC_CLOCK } from "../time/clock.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import { requireInteger, requireNonEmptyString } from "../internal/validate.ts";
import { exportStats, type StatMetric } from "../metrics/stats_export.ts";

/**
 * A block allocated by a {@linkcode SlabAllocator}: a small integer that
 * encodes the block and its generation, so a stale or foreign handle is
 * recognised instead of freeing someone else's block.
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
  /** Slabs carved for some size class. */
  slabsInUse: number;
  /** Blocks currently allocated. */
  blocksInUse: number;
  /** Bytes of the allocated blocks (their class sizes). */
  bytesInUse: number;
  /** Bytes requested for the allocated blocks. */
  requestedBytes: number;
  /** Internal fragmentation of live blocks: `1 - requestedBytes / bytesInUse` (0 when empty). */
  fragRatio: number;
  /** Blocks waiting on the free lists. */
  freeBlocks: number;
  /** The largest block an `alloc()` could get now, in bytes (0 when full). */
  largestFreeBlock: number;
  /** Average time between a block's free and its reuse, in milliseconds (sampled; `NaN` before the first reuse). */
  recycleAgeAvgMs: number;
  /** Successful allocations. */
  allocs: number;
  /** Frees. */
  frees: number;
  /** `alloc()` calls that returned {@linkcode NO_BLOCK} because the slabs were full. */
  failedAllocs: number;
  /** `free()` calls rejected for a foreign, stale or already freed handle. */
  rejectedFrees: number;
}

const ALLOCATED = 0x80;
const CLASS_MASK = 0x7f;
const NOT_A_BLOCK = CLASS_MASK;
const LIVE_MASK = ALLOCATED | CLASS_MASK;
const MAX_HANDLE_BITS = 30;
const MIN_GENERATION_BITS = 8;
const ACTION = "create a SlabAllocator";

/**
 * A slab allocator over one `ArrayBuffer` (or `SharedArrayBuffer`): the
 * buffer is cut into slabs, each slab serves one size class, blocks are
 * bump-allocated from a class's current slab and recycled through a
 * per-class free list. Allocation and free are O(1) and allocate nothing.
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
 * const slab = new SlabAllocator({ slabs: 2, slabSize: 4096 });
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
  /** The bytes of every slab; blocks live at {@linkcode SlabAllocator.offsetOf}. */
  readonly bytes: Uint8Array;
  /** The underlying buffer (shareable with Workers when `shared` was set). */
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /** Block sizes, ascending. */
  readonly sizeClasses: readonly number[];
  /** Bytes per slab. */
  readonly slabSize: number;

  readonly #clock: Clock;
  readonly #granule: number;
  readonly #granuleShift: number;
  readonly #granuleLog2: number;
  readonly #granuleMask: number;
  readonly #key: number;
  readonly #classSize: Int32Array;
  /** Size class index by `(size - 1) / granule`. */
  readonly #classBySize: Int8Array;
  // Per granule (the smallest class's size), meaningful at block starts.
  /** Per block start: generation << 8 | allocated << 7 | size class (127: not a block start). */
  readonly #word: Int32Array;
  readonly #requested: Int32Array;
  readonly #next: Int32Array;
  readonly #freedAt: Float64Array;
  // Per class.
  readonly #freeHead: Int32Array;
  /** Live blocks per class. */
  readonly #live: Int32Array;
  /** Blocks carved per class (live plus free). */
  readonly #carved: Int32Array;
  readonly #bump: Int32Array;
  readonly #bumpEnd: Int32Array;
  readonly #slabCount: number;
  #slabsInUse = 0;
  #requestedBytes = 0;
  #frees = 0;
  #failedAllocs = 0;
  #rejectedFrees = 0;
  readonly #sampleMask: number;
  #ageSum = 0;
  #ageCount = 0;
  #collector: Disposable | undefined;
  #lastIndex = -1;

  /**
   * Creates the allocator and its buffer.
   *
   * @param options Slab count and size, size classes, sharing, metrics.
   * @throws {RangeError} when a count or size is out of range, or the size
   *   classes are not ascending multiples of the smallest.
   */
  constructor(options: SlabAllocatorOptions = {}) {
    const slabs = requireInteger(ACTION, "slabs", options.slabs ?? 4, 1, 4096);
    const slabSize = requireInteger(ACTION, "slabSize", options.slabSize ?? 1 << 20, 64, 1 << 30);
    const classes = options.sizeClasses === undefined
      ? defaultClasses(slabSize)
      : [...options.sizeClasses];
    checkClasses(classes, slabSize);
    const granule = classes[0]!;
    if (slabSize % granule !== 0) {
      throw new RangeError(
        `Cannot ${ACTION} as 'slabSize' must be a multiple of the smallest size class (${granule}): current value is ${slabSize}`,
      );
    }
    const granules = slabs * slabSize / granule;
    const granuleBits = Math.max(1, Math.ceil(Math.log2(granules)));
    if (MAX_HANDLE_BITS - granuleBits < MIN_GENERATION_BITS) {
      throw new RangeError(
        `Cannot ${ACTION} as it would hold ${granules} blocks of ${granule} bytes: at most ${
          2 ** (MAX_HANDLE_BITS - MIN_GENERATION_BITS)
        } are supported, use a larger smallest size class`,
      );
    }
    const sample = requireInteger(
      ACTION,
      "recycleAgeSampleEvery",
      options.recycleAgeSampleEvery ?? 256,
      1,
      1 << 20,
    );
    if ((sample & (sample - 1)) !== 0) {
      throw new RangeError(
        `Cannot ${ACTION} as 'recycleAgeSampleEvery' must be a power of two: current value is ${sample}`,
      );
    }
    this.#sampleMask = sample - 1;
    this.#clock = options.clock ?? MONOTONIC_CLOCK;
    this.slabSize = slabSize;
    this.#slabCount = slabs;
    this.sizeClasses = Object.freeze(classes);
    this.buffer = options.shared === true
      ? new SharedArrayBuffer(slabs * slabSize)
      : new ArrayBuffer(slabs * slabSize);
    this.bytes = new Uint8Array(this.buffer);
    this.#granule = granule;
    this.#granuleShift = granuleBits;
    this.#granuleMask = (1 << granuleBits) - 1;
    // A per-allocator key mixed into every handle: another allocator's
    // handle decodes to a block that is almost never a live one here.
    this.#key = Math.floor(Math.random() * 2 ** MAX_HANDLE_BITS);
    this.#classSize = Int32Array.from(classes);
    this.#granuleLog2 = Math.log2(granule);
    this.#classBySize = new Int8Array(slabSize / granule);
    for (let g = 0, c = 0; g < this.#classBySize.length; g++) {
      while (classes[c]! < (g + 1) * granule) c++;
      this.#classBySize[g] = c;
    }
    this.#word = new Int32Array(granules).fill(NOT_A_BLOCK);
    this.#requested = new Int32Array(granules);
    this.#next = new Int32Array(granules);
    this.#freedAt = new Float64Array(granules);
    this.#freeHead = new Int32Array(classes.length).fill(-1);
    this.#live = new Int32Array(classes.length);
    this.#carved = new Int32Array(classes.length);
    this.#bump = new Int32Array(classes.length);
    this.#bumpEnd = new Int32Array(classes.length);
    if (options.metrics !== undefined) {
      const name = requireNonEmptyString(ACTION, "name", options.name ?? "default");
      this.#collector = exportStats(
        options.metrics,
        ["allocator", name],
        () => this.stats(),
        ALLOCATOR_METRICS,
      );
    }
  }

  /** Stops exporting metrics, after a final update; the allocator stays usable. */
  [Symbol.dispose](): void {
    this.#collector?.[Symbol.dispose]();
    this.#collector = undefined;
  }

  /** The largest block `alloc()` can serve, in bytes. */
  get maxBlockSize(): number {
    return this.#classSize[this.#classSize.length - 1]!;
  }

  /**
   * Allocates a block of at least `size` bytes.
   *
   * @param size Bytes needed, an integer from 1 to {@linkcode SlabAllocator.maxBlockSize}.
   * @returns A handle, or {@linkcode NO_BLOCK} when no slab has room.
   * @throws {RangeError} when `size` is not an integer in range.
   */
  alloc(size: number): BlockHandle | typeof NO_BLOCK {
    if (!(size >= 1 && size <= this.slabSize) || (size | 0) !== size) {
      return this.#badSize(size);
    }
    const c = this.#classBySize[(size - 1) >>> this.#granuleLog2]!;
    if (c >= this.#classSize.length) return this.#badSize(size);
    let g = this.#freeHead[c]!;
    if (g >= 0) {
      this.#freeHead[c] = this.#next[g]!;
      const freedAt = this.#freedAt[g]!;
      if (freedAt >= 0) {
        this.#ageSum += this.#clock.now() - freedAt;
        this.#ageCount++;
      }
    } else {
      g = this.#carve(c);
      if (g < 0) {
        this.#failedAllocs++;
        return NO_BLOCK;
      }
    }
    const gen = ((this.#word[g]! >>> 8) + 1) & (0x3fffffff >>> this.#granuleShift);
    this.#word[g] = (gen << 8) | ALLOCATED | c;
    this.#lastIndex = g;
    this.#requested[g] = size;
    this.#live[c]!++;
    this.#requestedBytes += size;
    return (((gen << this.#granuleShift) | g) ^ this.#key) as BlockHandle;
  }

  /**
   * Frees a block, making it available to the next `alloc()` of its class.
   *
   * @param handle A handle from this allocator's `alloc()`.
   * @throws {RangeError} when the handle is foreign, stale or already freed;
   *   the allocator is left unchanged.
   */
  free(handle: BlockHandle): void {
    const g = this.liveIndex(handle);
    if (g < 0) this.#reject(handle, "free block");
    this.freeBlockAt(g);
  }

  /**
   * Frees the live block at a block index: for owners that already hold the
   * index from {@linkcode SlabAllocator.liveIndex} and want to skip a second
   * handle check.
   *
   * @param index A live block's index.
   * @throws {RangeError} when no live block starts at `index`; the allocator
   *   is left unchanged.
   */
  freeBlockAt(index: number): void {
    const g = index;
    const word = this.#word[g]!;
    if ((word & ALLOCATED) === 0 || (g | 0) !== g) {
      throw new RangeError(`Cannot free block as no live block starts at index ${index}`);
    }
    const c = word & CLASS_MASK;
    this.#word[g] = word & ~ALLOCATED;
    this.#next[g] = this.#freeHead[c]!;
    this.#freeHead[c] = g;
    this.#live[c]!--;
    this.#requestedBytes -= this.#requested[g]!;
    this.#freedAt[g] = (++this.#frees & this.#sampleMask) === 0 ? this.#clock.now() : -1;
  }

  /**
   * Whether `handle` is a live block of this allocator.
   *
   * @param handle Any value.
   * @returns `true` for a block allocated here and not freed since.
   */
  owns(handle: number): boolean {
    return this.liveIndex(handle) >= 0;
  }

  /**
   * The byte offset of a live block in {@linkcode SlabAllocator.bytes}.
   *
   * @param handle A live block's handle.
   * @returns The offset of its first byte.
   * @throws {RangeError} when the handle is not a live block of this allocator.
   */
  offsetOf(handle: BlockHandle): number {
    return this.#validate(handle, "read block") * this.#granule;
  }

  /**
   * The usable size of a live block: its size class, at least the size asked for.
   *
   * @param handle A live block's handle.
   * @returns Bytes.
   * @throws {RangeError} when the handle is not a live block of this allocator.
   */
  sizeOf(handle: BlockHandle): number {
    return this.#classSize[this.#word[this.#validate(handle, "read block")]! & CLASS_MASK]!;
  }

  /**
   * The index of a live block, unique among live blocks and below
   * {@linkcode SlabAllocator.blockIndexLimit}: lets owners keep per-block data
   * in their own typed arrays. The block starts at byte
   * `blockIndex(handle) * sizeClasses[0]`.
   *
   * @param handle A live block's handle.
   * @returns The block's index.
   * @throws {RangeError} when the handle is not a live block of this allocator.
   */
  blockIndex(handle: BlockHandle): number {
    return this.#validate(handle, "read block");
  }

  /**
   * The index of a live block, or -1: the non-throwing
   * {@linkcode SlabAllocator.blockIndex} for owners that report their own errors.
   *
   * @param handle Any value.
   * @returns The block's index, or -1 when `handle` is not a live block here.
   */
  liveIndex(handle: number): number {
    const x = handle ^ this.#key;
    const g = x & this.#granuleMask;
    // One load checks generation and state; an out-of-range g reads undefined.
    return (this.#word[g]! | CLASS_MASK) === (((x >>> this.#granuleShift) << 8) | LIVE_MASK) &&
        (handle | 0) === handle && handle >= 0
      ? g
      : -1;
  }

  /**
   * Why a handle is not a live block, in words, for error messages.
   *
   * @param handle Any value.
   * @returns `"live"`, `"freed"` (already freed), or `"invalid"` (stale,
   *   foreign or not a handle).
   */
  handleState(handle: number): "live" | "freed" | "invalid" {
    const g = this.#decode(handle);
    return g < 0 ? "invalid" : (this.#word[g]! & ALLOCATED) !== 0 ? "live" : "freed";
  }

  /**
   * The {@linkcode SlabAllocator.blockIndex} of the block the last successful
   * `alloc()` returned: saves owners a second look-up right after allocating.
   */
  get lastIndex(): number {
    return this.#lastIndex;
  }

  /** One more than the largest {@linkcode SlabAllocator.blockIndex}. */
  get blockIndexLimit(): number {
    return this.#word.length;
  }

  /**
   * A view of a live block's bytes (allocates the view object).
   *
   * @param handle A live block's handle.
   * @param length Bytes to view, at most the block's size.
   * @returns A `Uint8Array` over the block, no copy.
   * @throws {RangeError} when the handle is not a live block of this allocator.
   */
  view(handle: BlockHandle, length?: number): Uint8Array {
    const g = this.#validate(handle, "view block");
    const size = this.#classSize[this.#word[g]! & CLASS_MASK]!;
    const offset = g * this.#granule;
    return this.bytes.subarray(offset, offset + Math.min(length ?? size, size));
  }

  /**
   * Takes a snapshot of the allocator's state; walks the slabs, so call it on
   * a reporting cadence, not per block.
   *
   * @returns The current figures.
   */
  stats(): SlabAllocatorStats {
    let freeBlocks = 0;
    let blocksInUse = 0;
    let bytesInUse = 0;
    let largest = this.#slabsInUse < this.#slabCount ? this.slabSize : 0;
    for (let c = 0; c < this.#classSize.length; c++) {
      const size = this.#classSize[c]!;
      const live = this.#live[c]!;
      const free = this.#carved[c]! - live;
      freeBlocks += free;
      blocksInUse += live;
      bytesInUse += live * size;
      if (free > 0 || this.#bumpEnd[c]! - this.#bump[c]! >= size) {
        largest = Math.max(largest, size);
      }
    }
    return {
      capacityBytes: this.bytes.byteLength,
      slabsInUse: this.#slabsInUse,
      blocksInUse,
      bytesInUse,
      requestedBytes: this.#requestedBytes,
      fragRatio: bytesInUse === 0 ? 0 : 1 - this.#requestedBytes / bytesInUse,
      freeBlocks,
      largestFreeBlock: largest,
      recycleAgeAvgMs: this.#ageCount === 0 ? NaN : this.#ageSum / this.#ageCount,
      allocs: this.#frees + blocksInUse,
      frees: this.#frees,
      failedAllocs: this.#failedAllocs,
      rejectedFrees: this.#rejectedFrees,
    };
  }

  /** Takes a block from the class's current slab, or starts a new slab; -1 when full. */
  #carve(c: number): number {
    const size = this.#classSize[c]!;
    if (this.#bumpEnd[c]! - this.#bump[c]! < size) {
      if (this.#slabsInUse === this.#slabCount) return -1;
      const start = this.#slabsInUse++ * this.slabSize;
      this.#bump[c] = start;
      this.#bumpEnd[c] = start + this.slabSize - this.slabSize % size;
    }
    const offset = this.#bump[c]!;
    this.#bump[c] = offset + size;
    const g = offset / this.#granule;
    this.#word[g] = c;
    this.#carved[c]!++;
    return g;
  }

  /** The block index a handle names, or -1 when it names no block start. */
  #decode(handle: number): number {
    if ((handle | 0) !== handle || handle < 0) return -1;
    const x = handle ^ this.#key;
    const g = x & this.#granuleMask;
    if (
      g >= this.#word.length || (this.#word[g]! & CLASS_MASK) === NOT_A_BLOCK ||
      this.#word[g]! >>> 8 !== x >>> this.#granuleShift
    ) {
      return -1;
    }
    return g;
  }

  #validate(handle: BlockHandle, action: string): number {
    const live = this.liveIndex(handle);
    return live >= 0 ? live : this.#reject(handle, action);
  }

  #reject(handle: number, action: string): never {
    const g = this.#decode(handle);
    this.#rejectedFrees += action === "free block" ? 1 : 0;
    const why = g >= 0
      ? "it was already freed"
      : (handle | 0) === handle && handle >= 0
      ? "it is stale or from another allocator"
      : "it is not a block handle";
    throw new RangeError(`Cannot ${action} as ${why}: current value is ${handle}`);
  }

  #badSize(size: number): never {
    if (typeof size !== "number") {
      throw new TypeError(
        `Cannot allocate a block as 'size' must be a number: current value is ${String(size)}`,
      );
    }
    const max = this.maxBlockSize;
    if (size > max) {
      throw new RangeError(
        `Cannot allocate ${size} bytes as the largest size class is ${max} bytes`,
      );
    }
    throw new RangeError(
      `Cannot allocate a block as 'size' must be an integer in [1, ${max}]: current value is ${size}`,
    );
  }
}

function defaultClasses(slabSize: number): number[] {
  const classes: number[] = [];
  for (let size = 64; size <= slabSize; size *= 2) classes.push(size);
  return classes;
}

function checkClasses(classes: number[], slabSize: number): void {
  if (classes.length === 0 || classes.length > 120) {
    throw new RangeError(
      `Cannot ${ACTION} as 'sizeClasses' must hold 1 to 120 sizes: current length is ${classes.length}`,
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
        `Cannot ${ACTION} as 'sizeClasses' must be strictly ascending multiples of ${first}: current value is [${classes}]`,
      );
    }
  }
}

const ALLOCATOR_METRICS: readonly StatMetric<SlabAllocatorStats>[] = [
  {
    name: "chronetix_alloc_frag_ratio",
    help: "Internal fragmentation of live blocks: 1 - requested bytes / block bytes",
    type: "gauge",
    unit: "ratio",
    value: (s) => s.fragRatio,
  },
  {
    name: "chronetix_alloc_recycle_age_avg_seconds",
    help: "Average time between a block's free and its reuse (sampled)",
    type: "gauge",
    unit: "seconds",
    value: (s) => Number.isNaN(s.recycleAgeAvgMs) ? 0 : s.recycleAgeAvgMs / 1000,
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
    name: "chronetix_alloc_rejected_frees_total",
    help: "Frees rejected for a foreign, stale or already freed handle",
    type: "counter",
    value: (s) => s.rejectedFrees,
  },
];
