import { assert, assertEquals, assertStrictEquals, assertThrows, fail } from "@std/assert";
import { TimerWheel } from "../../src/time/timer_wheel.ts";
import { mulberry32, testSeeds } from "../_util/prng.ts";
import { recordingLogger } from "../_util/logger.ts";

function recorder() {
  const fired: string[] = [];
  const at = (name: string) => () => void fired.push(name);
  return { fired, at };
}

Deno.test("TimerWheel.advance() fires in deadline order across levels and the overflow list", () => {
  const wheel = new TimerWheel({ levels: 2 }); // range 4096 ticks; beyond goes to overflow
  const { fired, at } = recorder();
  const deadlines = [9000.5, 4095, 63, 64, 0.5, 65.25, 4096, 70_000, 4097.75, 1, 12_345];
  for (const d of deadlines) wheel.schedule(d, at(String(d)));
  assertEquals(wheel.stats().overflow, 5); // everything from 4096 on is in a later block
  assertEquals(wheel.nextDeadline(), 0.5);
  wheel.advance(100_000);
  assertEquals(fired, [...deadlines].sort((a, b) => a - b).map(String));
  assertEquals(wheel.size, 0);
  assert(wheel.stats().cascades > 0);
});

Deno.test("TimerWheel fires equal deadlines in insertion order, also after cascading", () => {
  const wheel = new TimerWheel();
  const { fired, at } = recorder();
  wheel.schedule(5000, at("a")); // level 2 at schedule time
  wheel.schedule(5000, at("b"));
  wheel.advance(4990); // a and b cascade down
  wheel.schedule(5000, at("c")); // placed directly at level 0
  wheel.schedule(4999.999, at("early"));
  wheel.advance(5000);
  assertEquals(fired, ["early", "a", "b", "c"]);
});

Deno.test("TimerWheel fires at the exact deadline, not at the slot boundary", () => {
  const wheel = new TimerWheel();
  const { fired, at } = recorder();
  wheel.schedule(5.25, at("x"));
  assertEquals(wheel.nextDeadline(), 5.25);
  assertEquals(wheel.advance(5), 0);
  assertEquals(wheel.advance(5.2499), 0);
  assertEquals(wheel.nextDeadline(), 5.25);
  assertEquals(wheel.advance(5.25), 1);
  assertEquals(fired, ["x"]);
  assertEquals(wheel.nextDeadline(), Infinity);
});

Deno.test("TimerWheel.nextDeadline() is exact for timers on higher levels and in overflow", () => {
  const wheel = new TimerWheel({ levels: 2 });
  wheel.schedule(3000.125, () => {});
  wheel.schedule(2999.5, () => {});
  assertEquals(wheel.nextDeadline(), 2999.5);
  const far = new TimerWheel({ levels: 1 });
  far.schedule(1_000_000.75, () => {});
  assertEquals(far.stats().overflow, 1);
  assertEquals(far.nextDeadline(), 1_000_000.75);
});

Deno.test("TimerWheel handles deadlines beyond 2^32 ticks", () => {
  const wheel = new TimerWheel();
  const { fired, at } = recorder();
  const base = 2 ** 32 + 10;
  wheel.advance(base - 100);
  for (const d of [base + 70_000, base + 5, base - 3, base + 5, base + 64 ** 3 + 1]) {
    wheel.schedule(d, at(String(d - base)));
  }
  wheel.advance(base + 4);
  assertEquals(fired, ["-3"]);
  wheel.advance(base + 64 ** 4);
  assertEquals(fired, ["-3", "5", "5", "70000", String(64 ** 3 + 1)]);
});

