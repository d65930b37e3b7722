import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import { LatencyHistogram } from "../../src/time/latency_histogram.ts";
import { mulberry32, testSeeds } from "../_util/prng.ts";

Deno.test("LatencyHistogram.quantile() stays within 3.2 % of the exact quantile", () => {
  for (const seed of testSeeds([7, 42])) {
    const random = mulberry32(seed);
    const h = new LatencyHistogram();
    const values: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      // Log-uniform from 1 µs to 10 s, in milliseconds.
      const v = 10 ** (random() * 7 - 3);
      values.push(v);
      h.record(v);
    }
    values.sort((a, b) => a - b);
    for (const q of [0.5, 0.9, 0.95, 0.99, 0.999]) {
      const exact = values[Math.ceil(q * values.length) - 1]!;
      const got = h.quantile(q);
      const error = Math.abs(got - exact) / exact;
      assert(error <= 0.032, `seed ${seed}: q=${q} exact=${exact} got=${got} error=${error}`);
    }
    assertEquals(h.quantile(1), values.at(-1));
  }
});

Deno.test("LatencyHistogram.snapshot() reports NaN for every figure but count when empty", () => {
  const h = new LatencyHistogram();
  assertEquals(h.snapshot(), {
    count: 0,
    last: NaN,
    ewma: NaN,
    mean: NaN,
    min: NaN,
    max: NaN,
    p50: NaN,
    p95: NaN,
    p99: NaN,
    p999: NaN,
  });
  assertEquals(h.quantile(0.5), NaN);
  h.record(0.003);
  h.reset();
  assertEquals(h.count, 0);
  assertEquals(h.snapshot(), new LatencyHistogram().snapshot());
});

Deno.test("LatencyHistogram.snapshot() reports count, last, ewma, mean, min and max", () => {
  const h = new LatencyHistogram();
  h.record(0.004);
  assertEquals([h.snapshot().last, h.snapshot().ewma], [0.004, 0.004]); // the first value seeds the EWMA
  h.record(0.012);
  const s = h.snapshot();
  assertEquals(s.count, 2);
  assertEquals(s.last, 0.012);
  assertEquals(s.ewma, 0.004 + (0.012 - 0.004) / 8); // a new value weighs 1/8
  assertEquals(s.mean, 0.008);
  assertEquals([s.min, s.max], [0.004, 0.012]);
  assertAlmostEquals(s.p50, 0.004, 0.004 * 0.032);
  assertEquals(s.p999, 0.012); // capped at the exact maximum
});

Deno.test("LatencyHistogram counts a negative value as itself, except as 0 in the percentiles", () => {
  const h = new LatencyHistogram();
  h.record(-0.5);
  let s = h.snapshot();
  assertEquals([s.last, s.ewma, s.mean, s.min, s.max], [-0.5, -0.5, -0.5, -0.5, -0.5]);
  assertEquals([s.p50, s.p99], [0, 0]);
  h.record(0.002);
  h.record(0.004);
  s = h.snapshot();
  assertEquals(s.count, 3);
  assertEquals(s.last, 0.004);
  assertEquals(s.min, -0.5);
  assertEquals(s.max, 0.004);
  assertAlmostEquals(s.mean, (-0.5 + 0.002 + 0.004) / 3, 1e-15);
  const ewma = -0.5 + (0.002 - -0.5) / 8;
  assertAlmostEquals(s.ewma, ewma + (0.004 - ewma) / 8, 1e-15);
  assertEquals(h.quantile(0), 0); // the negative value sits in the 0 bucket
  assertAlmostEquals(s.p50, 0.002, 0.002 * 0.032);
  assertEquals(s.p99, 0.004);
});

Deno.test("LatencyHistogram saturates beyond its range instead of failing", () => {
  const h = new LatencyHistogram();
  h.record(1e9); // 11.5 days
  assertEquals(h.count, 1);
  assertEquals(h.quantile(0.5), 1e9);
});

Deno.test("LatencyHistogram.quantile() rejects quantiles outside [0, 1]", () => {
  const h = new LatencyHistogram();
  assertThrows(() => h.quantile(1.5), RangeError, "'q' must be in [0, 1]: current value is 1.5");
  assertThrows(() => h.quantile(NaN), RangeError, "'q'");
});

// --- issue 10: reliability ---------------------------------------------------

Deno.test("LatencyHistogram.record() rejects values that are not finite numbers, changing nothing", () => {
  const h = new LatencyHistogram();
  h.record(2);
  for (const bad of ["5", undefined, null, {}, Symbol("x"), 5n]) {
    assertThrows(() => h.record(bad as unknown as number), TypeError, "'ms'");
  }
  assertThrows(
    () => h.record(NaN),
    RangeError,
    "Cannot record a latency as 'ms' must be a finite number: current value is NaN",
  );
  assertThrows(() => h.record(Infinity), RangeError, "'ms'");
  assertThrows(() => h.quantile(Symbol() as unknown as number), TypeError, "'q'");
  const s = h.snapshot();
  assertEquals([s.count, s.mean, s.ewma, s.min, s.max], [1, 2, 2, 2, 2]);
});

Deno.test("LatencyHistogram stays consistent with extreme values: no NaN, mean within [min, max]", () => {
  const h = new LatencyHistogram();
  for (const v of [-1e308, 1e308, 1e308, 0, -1e308]) h.record(v);
  const s = h.snapshot();
  for (const [k, v] of Object.entries(s)) assert(!Number.isNaN(v), `${k} is NaN`);
  assert(s.mean >= s.min && s.mean <= s.max, `mean ${s.mean}`);
  assert(s.ewma >= s.min && s.ewma <= s.max, `ewma ${s.ewma}`);
  assertEquals([s.count, s.min, s.max], [5, -1e308, 1e308]);
});
