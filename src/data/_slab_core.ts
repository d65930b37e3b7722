// The slab allocator's data structure, behind the public SlabAllocator. Its
// members are public to this folder: DataPort holds the core of its allocator
// (from `slabCore()`) and calls it directly on its hot path, so a frame costs
// the same monomorphic calls as before, with no public method that exists
// only for DataPort.
//
// Slabs serve one size class at a time. Each slab keeps its own free list
// and bump pointer; the slabs of a class that have room form the class's
// "partial" list. A slab whose blocks are all free stays with its class (a
// class that empties and refills its slab does not churn) until another
// class needs a slab and the pool is empty: then it is reclaimed.
//
// A handle is a non-negative int32 (a small integer: it never allocates):
// `(generation << granuleBits | blockIndex) ^ key`, the key random per
// allocator. `word[g]` holds the live block's handle, or `~handle` (negative)
// of its last handle when it is free, so one comparison validates a handle.
// Each allocation of a block takes its next generation. A block freed at its
// last generation is parked instead of reused: parked blocks come back (their
// generation wrapping around to 0) only when the allocator has no other room,
// oldest first. So a freed handle never names a live block again before its
// block was allocated 2^generationBits more times, nor after while memory lasts.

import { ClosedError } from "../errors.ts";
import type { Clock } from "../time/clock.ts";
import { show } from "../internal/validate.ts";

/** Handles are non-negative int32s: block index bits, then generation bits. */
export const HANDLE_BITS = 31;
/** Not in any list (slabPrev). */
const UNLISTED = -2;

/**
 * What a handle names: a live block, a block freed since (`"freed"`), a
 * block allocated again since or none of this allocator's (`"stale"`), or
 * not a handle at all (`"invalid"`). Every rejection is worded from this.
 */
export type HandleState = "live" | "freed" | "stale" | "invalid";

const HANDLE_PROBLEMS: Readonly<Record<Exclude<HandleState, "live">, string>> = {
  freed: "'handle' was already freed",
  stale: "'handle' is stale or from another allocator",
  invalid: "'handle' is not a block handle",
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
  /** Generation bits; `HANDLE_BITS - granuleBits` unless a test lowers it. */
  generationBits?: number;
  /** Mixed into every handle; random unless a test fixes it. */
  key?: number;
}

/** A wait for memory: woken once a block of size class `cls` can be allocated. */
export interface MemoryWait {
  cls: number;
  /** Called once, with `true` when the allocator closed instead. */
  wake(closed: boolean): void;
}

/** The allocator's state: per-granule, per-slab and per-class arrays, and counters. */
export class SlabCore {
  readonly slabSize: number;
  readonly slabCount: number;
  readonly clock: Clock;
  /** The smallest class's size: blocks start at multiples of it. */
  readonly granule: number;
  readonly granuleLog2: number;
  readonly granuleMask: number;
  readonly granuleBits: number;
  /** The last generation: a block freed at it is parked. */
  readonly lastGeneration: number;
  /** The bits a handle uses: generation and block index. */
  readonly handleMask: number;
  /**
   * A per-allocator key mixed into every handle: another allocator's handle
   * decodes to a block that is almost never a live one here.
   */
  readonly key: number;
  readonly granulesPerSlab: number;
  /** `log2(granulesPerSlab)` when it is a power of two (the slab of a block is a shift), else -1. */
  readonly slabShift: number;
  /** Granules in all slabs: the bound of a block index. */
  readonly granules: number;
  readonly classSize: Int32Array;
  readonly classGranules: Int32Array;
  /** Size class index by `(size - 1) >> granuleLog2`. */
  readonly classBySize: Uint8Array;
  // Per granule, meaningful at block starts.
  /** The live block's handle, or `~lastHandle` (negative) when free. */
  readonly word: Int32Array;
  readonly requested: Int32Array;
  /** The next free block of the same slab. */
  readonly next: Int32Array;
  /** When the block was freed, for a sampled free; NaN otherwise. */
  readonly freedAt: Float64Array;
  // Per slab.
  /** The size class the slab serves, -1 while in the pool. */
  readonly slabClass: Int32Array;
  readonly slabLive: Int32Array;
  readonly slabFree: Int32Array;
  /** The granule of the next block to carve, up to `slabEnd`. */
  readonly slabBump: Int32Array;
  readonly slabEnd: Int32Array;
  /** Parked blocks of the slab (counted in `slabLive` too: they pin the slab). */
  readonly slabParked: Int32Array;
  readonly slabNext: Int32Array;
  readonly slabPrev: Int32Array;
  readonly freeSlabs: Int32Array;
  // Per class.
  /**
   * The first of the class's slabs that may have room, -1 when none: a slab
   * is listed when it gets room, and unlisted lazily, when an allocation
   * finds it full.
   */
  readonly partial: Int32Array;
  readonly sampleMask: number;
  /** The largest size while open, -1 once closed: sends `alloc()` to its slow path. */
  allocLimit: number;
  closed = false;
  freeSlabCount: number;
  slabsReclaimed = 0;
  /** Parked blocks, oldest first, in a ring of `granules` entries (made on first use). */
  #parked: Int32Array | undefined;
  #parkedHead = 0;
  parkedCount = 0;
  /** Parked blocks put back into use because the allocator had no other room. */
  quarantineReleases = 0;
  requestedBytes = 0;
  frees = 0;
  failedAllocs = 0;
  rejectedFrees = 0;
  ageSum = 0;
  ageCount = 0;
  /** The block index of the block the last successful `alloc()` returned. */
  lastIndex = -1;
  /** How many waits for memory are registered: checked on every free. */
  memoryWaiters = 0;
  readonly #memoryWaits = new Set<MemoryWait>();

