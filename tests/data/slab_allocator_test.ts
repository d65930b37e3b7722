import { assert, assertEquals, assertThrows } from "@std/assert";
import { ClosedError } from "../../src/errors.ts";
import {
  type BlockHandle,
  NO_BLOCK,
  SlabAllocator,
  slabCore,
} from "../../src/data/slab_allocator.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { mulberry32, testSeeds } from "../_util/prng.ts";
import { SlabCore } from "../../src/data/_slab_core.ts";

interface LiveBlock {
  handle: BlockHandle;
  offset: number;
  size: number;
  requested: number;
  fill: number;
}

function allocOrFail(slab: SlabAllocator, size: number): BlockHandle {
  const handle = slab.alloc(size);
  if (handle === NO_BLOCK) throw new Error(`Cannot allocate ${size} bytes in the test`);
  return handle;
}

Deno.test("SlabAllocator matches a reference model over a seeded random alloc/free sequence", () => {
  for (const seed of testSeeds([1, 42, 20261121])) {
    const random = mulberry32(seed);
    const slab = new SlabAllocator({
      slabs: 6,
      slabSize: 16384,
      sizeClasses: [64, 128, 192, 512, 4096],
    });
    const other = new SlabAllocator({ slabs: 1, slabSize: 4096 });
    const foreign = allocOrFail(other, 64);
    const unit = 64;
    // Which live block owns each 64-byte granule: catches overlapping blocks.
    const owner = new Int32Array(slab.bytes.length / unit).fill(-1);
    const live: LiveBlock[] = [];
    const dead: BlockHandle[] = [];
    let id = 0;
    const message = (step: number) =>
      `seed ${seed} (replay with CHRONETIX_SEED=${seed}), step ${step}`;
    for (let step = 0; step < 20_000; step++) {
      const roll = random();
      if (roll < 0.55) {
        const requested = 1 + Math.floor(random() ** 3 * 4096);
        const handle = slab.alloc(requested);
        if (handle === NO_BLOCK) {
          assertEquals(slab.stats().slabsInUse, 6, message(step));
          continue;
        }
        const size = slab.sizeOf(handle);
        const expected = [64, 128, 192, 512, 4096].find((c) => c >= requested);
        assertEquals(size, expected, message(step));
        const offset = slab.offsetOf(handle);
        assertEquals(offset % unit, 0);
        assertEquals(
          Math.floor(offset / 16384),
          Math.floor((offset + size - 1) / 16384),
          "crosses a slab",
        );
        for (let g = offset / unit; g < (offset + size) / unit; g++) {
          assertEquals(owner[g], -1, `${message(step)}: block overlaps a live one`);
          owner[g] = id;
        }
        const fill = id++ & 255;
        slab.bytes.fill(fill, offset, offset + size);
        live.push({ handle, offset, size, requested, fill });
      } else if (roll < 0.95 && live.length > 0) {
        const i = Math.floor(random() * live.length);
        const block = live[i]!;
        live[i] = live[live.length - 1]!;
        live.pop();
        // Its bytes were not touched by any other block.
        assert(
          slab.bytes.subarray(block.offset, block.offset + block.size).every((b) =>
            b === block.fill
          ),
          message(step),
        );
        for (let g = block.offset / unit; g < (block.offset + block.size) / unit; g++) {
          owner[g] = -1;
        }
        slab.free(block.handle);
        dead.push(block.handle);
      } else {
        // A bad free: stale, double, foreign or not a handle. It throws and changes nothing.
        const before = slab.stats();
        const bad = [
          dead[Math.floor(random() * dead.length)] ?? foreign,
          foreign,
          -3,
          1.5,
        ][Math.floor(random() * 4)]!;
        if (!slab.owns(bad)) {
          assertThrows(() => slab.free(bad as BlockHandle), RangeError, "Cannot free block");
          const after = slab.stats();
          assertEquals(after.blocksInUse, before.blocksInUse, message(step));
          assertEquals(after.freeBlocks, before.freeBlocks, message(step));
          assertEquals(after.rejectedFrees, before.rejectedFrees + 1, message(step));
        }
      }
      if (step % 500 === 0) {
        const stats = slab.stats();
        assertEquals(stats.blocksInUse, live.length, message(step));
        assertEquals(stats.bytesInUse, live.reduce((n, b) => n + b.size, 0), message(step));
        assertEquals(
          stats.requestedBytes,
          live.reduce((n, b) => n + b.requested, 0),
          message(step),
        );
      }
    }
    const stats = slab.stats();
    assertEquals(stats.allocs - stats.frees, live.length);
    const expectedFrag = stats.bytesInUse === 0 ? 0 : 1 - stats.requestedBytes / stats.bytesInUse;
    assertEquals(stats.fragmentationRatio, expectedFrag);
    for (const block of live) slab.free(block.handle);
    assertEquals(slab.stats().bytesInUse, 0);
    assertEquals(slab.stats().fragmentationRatio, 0);
  }
});

