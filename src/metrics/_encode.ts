// Writes families in Prometheus text 0.0.4 or OpenMetrics 1.0 into a reused
// byte buffer. Everything that does not change between scrapes (metadata
// lines, label sets, bucket bounds) is encoded once; integers are written
// digit by digit; other numbers are formatted once per distinct value and
// cached per series, so a scrape of an unchanged registry allocates nothing.
//
// Speed: each family reserves its worst-case size once, then one tight loop
// writes through local variables. Methods that update a writer's fields per
// byte keep V8 from optimizing the loop (field constness deopts). Whole
// arrays (names, bucket bounds) are copied with set(); slices of the label
// arena with a short loop, since a subarray view would allocate.
import { escapeHelp, type FamilyCore, formatValue, type SeriesRecord } from "./_core.ts";
import type { ExpositionFormat } from "./exposition.ts";

const ENCODER = new TextEncoder();
/** Longest text of a double (`-1.2345678901234567e-308`) plus a margin. */
const MAX_VALUE_CHARS = 26;

/** Pre-encoded, format-specific bytes of one family. */
interface FamilyBytes {
  /** `# HELP`, `# TYPE` (and `# UNIT`) lines. */
  meta: Uint8Array;
  /** Sample name(s): one for counters and gauges; bucket, sum, count for histograms. */
  names: Uint8Array[];
  /** For histograms: `le="..."` per bucket, `+Inf` last. */
  le: Uint8Array[];
  /** Longest `le` entry. */
  maxLe: number;
}

/** Per-series cache of formatted non-integer values, one entry per slot. */
interface NumberCache {
  values: Float64Array;
  texts: (string | undefined)[];
}

/** Writes `value` (a safe integer) at `at`; returns the new end. */
function writeInteger(bytes: Uint8Array, at: number, value: number): number {
  if (value < 0) {
    bytes[at++] = 45; // -
    value = -value;
  }
  if (value < 10) {
    bytes[at++] = 48 + value;
    return at;
  }
  let digits = 1;
  for (let p = 10; p <= value; p *= 10) digits++;
  let i = at + digits;
  const end = i;
  while (value >= 1) {
    const q = Math.floor(value / 10);
    bytes[--i] = 48 + (value - q * 10);
    value = q;
  }
  return end;
}

/** Encodes the registry's families; owns the caches that make re-scrapes free. */
export class ExpositionEncoder {
  #bytes: Uint8Array<ArrayBuffer> = new Uint8Array(64 * 1024);
  readonly #familyBytes = new Map<FamilyCore, FamilyBytes>();
  readonly #omFamilyBytes = new Map<FamilyCore, FamilyBytes>();
  readonly #numberCaches = new WeakMap<SeriesRecord, NumberCache>();

  /** Encodes `families` and returns a view that is valid until the next call. */
  encode(families: readonly FamilyCore[], format: ExpositionFormat): Uint8Array<ArrayBuffer> {
    const om = format === "openmetrics";
    let at = 0;
    for (const core of families) {
      const fb = this.#bytesOf(core, om);
      at = this.#reserve(at, fb.meta.length);
      this.#bytes.set(fb.meta, at);
      at += fb.meta.length;
      at = core.declaration.type === "histogram"
        ? this.#histogram(core, fb, at, !(om && core.signed))
        : this.#scalar(core, fb.names[0]!, at);
    }
    if (om) {
      at = this.#reserve(at, 6);
      for (const c of "# EOF\n") this.#bytes[at++] = c.charCodeAt(0);
    }
    return this.#bytes.subarray(0, at);
  }