  constructor(geometry: SlabGeometry) {
    const { slabs, slabSize, classes, granuleBits } = geometry;
    const granule = classes[0]!;
    this.slabSize = slabSize;
    this.slabCount = slabs;
    this.clock = geometry.clock;
    this.sampleMask = geometry.sampleEvery - 1;
    this.granule = granule;
    this.granuleLog2 = Math.log2(granule);
    this.granuleBits = granuleBits;
    this.granuleMask = (1 << granuleBits) - 1;
    const generationBits = geometry.generationBits ?? HANDLE_BITS - granuleBits;
    this.lastGeneration = 2 ** generationBits - 1;
    this.handleMask = 2 ** (generationBits + granuleBits) - 1;
    this.key = (geometry.key ?? Math.floor(Math.random() * 2 ** HANDLE_BITS)) & this.handleMask;
    this.granulesPerSlab = slabSize / granule;
    const shift = Math.log2(this.granulesPerSlab);
    this.slabShift = Number.isInteger(shift) ? shift : -1;
    this.granules = slabs * this.granulesPerSlab;
    this.classSize = Int32Array.from(classes);
    this.classGranules = Int32Array.from(classes, (size) => size / granule);
    this.classBySize = new Uint8Array(this.classSize[classes.length - 1]! / granule);
    for (let g = 0, c = 0; g < this.classBySize.length; g++) {
      while (classes[c]! < (g + 1) * granule) c++;
      this.classBySize[g] = c;
    }
    this.allocLimit = this.classSize[classes.length - 1]!;
    const granules = this.granules;
    this.word = new Int32Array(granules);
    // Free, last generation 0: a block's first allocation gets generation 1.
    for (let g = 0; g < granules; g++) this.word[g] = ~(g ^ this.key);
    this.requested = new Int32Array(granules);
    this.next = new Int32Array(granules);
    this.freedAt = new Float64Array(granules);
    this.slabClass = new Int32Array(slabs).fill(-1);
    this.slabLive = new Int32Array(slabs);
    this.slabFree = new Int32Array(slabs).fill(-1);
    this.slabBump = new Int32Array(slabs);
    this.slabEnd = new Int32Array(slabs);
    this.slabParked = new Int32Array(slabs);
    this.slabNext = new Int32Array(slabs).fill(-1);
    this.slabPrev = new Int32Array(slabs).fill(UNLISTED);
    // Popped from the end: slab 0 first.
    this.freeSlabs = Int32Array.from({ length: slabs }, (_, i) => slabs - 1 - i);
    this.freeSlabCount = slabs;
    this.partial = new Int32Array(classes.length).fill(-1);
  }

  /** The largest class's size. */
  get maxBlockSize(): number {
    return this.classSize[this.classSize.length - 1]!;
  }