Deno.test("SlabAllocator.free() tells a double free from a stale or foreign handle", () => {
  const slab = new SlabAllocator({ slabs: 1, slabSize: 4096 });
  const a = allocOrFail(slab, 10);
  slab.free(a);
  assertThrows(() => slab.free(a), RangeError, "Cannot free block as 'handle' was already freed");
  const b = allocOrFail(slab, 10); // reuses the block: `a` is now stale
  assertEquals(slab.offsetOf(b), 0);
  assertThrows(() => slab.free(a), RangeError, "stale or from another allocator");
  const other = new SlabAllocator({ slabs: 1, slabSize: 4096 });
  const foreign = allocOrFail(other, 10);
  if (!slab.owns(foreign)) {
    assertThrows(() => slab.free(foreign), RangeError, "stale or from another allocator");
  }
  assertThrows(() => slab.free(-1 as BlockHandle), RangeError, "'handle' is not a block handle");
  assertThrows(() => slab.offsetOf(a), RangeError, "Cannot read block as 'handle' is stale");
  assertThrows(
    () => slab.view(-1 as BlockHandle),
    RangeError,
    "Cannot view block as 'handle' is not",
  );
  assertEquals(
    slab.stats().rejectedFrees,
    slab.owns(foreign) ? 3 : 4,
    "rejected frees are counted, rejected reads are not",
  );
  assertEquals(slab.stats().blocksInUse, 1);
  slab.free(b);
});

Deno.test("slabCore() gives owners block indexes and states without a public method", () => {
  const slab = new SlabAllocator({ slabs: 1, slabSize: 4096 });
  const core = slabCore(slab);
  assertEquals(slabCore(slab), core, "one core per allocator");
  assertEquals(core.granules, 4096 / 64, "one entry per possible block index");
  const a = allocOrFail(slab, 100); // a 128-byte block
  assertEquals(core.lastIndex, slab.blockIndex(a));
  assertEquals(core.liveIndex(a), slab.offsetOf(a) / 64);
  assertEquals(core.handleState(a), "live");
  assertEquals(core.handleState(-1), "invalid");
  assertEquals(core.handleState(1.5), "invalid");
  assertThrows(() => core.freeAt(17), RangeError, "no live block starts at index 17");
  assertThrows(() => core.freeAt(1.5), RangeError, "no live block starts at index 1.5");
  core.freeAt(core.liveIndex(a));
  assertEquals(core.liveIndex(a), -1);
  assertEquals(core.handleState(a), "freed");
  const b = allocOrFail(slab, 100); // reuses the block: `a` is stale now
  assertEquals(core.handleState(a), "stale");
  assertEquals(slab.stats().blocksInUse, 1);
  assertEquals(slab.stats().rejectedFrees, 0);
  slab.free(b);
  for (const name of ["liveIndex", "freeBlockAt", "handleState", "lastIndex", "blockIndexLimit"]) {
    assert(!(name in slab), `${name} is not public`);
  }
});

