import { assert, assertAlmostEquals, assertEquals } from "@std/assert";
import {
  LEAD_MARGIN_MS,
  LEAD_WINDOW,
  LeadEstimator,
  SPIN_BEYOND_LEAD_MS,
} from "../../src/time/_lead_estimator.ts";
import { precisionTuning } from "../../src/time/precision.ts";
import { mulberry32 } from "../_util/prng.ts";

const EPSILON = 1e-12;

Deno.test("LeadEstimator starts from the profile's initial lead and its spin threshold", () => {
  const balanced = precisionTuning("balanced");
  const lead = new LeadEstimator(balanced);
  assertEquals(lead.leadMs, balanced.nearLeadMs);
  assertEquals(lead.spinMs, Math.max(balanced.spinMs, balanced.nearLeadMs + SPIN_BEYOND_LEAD_MS));
  assertEquals(lead.samples, 0);

  const efficient = precisionTuning("efficient");
  const none = new LeadEstimator(efficient);
  assertEquals([none.leadMs, none.spinMs], [0, efficient.spinMs]);
});

Deno.test("LeadEstimator.learn() sets the lead to the leadQuantile of the window plus the margin", async (t) => {
  await t.step("balanced: the sample at floor(0.9 * n) of the sorted window", () => {
    const tuning = precisionTuning("balanced");
    const lead = new LeadEstimator(tuning);
    // 0.01 .. 0.20 in a shuffled order: the window is sorted, not read in order.
    const values = Array.from({ length: 20 }, (_, i) => (i + 1) / 100);
    const random = mulberry32(9);
    for (let i = values.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [values[i], values[j]] = [values[j]!, values[i]!];
    }
    for (const v of values) lead.learn(v);
    // n = 20: index floor(0.9 * 20) = 18, the 19th smallest, 0.19.
    assertAlmostEquals(lead.leadMs, 0.19 + LEAD_MARGIN_MS, EPSILON);
    assertAlmostEquals(lead.spinMs, 0.19 + LEAD_MARGIN_MS + SPIN_BEYOND_LEAD_MS, EPSILON);
    assertEquals(lead.samples, 20);
  });

  await t.step("a median tuning picks the middle sample", () => {
    const lead = new LeadEstimator(precisionTuning("balanced", { leadQuantile: 0.5 }));
    for (const v of [0.4, 0.1, 0.3, 0.2]) lead.learn(v);
    // n = 4: index floor(0.5 * 4) = 2, the third smallest, 0.3.
    assertAlmostEquals(lead.leadMs, 0.3 + LEAD_MARGIN_MS, EPSILON);
  });

  await t.step("quantile 1 picks the largest sample", () => {
    const lead = new LeadEstimator(precisionTuning("balanced", { leadQuantile: 1 }));
    for (const v of [0.05, 0.2, 0.1]) lead.learn(v);
    assertAlmostEquals(lead.leadMs, 0.2 + LEAD_MARGIN_MS, EPSILON);
  });
});

Deno.test("LeadEstimator.learn() keeps only the last 64 samples", () => {
  const tuning = precisionTuning("balanced", { leadQuantile: 1 });
  const lead = new LeadEstimator(tuning);
  lead.learn(0.4);
  for (let i = 0; i < LEAD_WINDOW - 1; i++) lead.learn(0.1);
  assertAlmostEquals(lead.leadMs, 0.4 + LEAD_MARGIN_MS, EPSILON); // still in the window
  lead.learn(0.1); // the 65th sample evicts the first
  assertAlmostEquals(lead.leadMs, 0.1 + LEAD_MARGIN_MS, EPSILON);
  assertEquals(lead.samples, LEAD_WINDOW + 1);
});

Deno.test("LeadEstimator clamps the lead and its samples to [nearLeadMinMs, nearLeadMaxMs]", () => {
  const tuning = precisionTuning("balanced", { leadQuantile: 1 });
  const lead = new LeadEstimator(tuning);
  lead.learn(0);
  assertEquals(lead.leadMs, tuning.nearLeadMinMs); // 0 + margin is below the floor
  lead.learn(50); // a 50 ms stall counts as nearLeadMaxMs
  assertEquals(lead.leadMs, tuning.nearLeadMaxMs);
  // Once the outlier leaves the window the lead follows the new samples.
  for (let i = 0; i < LEAD_WINDOW; i++) lead.learn(0.2);
  assertAlmostEquals(lead.leadMs, 0.2 + LEAD_MARGIN_MS, EPSILON);
  lead.learn(-0.3); // an early wake-up is not a sample
  assertEquals(lead.samples, LEAD_WINDOW + 2);
  assertAlmostEquals(lead.leadMs, 0.2 + LEAD_MARGIN_MS, EPSILON);
});

