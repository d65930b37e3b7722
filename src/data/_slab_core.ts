// The slab allocator's data structure, behind the public SlabAllocator. Its
// members are public to this folder: DataPort holds the core of its allocator
// (from `slabCore()`) and calls it directly on its hot path, so a frame costs
// the same monomorphic calls as before, with no public method that exists
// only for DataPort.

import { ClosedError } from "../errors.ts";
import type { Clock } from "../time/clock.ts";

const ALLOCATED = 0x80;
const CLASS_MASK = 0x7f;
const NOT_A_BLOCK = CLASS_MASK;
const LIVE_MASK = ALLOCATED | CLASS_MASK;
/** Handles are non-negative int32s: block index bits, then generation bits. */
export const MAX_HANDLE_BITS = 30;

/**
 * What a handle names: a live block, a block freed since (`"freed"`), a
 * block allocated again since or none of this allocator's (`"stale"`), or
 * not a handle at all (`"invalid"`). Every rejection is worded from this.
 */
export type HandleState = "live" | "freed" | "stale" | "invalid";

const HANDLE_PROBLEMS: Readonly<Record<Exclude<HandleState, "live">, string>> = {
  freed: "it was already freed",
  stale: "it is stale or from another allocator",
  invalid: "it is not a block handle",
};

/** The checked shape of an allocator, from the SlabAllocator's options. */
export interface SlabGeometry {
  slabs: number;
  slabSize: number;
  /** Strictly ascending multiples of the first, a power of two. */
  classes: readonly number[];
  /** Bits of a block index: `ceil(log2(slabs * slabSize / classes[0]))`. */
  granuleBits: number;
  /** Measure one recycle age in this many frees (a power of two). */
  sampleEvery: number;
  clock: Clock;
}

/** The allocator's state: per-granule words, free lists and counters. */
export class SlabCore {
  readonly slabSize: number;
  readonly slabCount: number;
  readonly clock: Clock;
  /** The smallest class's size: blocks start at multiples of it. */
  readonly granule: number;
  readonly granuleShift: number;
  readonly granuleLog2: number;
  readonly granuleMask: number;
  /**
   * A per-allocator key mixed into every handle: another allocator's handle
   * decodes to a block that is almost never a live one here.
   */
  readonly key: number;
  readonly classSize: Int32Array;
  /** Size class index by `(size - 1) / granule`. */
  readonly classBySize: Int8Array;
  // Per granule, meaningful at block starts.
  /** Per block start: generation << 8 | allocated << 7 | size class (127: not a block start). */
  readonly word: Int32Array;
  readonly requested: Int32Array;
  readonly next: Int32Array;
  readonly freedAt: Float64Array;
  // Per class.
  readonly freeHead: Int32Array;
  /** Live blocks per class. */
  readonly live: Int32Array;
  /** Blocks carved per class (live plus free). */
  readonly carved: Int32Array;
  readonly bump: Int32Array;
  readonly bumpEnd: Int32Array;
  readonly sampleMask: number;
  /** `slabSize` while open, -1 once closed: sends `alloc()` to its slow path. */
  allocLimit: number;
  closed = false;
  slabsInUse = 0;
  requestedBytes = 0;
  frees = 0;
  failedAllocs = 0;
  rejectedFrees = 0;
  ageSum = 0;
  ageCount = 0;
  /** The block index of the block the last successful `alloc()` returned. */
  lastIndex = -1;

  constructor(geometry: SlabGeometry) {
    const { slabs, slabSize, classes, granuleBits } = geometry;
    const granule = classes[0]!;
    const granules = slabs * slabSize / granule;
    this.slabSize = slabSize;
    this.slabCount = slabs;
    this.clock = geometry.clock;
    this.sampleMask = geometry.sampleEvery - 1;
    this.allocLimit = slabSize;
    this.granule = granule;
    this.granuleShift = granuleBits;
    this.granuleMask = (1 << granuleBits) - 1;
    this.granuleLog2 = Math.log2(granule);
    this.key = Math.floor(Math.random() * 2 ** MAX_HANDLE_BITS);
    this.classSize = Int32Array.from(classes);
    this.classBySize = new Int8Array(slabSize / granule);
    for (let g = 0, c = 0; g < this.classBySize.length; g++) {
      while (classes[c]! < (g + 1) * granule) c++;
      this.classBySize[g] = c;
    }
    this.word = new Int32Array(granules).fill(NOT_A_BLOCK);
    this.requested = new Int32Array(granules);
    this.next = new Int32Array(granules);
    this.freedAt = new Float64Array(granules);
    this.freeHead = new Int32Array(classes.length).fill(-1);
    this.live = new Int32Array(classes.length);
    this.carved = new Int32Array(classes.length);
    this.bump = new Int32Array(classes.length);
    this.bumpEnd = new Int32Array(classes.length);
  }