Deno.test("SlabAllocator.close() stops allocation and metrics, keeps reads and frees", () => {
  const metrics = new MetricsRegistry();
  const slab = new SlabAllocator({ slabs: 1, slabSize: 4096, metrics, name: "frames" });
  const a = allocOrFail(slab, 64);
  slab.bytes[slab.offsetOf(a)] = 7;
  assertEquals(slab.closed, false);
  slab.close();
  assertEquals(slab.closed, true);
  const error = assertThrows(
    () => slab.alloc(64),
    ClosedError,
    "Cannot allocate a block as the SlabAllocator is closed",
  );
  assertEquals(error.code, "E_CLOSED");
  assertThrows(() => slab.alloc(0), ClosedError, "closed", "checked before the size");
  assertEquals(slab.bytes[slab.offsetOf(a)], 7);
  assertEquals(slab.sizeOf(a), 64);
  const final = metrics.exposeText();
  assert(final.includes('chronetix_alloc_in_use_bytes{allocator="frames"} 64'), final);
  slab.free(a);
  assertEquals(slab.stats().blocksInUse, 0);
  assertEquals(metrics.exposeText(), final, "no collect after close");
  slab.close();
  slab[Symbol.dispose]();
  assertEquals(slab.closed, true, "close is idempotent");
});

Deno.test("SlabAllocator.alloc() rejects bad sizes with clear errors and returns NO_BLOCK when full", () => {
  const slab = new SlabAllocator({ slabs: 2, slabSize: 1024, sizeClasses: [64, 256, 1024] });
  assertThrows(
    () => slab.alloc(1025),
    RangeError,
    "Cannot allocate a block as 'size' must be at most the largest size class (1024 bytes): current value is 1025",
  );
  assertThrows(
    () => slab.alloc(0),
    RangeError,
    "'size' must be an integer in [1, 1024]: current value is 0",
  );
  assertThrows(() => slab.alloc(2.5), RangeError, "current value is 2.5");
  assertThrows(() => slab.alloc(NaN), RangeError, "current value is NaN");
  assertThrows(() => slab.alloc("8" as unknown as number), TypeError, "'size' must be a number");
  const a = allocOrFail(slab, 1024);
  const b = allocOrFail(slab, 1000);
  assertEquals(slab.alloc(1), NO_BLOCK); // both slabs went to the 1 KiB class
  assertEquals(slab.stats().failedAllocs, 1);
  assertEquals(slab.stats().largestFreeBlock, 0);
  slab.free(b);
  assertEquals(slab.stats().largestFreeBlock, 1024);
  assertEquals(slab.stats().freeBlocks, 1);
  const c = allocOrFail(slab, 1); // b's slab was empty: reclaimed for the 64-byte class
  assertEquals(slab.stats().slabsReclaimed, 1);
  assertEquals(slab.sizeOf(c), 64);
  assertEquals(slab.stats().largestFreeBlock, 64, "a's slab is full, c's serves 64 bytes");
  slab.free(a);
  slab.free(c);
});

Deno.test("SlabAllocator() rejects bad options", async (t) => {
  const cases: [string, () => unknown, ErrorConstructor, string][] = [
    [
      "slabs 0",
      () => new SlabAllocator({ slabs: 0 }),
      RangeError,
      "'slabs' must be an integer in [1, 4096]",
    ],
    [
      "slabSize not a multiple",
      () => new SlabAllocator({ slabSize: 1000, sizeClasses: [64] }),
      RangeError,
      "multiple of the smallest size class",
    ],
    [
      "classes not ascending",
      () => new SlabAllocator({ sizeClasses: [64, 64] }),
      RangeError,
      "strictly ascending",
    ],
    [
      "class not a multiple",
      () => new SlabAllocator({ sizeClasses: [64, 100] }),
      RangeError,
      "multiples of 64",
    ],
    [
      "first class not a power of two",
      () => new SlabAllocator({ sizeClasses: [48] }),
      RangeError,
      "power of two",
    ],
    [
      "class above slab size",
      () => new SlabAllocator({ slabSize: 4096, sizeClasses: [64, 8192] }),
      RangeError,
      "sizeClasses[1]",
    ],
    ["no classes", () => new SlabAllocator({ sizeClasses: [] }), RangeError, "1 to 120 sizes"],
    [
      "sample not a power of two",
      () => new SlabAllocator({ recycleAgeSampleEvery: 3 }),
      RangeError,
      "power of two",
    ],
    [
      "too many blocks",
      () => new SlabAllocator({ slabs: 4096, slabSize: 1 << 20, sizeClasses: [8] }),
      RangeError,
      "use a larger smallest size class",
    ],
  ];
  for (const [name, make, type, text] of cases) {
    await t.step(name, () => void assertThrows(make, type, text));
  }
});