Deno.test("LeadEstimator.decay() shrinks a long lead step by step down to its floor", () => {
  const tuning = precisionTuning("balanced");
  const lead = new LeadEstimator(tuning);
  for (let i = 0; i < LEAD_WINDOW; i++) lead.learn(0.5);
  assertAlmostEquals(lead.leadMs, 0.5 + LEAD_MARGIN_MS, EPSILON);
  // The first decay feeds (lead - margin) * 0.9 = 0.45: one sample below the
  // 90th percentile changes nothing yet.
  lead.decay();
  assertAlmostEquals(lead.leadMs, 0.5 + LEAD_MARGIN_MS, EPSILON);
  let previous = lead.leadMs;
  let steps = 1;
  while (lead.leadMs > tuning.nearLeadMinMs && steps < 10_000) {
    lead.decay();
    steps++;
    assert(lead.leadMs <= previous, `step ${steps}: ${lead.leadMs} > ${previous}`);
    previous = lead.leadMs;
  }
  assertEquals(lead.leadMs, tuning.nearLeadMinMs);
  assert(steps > LEAD_WINDOW, `reached the floor after ${steps} steps`);
  assertEquals(lead.spinMs, Math.max(tuning.spinMs, tuning.nearLeadMinMs + SPIN_BEYOND_LEAD_MS));
});

Deno.test("LeadEstimator.aimedSpinMs keeps the spin threshold of the last aim while the lead moves", () => {
  const tuning = precisionTuning("precise", { leadQuantile: 1 });
  const lead = new LeadEstimator(tuning);
  assertEquals(lead.aimedSpinMs, lead.spinMs); // nothing aimed yet: the initial threshold
  lead.learn(0.5);
  const grown = lead.spinMs;
  assertAlmostEquals(grown, 0.5 + LEAD_MARGIN_MS + SPIN_BEYOND_LEAD_MS, EPSILON);
  assertEquals(lead.aimedSpinMs, Math.max(tuning.spinMs, tuning.nearLeadMs + SPIN_BEYOND_LEAD_MS));
  const target = lead.aim(100, true);
  assertEquals(lead.aimedSpinMs, grown);
  // The window's only slow sample leaves it: the lead falls, the aim's threshold stays.
  for (let i = 0; i < LEAD_WINDOW; i++) lead.learn(0.01);
  lead.woke(target + 0.01);
  assertEquals(lead.leadMs, tuning.nearLeadMinMs);
  assertEquals(lead.aimedSpinMs, grown);
  lead.aim(200, true);
  assertEquals(lead.aimedSpinMs, lead.spinMs);
});

Deno.test("LeadEstimator.woke() learns only from measurable, on-time-or-late wake-ups", async (t) => {
  const tuning = precisionTuning("balanced", { leadQuantile: 1 });

  await t.step("aim() targets the deadline minus the lead", () => {
    const lead = new LeadEstimator(tuning);
    assertEquals(lead.aim(100, true), 100 - tuning.nearLeadMs);
    assertEquals(lead.measuring, true);
  });

  await t.step("a wake-up requested while the waker was starting is ignored", () => {
    const lead = new LeadEstimator(tuning);
    const target = lead.aim(100, false);
    assertEquals(lead.measuring, false);
    lead.woke(target + 12); // late by the Worker's start-up, not by its latency
    assertEquals([lead.samples, lead.leadMs], [0, tuning.nearLeadMs]);
  });

  await t.step("a measurable wake-up is learnt once", () => {
    const lead = new LeadEstimator(tuning);
    const target = lead.aim(100, true);
    lead.woke(target + 0.25);
    assertEquals(lead.samples, 1);
    assertAlmostEquals(lead.leadMs, 0.25 + LEAD_MARGIN_MS, EPSILON);
    assertEquals(lead.measuring, false);
    lead.woke(target + 0.5); // a second wake-up for the same aim says nothing
    assertEquals(lead.samples, 1);
  });

  await t.step("an early wake-up is not a sample", () => {
    const lead = new LeadEstimator(tuning);
    const target = lead.aim(100, true);
    lead.woke(target - 0.01);
    assertEquals(lead.samples, 0);
  });

  await t.step("a new aim uses the lead learnt so far", () => {
    const lead = new LeadEstimator(tuning);
    lead.woke(0); // nothing aimed yet
    assertEquals(lead.samples, 0);
    lead.woke(lead.aim(50, true) + 0.3);
    assertAlmostEquals(lead.aim(200, true), 200 - (0.3 + LEAD_MARGIN_MS), EPSILON);
  });
});