  /** Allocates a block of `size` bytes: its handle, or -1 when no slab has room. */
  alloc(size: number): number {
    if (
      typeof size !== "number" || !(size >= 1 && size <= this.allocLimit) || (size | 0) !== size
    ) {
      return this.#badSize(size);
    }
    const c = this.classBySize[(size - 1) >>> this.granuleLog2]!;
    const s = this.partial[c]!;
    let g = s >= 0 ? this.slabFree[s]! : -1;
    if (g >= 0) {
      this.slabFree[s] = this.next[g]!;
      this.slabLive[s]!++;
      const freedAt = this.freedAt[g]!;
      if (freedAt === freedAt) this.#sampleAge(freedAt);
    } else {
      g = this.#carve(c);
      if (g < 0) {
        this.failedAllocs++;
        return -1;
      }
    }
    // The next generation: +1 above the block index bits, wrapping to 0 past the last.
    const handle = (((~this.word[g]! ^ this.key) + this.granuleMask + 1) & this.handleMask) ^
      this.key;
    this.word[g] = handle;
    this.lastIndex = g;
    this.requested[g] = size;
    this.requestedBytes += size;
    return handle;
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
    const handle = this.word[g];
    if (!(handle! >= 0) || (g | 0) !== g) {
      throw new RangeError(`Cannot free block as no live block starts at index ${show(index)}`);
    }
    const h = handle!;
    const s = this.slabShift >= 0 ? g >>> this.slabShift : (g / this.granulesPerSlab) | 0;
    this.word[g] = ~h;
    this.requestedBytes -= this.requested[g]!;
    if ((h ^ this.key) >>> this.granuleBits !== this.lastGeneration) {
      this.next[g] = this.slabFree[s]!;
      this.slabFree[s] = g;
      this.slabLive[s]!--;
      // A slab found full was unlisted: it has room again.
      if (this.slabPrev[s] === UNLISTED) this.#list(s, this.slabClass[s]!);
    } else {
      this.#park(g, s);
    }
    this.freedAt[g] = (++this.frees & this.sampleMask) === 0 ? this.#sampleNow() : NaN;
    if (this.memoryWaiters !== 0) this.#memoryFreed(s);
  }

  /** The index of a live block, or -1 when `handle` is not a live block here. */
  liveIndex(handle: number): number {
    if (typeof handle !== "number") return -1;
    const g = (handle ^ this.key) & this.granuleMask;
    return this.word[g] === handle && handle >= 0 ? g : -1;
  }

  /** The index of a live block; throws, worded for `action`, when `handle` is none. */
  validate(handle: number, action: string): number {
    const live = this.liveIndex(handle);
    if (live < 0) throw this.handleError(action, handle);
    return live;
  }

  /** What `handle` names. */
  handleState(handle: unknown): HandleState {
    if (typeof handle !== "number" || (handle | 0) !== handle || handle < 0) return "invalid";
    const word = this.word[(handle ^ this.key) & this.granuleMask];
    return word === handle ? "live" : word === ~handle ? "freed" : "stale";
  }

  /** The slab of the block at `index`. */
  slabOf(index: number): number {
    return this.slabShift >= 0 ? index >>> this.slabShift : (index / this.granulesPerSlab) | 0;
  }

  /** The size class of the live block at `index`. */
  sizeAt(index: number): number {
    return this.classSize[this.slabClass[this.slabOf(index)]!]!;
  }

  /** The error for a use of `handle`, which names no live block. */
  handleError(action: string, handle: unknown): RangeError {
    const state = this.handleState(handle);
    const why = state === "live" ? "'handle' is live" : HANDLE_PROBLEMS[state];
    return new RangeError(`Cannot ${action} as ${why}: current value is ${show(handle)}`);
  }

  /** The size class `size` bytes fall in; `size` is in range. */
  classOf(size: number): number {
    return this.classBySize[(Math.max(1, size) - 1) >>> this.granuleLog2]!;
  }

  /** Registers a wait, woken (once) when a block of its class can be allocated. */
  addMemoryWait(wait: MemoryWait): void {
    if (this.closed) return wait.wake(true);
    this.#memoryWaits.add(wait);
    this.memoryWaiters = this.#memoryWaits.size;
  }

  /** Unregisters a wait. */
  deleteMemoryWait(wait: MemoryWait): void {
    this.#memoryWaits.delete(wait);
    this.memoryWaiters = this.#memoryWaits.size;
  }

  /** Stops allocation; blocks stay readable and may still be freed. */
  close(): void {
    this.closed = true;
    this.allocLimit = -1;
    const waits = [...this.#memoryWaits];
    this.#memoryWaits.clear();
    this.memoryWaiters = 0;
    for (const wait of waits) wait.wake(true);
  }

  /** Takes a block from the class's first slab with room, or from a new slab; -1 when full. */
  #carve(c: number): number {
    const size = this.classGranules[c]!;
    for (;;) {
      let s = this.partial[c]!;
      if (s < 0) s = this.#takeSlab(c);
      if (s < 0) {
        // No room but parked blocks: the oldest comes back into use.
        if (this.parkedCount === 0) return -1;
        this.#unparkOldest();
        continue;
      }
      const g = this.slabFree[s]!;
      if (g >= 0) {
        this.slabFree[s] = this.next[g]!;
        this.slabLive[s]!++;
        return g;
      }
      const bump = this.slabBump[s]!;
      if (bump >= this.slabEnd[s]!) {
        this.#unlist(s, c); // full: found out now
        continue;
      }
      this.slabBump[s] = bump + size;
      this.slabLive[s]!++;
      return bump;
    }
  }