Deno.test("SlabAllocator.stats() averages the time between free and reuse", () => {
  const clock = new VirtualClock();
  const slab = new SlabAllocator({ slabs: 1, slabSize: 4096, clock, recycleAgeSampleEvery: 1 });
  assert(Number.isNaN(slab.stats().averageRecycleAgeMs));
  const a = allocOrFail(slab, 64);
  const b = allocOrFail(slab, 64);
  slab.free(a);
  clock.advance(4);
  slab.free(b);
  clock.advance(2);
  allocOrFail(slab, 64); // b, freed 2 ms ago (the free list is LIFO)
  allocOrFail(slab, 64); // a, freed 6 ms ago
  assertEquals(slab.stats().averageRecycleAgeMs, 4);
});

Deno.test("SlabAllocator shares its buffer and exports chronetix_alloc_* metrics", () => {
  const metrics = new MetricsRegistry();
  using slab = new SlabAllocator({
    slabs: 1,
    slabSize: 4096,
    shared: true,
    metrics,
    name: "frames",
  });
  assert(slab.buffer instanceof SharedArrayBuffer);
  allocOrFail(slab, 48);
  const text = metrics.exposeText();
  assert(text.includes('chronetix_alloc_in_use_bytes{allocator="frames"} 64'), text);
  assert(text.includes('chronetix_alloc_fragmentation_ratio{allocator="frames"} 0.25'), text);
  assert(text.includes('chronetix_alloc_capacity_bytes{allocator="frames"} 4096'), text);
  assert(text.includes('chronetix_alloc_allocations_total{allocator="frames"} 1'), text);
});

Deno.test("SlabAllocator returns an empty slab to the pool for another size class", () => {
  using slab = new SlabAllocator({ slabs: 1, slabSize: 1 << 20 });
  slab.free(allocOrFail(slab, 1)); // the only slab went to the 64-byte class
  assertEquals(slab.stats().blocksInUse, 0);
  const big = slab.alloc(slab.maxBlockSize);
  assert(big !== NO_BLOCK, "an empty slab serves any size class");
  assertEquals(slab.sizeOf(big), 1 << 20);
  const stats = slab.stats();
  assertEquals(stats.slabsReclaimed, 1);
  assertEquals(stats.slabsInUse, 1);
  assertEquals(slab.alloc(1), NO_BLOCK, "the slab is now the 1 MiB class's");
  slab.free(big);
  assertEquals(slab.stats().largestFreeBlock, 1 << 20);
  const small = allocOrFail(slab, 1);
  assertEquals(slab.stats().slabsReclaimed, 2);
  slab.free(small);
});

Deno.test("SlabAllocator keeps a stale handle invalid across 100,000 reuses of its block", () => {
  using slab = new SlabAllocator(); // 65,536 blocks of 64 bytes: the old handles wrapped at 16,384
  const stale = allocOrFail(slab, 1);
  const block = slab.blockIndex(stale);
  slab.free(stale);
  let current = allocOrFail(slab, 1);
  const blocks = new Set<number>();
  for (let i = 0; i < 100_000; i++) {
    blocks.add(slab.blockIndex(current));
    assert(current !== stale, `reuse ${i} gave the stale handle back`);
    slab.free(current);
    current = allocOrFail(slab, 1);
  }
  assert(blocks.has(block), "the stale handle's block was reused");
  assertThrows(() => slab.free(stale), RangeError, "stale");
  assertEquals(slab.owns(stale), false);
  assertEquals(slab.owns(current), true, "the new owner's block is untouched");
  const stats = slab.stats();
  assertEquals(stats.blocksInUse, 1);
  assertEquals(stats.quarantinedBlocks, 3, "each block parks after 32,767 allocations");
  assertEquals(stats.quarantineReleases, 0);
  slab.free(current);
});