Deno.test("TimerWheel.cancel() cancels pending timers and ignores stale ids", async (t) => {
  await t.step("a pending timer does not fire", () => {
    const wheel = new TimerWheel();
    const { fired, at } = recorder();
    const a = wheel.schedule(10, at("a"));
    wheel.schedule(20, at("b"));
    assertEquals(wheel.cancel(a), true);
    assertEquals(wheel.cancel(a), false);
    assertEquals(wheel.has(a), false);
    wheel.advance(100);
    assertEquals(fired, ["b"]);
    assertEquals(wheel.stats().cancelled, 1);
  });

  await t.step("a stale id never cancels a timer that reuses its slot", () => {
    const wheel = new TimerWheel({ initialCapacity: 1 });
    const { fired, at } = recorder();
    const old = wheel.schedule(1, at("old"));
    wheel.advance(1);
    const fresh = wheel.schedule(2, at("fresh"));
    assert(old !== fresh);
    assertEquals(old % 2 ** 26, fresh % 2 ** 26); // same slot, new generation
    assertEquals(wheel.cancel(old), false);
    wheel.advance(2);
    assertEquals(fired, ["old", "fresh"]);
  });

  await t.step("ids that were never issued are ignored", () => {
    const wheel = new TimerWheel();
    wheel.schedule(1, () => {});
    for (const bogus of [0, -1, 1.5, NaN, Infinity, 2 ** 60, 12345]) {
      assertEquals(wheel.cancel(bogus), false);
    }
    assertEquals(wheel.size, 1);
  });

  await t.step("a callback cancels another timer due at the same time", () => {
    const wheel = new TimerWheel();
    const { fired, at } = recorder();
    let b = 0;
    wheel.schedule(5, () => {
      fired.push("a");
      assertEquals(wheel.cancel(b), true);
    });
    b = wheel.schedule(5, at("b"));
    wheel.schedule(5, at("c"));
    wheel.advance(5);
    assertEquals(fired, ["a", "c"]);
  });

  await t.step("a one-shot cancelling itself during its fire is a no-op", () => {
    const wheel = new TimerWheel();
    let result: boolean | undefined;
    const id = wheel.schedule(1, () => {
      result = wheel.cancel(id);
    });
    wheel.advance(1);
    assertStrictEquals(result, false);
  });

  await t.step("a periodic timer cancelling itself stops", () => {
    const wheel = new TimerWheel();
    let count = 0;
    const id = wheel.schedule(1, () => {
      if (++count === 3) wheel.cancel(id);
    }, { periodMs: 1, missedTicks: "burst" });
    wheel.advance(100);
    assertEquals(count, 3);
    assertEquals(wheel.size, 0);
  });

  await t.step("timers in the heap, the wheel and overflow cancel alike", () => {
    const wheel = new TimerWheel({ levels: 1 });
    wheel.advance(10);
    const ids = [
      wheel.schedule(10.5, () => {}),
      wheel.schedule(30, () => {}),
      wheel.schedule(1e6, () => {}),
    ];
    assertEquals(wheel.stats().overflow, 1);
    for (const id of ids) assertEquals(wheel.cancel(id), true);
    assertEquals(wheel.size, 0);
    assertEquals(wheel.nextDeadline(), Infinity);
    assertEquals(wheel.advance(2e6), 0);
  });
});

Deno.test("TimerWheel periodic timers do not drift over 1e6 periods", () => {
  const wheel = new TimerWheel();
  const period = 0.1; // not exactly representable: repeated addition would drift
  const first = 0.1;
  let k = 0;
  let mismatches = 0;
  wheel.schedule(first, (deadline) => {
    if (deadline !== first + k * period) mismatches++;
    k++;
  }, { periodMs: period, missedTicks: "burst" });
  for (let t = 1000; t <= 100_000; t += 1000) wheel.advance(t);
  assertEquals(mismatches, 0);
  let expected = 0;
  while (first + expected * period <= 100_000) expected++;
  assertEquals(k, expected);
  assert(k >= 999_999);
  let naive = first;
  for (let i = 1; i < k; i++) naive += period;
  // The naive chain has drifted by now; ours has not.
  assert(naive !== first + (k - 1) * period);
});

Deno.test("TimerWheel applies each missed-tick policy after a stall", async (t) => {
  const cases = [
    { policy: "burst", deadlines: [10, 20, 30, 40, 50], next: 60, skipped: 0 },
    { policy: "delay", deadlines: [10, 20], next: 65, skipped: 0 },
    { policy: "skip", deadlines: [10, 20], next: 60, skipped: 3 },
  ] as const;
  for (const c of cases) {
    await t.step(c.policy, () => {
      const wheel = new TimerWheel();
      const seen: number[] = [];
      const id = wheel.schedule(10, (d) => void seen.push(d), {
        periodMs: 10,
        missedTicks: c.policy,
      });
      wheel.advance(10);
      wheel.advance(55); // stalled from 10 to 55
      assertEquals(seen, [...c.deadlines]);
      assertEquals(wheel.deadlineOf(id), c.next);
      assertEquals(wheel.stats().skippedTicks, c.skipped);
    });
  }

  await t.step("skip lands on a deadline equal to now and fires it", () => {
    const wheel = new TimerWheel();
    const seen: number[] = [];
    wheel.schedule(10, (d) => void seen.push(d), { periodMs: 10, missedTicks: "skip" });
    wheel.advance(50);
    assertEquals(seen, [10, 50]);
    assertEquals(wheel.stats().skippedTicks, 3);
  });
});