  /** Makes room for `extra` more bytes after `at`. */
  #reserve(at: number, extra: number): number {
    if (at + extra > this.#bytes.length) {
      let size = this.#bytes.length * 2;
      while (size < at + extra) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.#bytes.subarray(0, at));
      this.#bytes = next;
    }
    return at;
  }

  #scalar(core: FamilyCore, name: Uint8Array, at: number): number {
    const series = core.series;
    const arena = core.labelArena;
    // name + "{" + labels + "} " + value + "\n", for every series.
    const perLine = name.length + 4 + MAX_VALUE_CHARS;
    this.#reserve(at, series.length * perLine + arena.length);
    const b = this.#bytes;
    const nameLength = name.length;
    for (let s = 0; s < series.length; s++) {
      const record = series[s]!;
      // A whole array goes through native set() (no subarray to allocate),
      // which measured faster than a byte loop; label text stays a loop.
      b.set(name, at);
      at += nameLength;
      const start = record.labelStart;
      const end = record.labelEnd;
      if (end > start) {
        b[at++] = 123; // {
        for (let i = start; i < end; i++) b[at++] = arena[i]!;
        b[at++] = 125; // }
      }
      b[at++] = 32; // space
      const value = record.slots[record.offset]!;
      at = Number.isSafeInteger(value)
        ? writeInteger(b, at, value)
        : this.#writeText(b, at, this.#text(record, 0, value));
      b[at++] = 10; // newline
    }
    return at;
  }

  /**
   * Writes a histogram's buckets, then (`withSum`) its `_sum` and `_count`:
   * OpenMetrics forbids a sum in a histogram with a negative bucket bound.
   */
  #histogram(core: FamilyCore, fb: FamilyBytes, at: number, withSum: boolean): number {
    const series = core.series;
    const arena = core.labelArena;
    const n = core.declaration.buckets.length;
    const [bucket, sum, count] = fb.names as [Uint8Array, Uint8Array, Uint8Array];
    const perLine = bucket.length + fb.maxLe + 6 + MAX_VALUE_CHARS;
    this.#reserve(at, series.length * (n + 3) * perLine + arena.length * (n + 3));
    const b = this.#bytes;
    for (let s = 0; s < series.length; s++) {
      const record = series[s]!;
      const slots = record.slots;
      const o = record.offset;
      let cumulative = 0;
      for (let k = 0; k <= n; k++) {
        cumulative += slots[o + k]!;
        at = this.#prefix(b, at, bucket, arena, record, fb.le[k]!);
        at = writeInteger(b, at, cumulative);
        b[at++] = 10;
      }
      if (!withSum) continue;
      at = this.#prefix(b, at, sum, arena, record, undefined);
      const total = slots[o + n + 1]!;
      at = Number.isSafeInteger(total)
        ? writeInteger(b, at, total)
        : this.#writeText(b, at, this.#text(record, n + 1, total));
      b[at++] = 10;
      at = this.#prefix(b, at, count, arena, record, undefined);
      at = writeInteger(b, at, slots[o + n + 2]!);
      b[at++] = 10;
    }
    return at;
  }

  /** Writes `name{labels[,le]} `; returns the new end. */
  #prefix(
    b: Uint8Array,
    at: number,
    name: Uint8Array,
    arena: Uint8Array,
    record: SeriesRecord,
    le: Uint8Array | undefined,
  ): number {
    b.set(name, at);
    at += name.length;
    const start = record.labelStart;
    const end = record.labelEnd;
    if (end > start || le !== undefined) {
      b[at++] = 123;
      for (let i = start; i < end; i++) b[at++] = arena[i]!;
      if (le !== undefined) {
        if (end > start) b[at++] = 44; // ,
        b.set(le, at);
        at += le.length;
      }
      b[at++] = 125;
    }
    b[at++] = 32;
    return at;
  }

  #writeText(b: Uint8Array, at: number, text: string): number {
    for (let i = 0; i < text.length; i++) b[at++] = text.charCodeAt(i);
    return at;
  }

  /** The text of a non-integer value, formatted once per distinct value. */
  #text(record: SeriesRecord, slot: number, value: number): string {
    let cache = this.#numberCaches.get(record);
    if (cache === undefined) {
      cache = { values: new Float64Array(slot + 1).fill(NaN), texts: [] };
      this.#numberCaches.set(record, cache);
    } else if (slot >= cache.values.length) {
      const values = new Float64Array(slot + 1).fill(NaN);
      values.set(cache.values);
      cache.values = values;
    }
    let text = cache.texts[slot];
    if (text === undefined || !Object.is(cache.values[slot], value)) {
      text = formatValue(value);
      cache.texts[slot] = text;
      cache.values[slot] = value;
    }
    return text;
  }

  #bytesOf(core: FamilyCore, om: boolean): FamilyBytes {
    const map = om ? this.#omFamilyBytes : this.#familyBytes;
    let bytes = map.get(core);
    if (bytes === undefined) {
      bytes = familyBytes(core, om);
      map.set(core, bytes);
    }
    return bytes;
  }
}

function familyBytes(core: FamilyCore, om: boolean): FamilyBytes {
  const { name, help, type, unit } = core.declaration;
  // OpenMetrics names a counter family without its `_total` suffix.
  const familyName = om && type === "counter" ? name.slice(0, -"_total".length) : name;
  let meta = `# HELP ${familyName} ${escapeHelp(help, om)}\n# TYPE ${familyName} ${type}\n`;
  if (om && unit !== undefined) meta += `# UNIT ${familyName} ${unit}\n`;
  const le = core.leValues.map((value) => ENCODER.encode(`le="${value}"`));
  return {
    meta: ENCODER.encode(meta),
    names: core.sampleNames.map((n) => ENCODER.encode(n)),
    le,
    maxLe: le.reduce((m, l) => Math.max(m, l.length), 0),
  };
}