Deno.test("SlabCore parks a block at its last generation and reuses it only when memory runs short", () => {
  // 4 blocks of 1 KiB, 2 generation bits: a block parks after its 3rd allocation.
  const core = new SlabCore({
    slabs: 1,
    slabSize: 4096,
    classes: [1024],
    granuleBits: 2,
    generationBits: 2,
    sampleEvery: 1,
    clock: new VirtualClock(),
  });
  const first = core.alloc(1);
  const handles = [first];
  core.free(first);
  for (let i = 0; i < 2; i++) {
    const h = core.alloc(1);
    assertEquals(core.lastIndex, 0, "LIFO reuse of block 0");
    handles.push(h);
    core.free(h);
  }
  assertEquals(core.parkedCount, 1, "block 0 was freed at its last generation");
  const others = [core.alloc(1), core.alloc(1), core.alloc(1)];
  assertEquals(others.map((h) => core.liveIndex(h)).sort(), [1, 2, 3], "block 0 is not reused");
  assertEquals(handles.map((h) => core.handleState(h)), ["stale", "stale", "freed"]);
  const wrapped = core.alloc(1); // no other room: the oldest parked block comes back
  assertEquals(core.liveIndex(wrapped), 0);
  assertEquals(core.quarantineReleases, 1);
  assertEquals(core.parkedCount, 0);
  assert(!handles.includes(wrapped), "generation 0 was never handed out before");
  assertEquals(core.alloc(1), -1);
});

Deno.test("SlabAllocator rejects null and hostile arguments with errors naming them", async (t) => {
  const cases: [string, () => unknown, ErrorConstructor, string][] = [
    ["options null", () => new SlabAllocator(null as never), TypeError, "'options'"],
    ["options 5", () => new SlabAllocator(5 as never), TypeError, "'options'"],
    ["slabs Symbol", () => new SlabAllocator({ slabs: Symbol() as never }), TypeError, "'slabs'"],
    [
      "slabSize BigInt",
      () => new SlabAllocator({ slabSize: 10n as never }),
      TypeError,
      "'slabSize'",
    ],
    [
      "sizeClasses 5",
      () => new SlabAllocator({ sizeClasses: 5 as never }),
      TypeError,
      "'sizeClasses'",
    ],
    [
      "sizeClasses {}",
      () => new SlabAllocator({ sizeClasses: {} as never }),
      TypeError,
      "'sizeClasses'",
    ],
    ["shared 'yes'", () => new SlabAllocator({ shared: "yes" as never }), TypeError, "'shared'"],
    ["clock {}", () => new SlabAllocator({ clock: {} as never }), TypeError, "'clock'"],
    ["clock NaN", () => new SlabAllocator({ clock: { now: () => NaN } }), TypeError, "'clock'"],
    ["metrics 5", () => new SlabAllocator({ metrics: 5 as never }), TypeError, "'metrics'"],
    ["name Symbol", () => new SlabAllocator({ name: Symbol() as never }), TypeError, "'name'"],
  ];
  for (const [name, make, type, text] of cases) {
    await t.step(name, () => void assertThrows(make, type, text));
  }
  using slab = new SlabAllocator({ slabs: 1, slabSize: 4096 });
  const block = allocOrFail(slab, 64);
  const methods: [string, () => unknown, ErrorConstructor, string][] = [
    ["alloc Symbol", () => slab.alloc(Symbol() as never), TypeError, "'size'"],
    ["alloc BigInt", () => slab.alloc(10n as never), TypeError, "'size'"],
    ["alloc valueOf", () => slab.alloc({ valueOf: () => 8 } as never), TypeError, "'size'"],
    ["free Symbol", () => slab.free(Symbol() as never), RangeError, "not a block handle"],
    ["free BigInt", () => slab.free(10n as never), RangeError, "not a block handle"],
    ["offsetOf null", () => slab.offsetOf(null as never), RangeError, "not a block handle"],
    ["sizeOf valueOf", () => slab.sizeOf({ valueOf: () => block } as never), RangeError, "not a"],
    ["view length NaN", () => slab.view(block, NaN), RangeError, "'length'"],
    ["view length Symbol", () => slab.view(block, Symbol() as never), TypeError, "'length'"],
    ["view length 65", () => slab.view(block, 65), RangeError, "'length'"],
  ];
  for (const [name, call, type, text] of methods) {
    await t.step(name, () => void assertThrows(call, type, text));
  }
  assertEquals(slab.owns(Symbol() as never), false);
  assertEquals(slab.owns(10n as never), false);
  assertEquals(slab.stats().blocksInUse, 1, "no call changed the allocator");
  assertEquals(slab.view(block, 10).length, 10);
});