Deno.test("TimerWheel supports re-entrant scheduling from callbacks", () => {
  const wheel = new TimerWheel();
  const { fired, at } = recorder();
  wheel.schedule(10, () => {
    fired.push("a");
    wheel.schedule(5, at("past")); // already due: fires in this advance, next
    wheel.schedule(10, at("same")); // same deadline: after everything already queued for 10
    wheel.schedule(15, at("later"));
    wheel.schedule(1000, at("beyond"));
  });
  wheel.schedule(10, at("b"));
  wheel.schedule(12, at("c"));
  wheel.advance(20);
  assertEquals(fired, ["a", "past", "b", "same", "c", "later"]);
  assertEquals(wheel.nextDeadline(), 1000);
});

Deno.test("TimerWheel.advance() from inside a callback is rejected", () => {
  const wheel = new TimerWheel({ onError: () => {} });
  let error: unknown;
  wheel.schedule(1, () => {
    try {
      wheel.advance(2);
    } catch (e) {
      error = e;
    }
  });
  wheel.advance(1);
  assert(error instanceof Error);
  assertEquals(error.message, "Cannot advance the TimerWheel from inside one of its callbacks");
});

Deno.test("TimerWheel contains a throwing callback and counts it", () => {
  const errors: unknown[] = [];
  const wheel = new TimerWheel({ onError: (e) => void errors.push(e) });
  const { fired, at } = recorder();
  wheel.schedule(1, () => {
    throw new Error("boom");
  });
  wheel.schedule(1, at("next"));
  let periodic = 0;
  wheel.schedule(2, () => {
    periodic++;
    throw new Error("again");
  }, { periodMs: 1, missedTicks: "burst" });
  wheel.advance(5);
  assertEquals(fired, ["next"]);
  assertEquals(periodic, 4);
  assertEquals(wheel.stats().callbackErrors, 5);
  assertEquals(errors.length, 5);
  assertEquals((errors[0] as Error).message, "boom");
  assertEquals(wheel.size, 1);
});

Deno.test("TimerWheel logs callback errors to its logger without an onError: the 1st, then every 1000th", () => {
  const logger = recordingLogger();
  const wheel = new TimerWheel({ logger, name: "io" });
  const id = wheel.schedule(1, () => {
    throw new RangeError("out of range");
  }, { periodMs: 1, missedTicks: "burst" });
  wheel.advance(2000);
  assertEquals(wheel.callbackErrors, 2000);
  assertEquals(logger.lines.length, 3);
  const [first, second, third] = logger.lines;
  assert(
    first!.startsWith(
      `error: Timer callback of "io" threw (timer ${id}, 1 callback errors so far): RangeError: out of range\n`,
    ),
  );
  assert(second!.includes("(timer " + id + ", 1000 callback errors so far)"));
  assert(third!.includes(", 2000 callback errors so far)"));
  assertThrows(
    () => new TimerWheel({ logger: {} as unknown as typeof logger }),
    TypeError,
    "Cannot create a TimerWheel as 'logger' must be a Logger with error, warn and info methods: current value is {}",
  );
  assertThrows(() => new TimerWheel({ name: "" }), TypeError, "'name'");
});

Deno.test("TimerWheel reuses its entries: no growth in steady state", () => {
  const wheel = new TimerWheel({ initialCapacity: 64 });
  for (let round = 0; round < 1000; round++) {
    const ids = [];
    for (let i = 0; i < 64; i++) ids.push(wheel.schedule(round + i, () => {}));
    for (const id of ids) wheel.cancel(id);
  }
  assertEquals(wheel.stats().capacity, 64);
  for (let i = 0; i < 65; i++) wheel.schedule(i, () => {});
  assertEquals(wheel.stats().capacity, 128);
});

