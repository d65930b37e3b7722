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

Deno.test("LatencyHistogram.snapshot() reports count, min, mean, max and clamps negatives", () => {
  const h = new LatencyHistogram();
  assertEquals(h.snapshot(), {
    count: 0,
    min: 0,
    mean: 0,
    p50: 0,
    p95: 0,
    p99: 0,
    p999: 0,
    max: 0,
  });
  h.record(-0.5);
  h.record(0.002);
  h.record(0.004);
  const s = h.snapshot();
  assertEquals(s.count, 3);
  assertEquals(s.min, 0);
  assertEquals(s.max, 0.004);
  assertEquals(s.mean, 0.002);
  assertAlmostEquals(s.p50, 0.002, 0.002 * 0.032);
  h.reset();
  assertEquals(h.count, 0);
  assertEquals(h.snapshot().max, 0);
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