  /** The largest class's size. */
  get maxBlockSize(): number {
    return this.classSize[this.classSize.length - 1]!;
  }

  /** Allocates a block of `size` bytes: its handle, or -1 when full. */
  alloc(size: number): number {
    if (!(size >= 1 && size <= this.allocLimit) || (size | 0) !== size) {
      return this.#badSize(size);
    }
    const c = this.classBySize[(size - 1) >>> this.granuleLog2]!;
    if (c >= this.classSize.length) return this.#badSize(size);
    let g = this.freeHead[c]!;
    if (g >= 0) {
      this.freeHead[c] = this.next[g]!;
      const freedAt = this.freedAt[g]!;
      if (freedAt >= 0) {
        this.ageSum += this.clock.now() - freedAt;
        this.ageCount++;
      }
    } else {
      g = this.#carve(c);
      if (g < 0) {
        this.failedAllocs++;
        return -1;
      }
    }
    const gen = ((this.word[g]! >>> 8) + 1) & (0x3fffffff >>> this.granuleShift);
    this.word[g] = (gen << 8) | ALLOCATED | c;
    this.lastIndex = g;
    this.requested[g] = size;
    this.live[c]!++;
    this.requestedBytes += size;
    return ((gen << this.granuleShift) | g) ^ this.key;
  }

  /** Frees the block `handle` names; a rejected handle is counted and throws. */
  free(handle: number): void {
    const g = this.liveIndex(handle);
    if (g < 0) {
      this.rejectedFrees++;
      throw this.handleError("free block", handle);
    }
    this.freeAt(g);
  }

  /** Frees the live block at a block index; throws when there is none. */
  freeAt(index: number): void {
    const g = index;
    const word = this.word[g]!;
    if ((word & ALLOCATED) === 0 || (g | 0) !== g) {
      throw new RangeError(`Cannot free block as no live block starts at index ${index}`);
    }
    const c = word & CLASS_MASK;
    this.word[g] = word & ~ALLOCATED;
    this.next[g] = this.freeHead[c]!;
    this.freeHead[c] = g;
    this.live[c]!--;
    this.requestedBytes -= this.requested[g]!;
    this.freedAt[g] = (++this.frees & this.sampleMask) === 0 ? this.clock.now() : -1;
  }

  /** The index of a live block, or -1 when `handle` is not a live block here. */
  liveIndex(handle: number): number {
    const x = handle ^ this.key;
    const g = x & this.granuleMask;
    // One load checks generation and state; an out-of-range g reads undefined.
    return (this.word[g]! | CLASS_MASK) === (((x >>> this.granuleShift) << 8) | LIVE_MASK) &&
        (handle | 0) === handle && handle >= 0
      ? g
      : -1;
  }

  /** The index of a live block; throws, worded for `action`, when `handle` is none. */
  validate(handle: number, action: string): number {
    const live = this.liveIndex(handle);
    if (live < 0) throw this.handleError(action, handle);
    return live;
  }

  /** What `handle` names. */
  handleState(handle: number): HandleState {
    if ((handle | 0) !== handle || handle < 0) return "invalid";
    const x = handle ^ this.key;
    const g = x & this.granuleMask;
    const word = this.word[g];
    if (
      word === undefined || (word & CLASS_MASK) === NOT_A_BLOCK ||
      word >>> 8 !== x >>> this.granuleShift
    ) {
      return "stale";
    }
    return (word & ALLOCATED) !== 0 ? "live" : "freed";
  }

  /** The size class of the live block at `index`. */
  sizeAt(index: number): number {
    return this.classSize[this.word[index]! & CLASS_MASK]!;
  }

  /** The error for a use of `handle`, which names no live block. */
  handleError(action: string, handle: number): RangeError {
    const state = this.handleState(handle);
    const why = state === "live" ? "it is live" : HANDLE_PROBLEMS[state];
    return new RangeError(`Cannot ${action} as ${why}: current value is ${handle}`);
  }

  /** Stops allocation; blocks stay readable and may still be freed. */
  close(): void {
    this.closed = true;
    this.allocLimit = -1;
  }

  /** Takes a block from the class's current slab, or starts a new slab; -1 when full. */
  #carve(c: number): number {
    const size = this.classSize[c]!;
    if (this.bumpEnd[c]! - this.bump[c]! < size) {
      if (this.slabsInUse === this.slabCount) return -1;
      const start = this.slabsInUse++ * this.slabSize;
      this.bump[c] = start;
      this.bumpEnd[c] = start + this.slabSize - this.slabSize % size;
    }
    const offset = this.bump[c]!;
    this.bump[c] = offset + size;
    const g = offset / this.granule;
    this.word[g] = c;
    this.carved[c]!++;
    return g;
  }

  #badSize(size: number): never {
    if (this.closed) throw new ClosedError("SlabAllocator", "allocate a block");
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