Deno.test("TimerWheel rejects bad input with clear errors", () => {
  const wheel = new TimerWheel();
  const noop = () => {};
  assertThrows(
    () => wheel.schedule(NaN, noop),
    RangeError,
    "Cannot schedule a timer as 'deadlineMs' must be a finite number: current value is NaN",
  );
  assertThrows(() => wheel.schedule(Infinity, noop), RangeError, "'deadlineMs'");
  assertThrows(() => wheel.schedule("5" as unknown as number, noop), TypeError, "'deadlineMs'");
  assertThrows(
    () => wheel.schedule(1, "nope" as unknown as () => void),
    TypeError,
    "Cannot schedule a timer as 'callback' must be a function: current value is \"nope\"",
  );
  assertThrows(
    () => wheel.schedule(1, noop, { periodMs: 0 }),
    RangeError,
    "Cannot schedule a timer as 'periodMs' must be > 0: current value is 0",
  );
  assertThrows(() => wheel.schedule(1, noop, { periodMs: -1 }), RangeError, "'periodMs'");
  assertThrows(() => wheel.schedule(1, noop, { periodMs: NaN }), RangeError, "'periodMs'");
  assertThrows(
    () => wheel.schedule(1, noop, { periodMs: 1, missedTicks: "catch-up" as "skip" }),
    TypeError,
    `'missedTicks' must be one of "burst", "delay", "skip"`,
  );
  assertThrows(() => wheel.advance(NaN), RangeError, "'now'");
  assertThrows(() => new TimerWheel({ tickMs: 0 }), RangeError, "'tickMs' must be > 0");
  assertThrows(() => new TimerWheel({ levels: 9 }), RangeError, "'levels' must be an integer");
  assertThrows(() => new TimerWheel({ initialCapacity: 0 }), RangeError, "'initialCapacity'");
  assertEquals(wheel.size, 0);
});

/** Reference model: a sorted list, the obvious correct implementation. */
class ReferenceTimers {
  entries: {
    id: number;
    deadline: number;
    seq: number;
    period: number;
    base: number;
    k: number;
  }[] = [];
  #seq = 0;
  add(id: number, deadline: number, period: number) {
    this.entries.push({ id, deadline, seq: this.#seq++, period, base: deadline, k: 0 });
  }
  cancel(id: number): boolean {
    const i = this.entries.findIndex((e) => e.id === id);
    if (i < 0) return false;
    this.entries.splice(i, 1);
    return true;
  }
  next(): number {
    return this.entries.reduce((m, e) => Math.min(m, e.deadline), Infinity);
  }
  advance(now: number, out: number[]) {
    for (;;) {
      let best = -1;
      for (let i = 0; i < this.entries.length; i++) {
        const e = this.entries[i]!;
        if (e.deadline > now) continue;
        const b = this.entries[best];
        if (
          b === undefined || e.deadline < b.deadline || (e.deadline === b.deadline && e.seq < b.seq)
        ) {
          best = i;
        }
      }
      if (best < 0) return;
      const e = this.entries[best]!;
      out.push(e.id);
      if (e.period > 0) {
        e.k++;
        e.deadline = e.base + e.k * e.period;
        e.seq = this.#seq++;
      } else {
        this.entries.splice(best, 1);
      }
    }
  }
}

Deno.test("TimerWheel matches a sorted-list reference model over 100,000 random operations", () => {
  for (const seed of testSeeds([1, 20261121, 987654321])) {
    const random = mulberry32(seed);
    const wheel = new TimerWheel({ levels: 3, tickMs: 0.5, initialCapacity: 16 });
    const model = new ReferenceTimers();
    const fired: number[] = [];
    const expected: number[] = [];
    const live: number[] = [];
    let now = 0;
    let periodic = 0;
    try {
      for (let op = 0; op < 100_000; op++) {
        const r = random();
        if (r < 0.5) {
          // Spread deadlines over every level and the overflow list.
          const scale = [2, 40, 3000, 200_000, 5_000_000][Math.floor(random() * 5)]!;
          const deadline = now - 1 + Math.floor(random() * scale * 8) / 8;
          // A few periodic timers (bounded, so big jumps stay cheap).
          const period = random() < 0.02 && periodic < 16 ? 50 + Math.floor(random() * 400) / 4 : 0;
          if (period > 0) periodic++;
          let id = 0;
          id = wheel.schedule(deadline, () => void fired.push(id), {
            periodMs: period || undefined,
            missedTicks: "burst",
          });
          model.add(id, deadline, period);
          live.push(id);
        } else if (r < 0.7 && live.length > 0) {
          const idx = Math.floor(random() * live.length);
          const id = live[idx]!;
          live.splice(idx, 1);
          assertEquals(wheel.cancel(id), model.cancel(id), `cancel at op ${op}`);
        } else {
          const step = random() < 0.99 ? random() * 20 : random() * 300_000;
          now += step;
          wheel.advance(now);
          model.advance(now, expected);
          assertEquals(fired.length, expected.length, `fire count at op ${op}`);
        }
        if (op % 97 === 0) assertEquals(wheel.nextDeadline(), model.next(), `next at op ${op}`);
        assertEquals(wheel.size, model.entries.length, `size at op ${op}`);
      }
      assertEquals(fired, expected);
    } catch (error) {
      fail(`Reference model mismatch with CHRONETIX_SEED=${seed}: ${error}`);
    }
  }
});