  /** Gives class `c` a slab from the pool, or reclaims an empty one; -1 when none. */
  #takeSlab(c: number): number {
    let s: number;
    if (this.freeSlabCount > 0) {
      s = this.freeSlabs[--this.freeSlabCount]!;
    } else {
      s = this.#emptySlabOf(c);
      if (s < 0) return -1;
      this.#unlist(s, this.slabClass[s]!);
      this.slabsReclaimed++;
    }
    const start = s * this.granulesPerSlab;
    const size = this.classGranules[c]!;
    this.slabClass[s] = c;
    this.slabFree[s] = -1;
    this.slabBump[s] = start;
    this.slabEnd[s] = start + Math.floor(this.granulesPerSlab / size) * size;
    this.#list(s, c);
    return s;
  }

  /** An empty slab of another class than `c`, or -1. */
  #emptySlabOf(c: number): number {
    for (let s = 0; s < this.slabCount; s++) {
      const owner = this.slabClass[s]!;
      if (owner >= 0 && owner !== c && this.slabLive[s] === 0) return s;
    }
    return -1;
  }

  /** Parks a block freed at its last generation; it stays counted in `slabLive`, pinning its slab. */
  #park(g: number, s: number): void {
    this.#parked ??= new Int32Array(this.granules);
    let tail = this.#parkedHead + this.parkedCount++;
    if (tail >= this.granules) tail -= this.granules;
    this.#parked[tail] = g;
    this.slabParked[s]!++;
  }

  /** Puts the oldest parked block back on its slab's free list (its generation wraps to 0). */
  #unparkOldest(): void {
    const g = this.#parked![this.#parkedHead]!;
    this.#parkedHead = this.#parkedHead + 1 === this.granules ? 0 : this.#parkedHead + 1;
    this.parkedCount--;
    this.quarantineReleases++;
    const s = this.slabOf(g);
    this.slabParked[s]!--;
    this.slabLive[s]!--;
    this.next[g] = this.slabFree[s]!;
    this.slabFree[s] = g;
    if (this.slabPrev[s] === UNLISTED) this.#list(s, this.slabClass[s]!);
  }

  #list(s: number, c: number): void {
    const head = this.partial[c]!;
    this.slabNext[s] = head;
    this.slabPrev[s] = -1;
    if (head >= 0) this.slabPrev[head] = s;
    this.partial[c] = s;
  }

  #unlist(s: number, c: number): void {
    const prev = this.slabPrev[s]!;
    if (prev === UNLISTED) return;
    const next = this.slabNext[s]!;
    if (prev >= 0) this.slabNext[prev] = next;
    else this.partial[c] = next;
    if (next >= 0) this.slabPrev[next] = prev;
    this.slabPrev[s] = UNLISTED;
  }

  /** Whether class `c` can allocate without scanning the slabs for an empty one. */
  #canAllocCheaply(c: number): boolean {
    return this.partial[c]! >= 0 || this.freeSlabCount > 0 || this.parkedCount > 0;
  }

  /** Wakes the waits for memory that a free in slab `s` lets allocate now. */
  #memoryFreed(s: number): void {
    const emptied = this.slabLive[s] === 0;
    const cls = this.slabClass[s];
    for (const wait of this.#memoryWaits) {
      if (!emptied && wait.cls !== cls && !this.#canAllocCheaply(wait.cls)) continue;
      this.#memoryWaits.delete(wait);
      this.memoryWaiters = this.#memoryWaits.size;
      wait.wake(false);
    }
  }

  #sampleAge(freedAt: number): void {
    const now = this.#sampleNow();
    if (now !== now) return;
    this.ageSum += now - freedAt;
    this.ageCount++;
  }

  /** The clock's time, or NaN when the clock fails: a sample is never worth a failed call. */
  #sampleNow(): number {
    try {
      const now = this.clock.now();
      return typeof now === "number" && Number.isFinite(now) ? now : NaN;
    } catch {
      return NaN;
    }
  }

  #badSize(size: unknown): never {
    if (this.closed) throw new ClosedError("SlabAllocator", "allocate a block");
    if (typeof size !== "number") {
      throw new TypeError(
        `Cannot allocate a block as 'size' must be a number: current value is ${show(size)}`,
      );
    }
    const max = this.maxBlockSize;
    if (size > max) {
      throw new RangeError(
        `Cannot allocate a block as 'size' must be at most the largest size class (${max} bytes): current value is ${size}`,
      );
    }
    throw new RangeError(
      `Cannot allocate a block as 'size' must be an integer in [1, ${max}]: current value is ${size}`,
    );
  }
}
