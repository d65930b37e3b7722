import { assert, assertEquals, assertStrictEquals, assertThrows, fail } from "@std/assert";
import { MAX_BURST_TICKS, MIN_PERIOD_MS, TimerWheel } from "../../src/time/timer_wheel.ts";
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

Deno.test("TimerWheel: inside its callback a periodic timer is pending at its next deadline, and can be cancelled or cleared", async (t) => {
  await t.step("has(), deadlineOf() and nextDeadline() see the next deadline", () => {
    const wheel = new TimerWheel();
    const seen: [boolean, number, number][] = [];
    wheel.schedule(50, () => {}); // later than the periodic timer's next deadline
    const id = wheel.schedule(10, () => {
      seen.push([wheel.has(id), wheel.deadlineOf(id), wheel.nextDeadline()]);
    }, { periodMs: 7 });
    wheel.advance(10);
    wheel.advance(17);
    assertEquals(seen, [[true, 17, 17], [true, 24, 24]]);
    assertEquals(wheel.nextDeadline(), 24);
  });

  await t.step("cancelling itself stops it, and a timer reusing its entry is kept", () => {
    const wheel = new TimerWheel({ initialCapacity: 1 });
    const { fired, at } = recorder();
    let fresh = 0;
    const id = wheel.schedule(1, () => {
      fired.push("periodic");
      assertEquals(wheel.cancel(id), true);
      assertEquals(wheel.has(id), false);
      fresh = wheel.schedule(3, at("fresh")); // reuses the entry just freed
    }, { periodMs: 1 });
    wheel.advance(1);
    assertEquals(id % 2 ** 26, fresh % 2 ** 26);
    assertEquals([wheel.size, wheel.deadlineOf(fresh), wheel.nextDeadline()], [1, 3, 3]);
    wheel.advance(10);
    assertEquals(fired, ["periodic", "fresh"]);
    assertEquals(wheel.size, 0);
  });

  await t.step("clear() from inside it leaves nothing pending", () => {
    const wheel = new TimerWheel();
    let runs = 0;
    wheel.schedule(1, () => {
      runs++;
      wheel.clear();
    }, { periodMs: 1 });
    wheel.schedule(5, () => runs++);
    wheel.advance(1);
    assertEquals([wheel.size, wheel.nextDeadline()], [0, Infinity]);
    wheel.advance(10);
    assertEquals(runs, 1);
  });
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
    "Cannot schedule a timer as 'periodMs' must be >= 0.001 (MIN_PERIOD_MS): current value is 0",
  );
  assertThrows(() => wheel.schedule(1, noop, { periodMs: -1 }), RangeError, "'periodMs'");
  assertThrows(() => wheel.schedule(1, noop, { periodMs: NaN }), RangeError, "'periodMs'");
  assertThrows(
    () => wheel.schedule(1, noop, { periodMs: 1, missedTicks: "catch-up" as "skip" }),
    TypeError,
    `'missedTicks' must be one of "burst", "delay", "skip"`,
  );
  assertThrows(() => wheel.advance(NaN), RangeError, "'now'");
  assertThrows(
    () => new TimerWheel({ tickMs: 0 }),
    RangeError,
    "'tickMs' must be in [0.001, 3600000]",
  );
  assertThrows(() => new TimerWheel({ tickMs: 3_600_001 }), RangeError, "'tickMs'");
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

// --- issue 10: reliability ---------------------------------------------------

/** Lets promise reactions and one macrotask turn run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

Deno.test("TimerWheel counts and reports a callback that returns a rejected promise like a throw", async () => {
  const errors: [unknown, number][] = [];
  const wheel = new TimerWheel({ onError: (error, id) => void errors.push([error, id]) });
  const { fired, at } = recorder();
  const failing = wheel.schedule(1, () => Promise.reject(new Error("async boom")));
  wheel.schedule(1, async () => {
    await null;
    throw new RangeError("later");
  });
  wheel.schedule(2, at("next"));
  wheel.advance(5);
  await settle();
  assertEquals(fired, ["next"]);
  assertEquals(wheel.callbackErrors, 2);
  assertEquals(wheel.stats().callbackErrors, 2);
  assertEquals(errors.map(([e]) => (e as Error).message), ["async boom", "later"]);
  assertEquals(errors[0]![1], failing);
  // A promise that fulfils is no error.
  wheel.schedule(6, () => Promise.resolve(5));
  wheel.advance(6);
  await settle();
  assertEquals(wheel.callbackErrors, 2);
});

Deno.test("TimerWheel logs callback errors through its logger at most once a second of its time", async () => {
  const logger = recordingLogger();
  const wheel = new TimerWheel({ logger, name: "io" });
  const id = wheel.schedule(1, () => {
    throw new RangeError("out of range");
  }, { periodMs: 1 });
  for (let t = 1; t <= 2000; t++) wheel.advance(t);
  assertEquals(wheel.callbackErrors, 2000);
  assertEquals(logger.lines.length, 2); // at 1 ms and at 1001 ms
  const [first, second] = logger.lines;
  assert(
    first!.startsWith(
      `error: Timer callback of "io" threw (timer ${id}, 1 callback errors so far): RangeError: out of range\n`,
    ),
  );
  assert(second!.includes(`(timer ${id}, 1001 callback errors so far)`), second);
  assert(second!.endsWith("(999 similar lines not logged)"), second);
  wheel.cancel(id);
  wheel.schedule(3500, () => Promise.reject("no stack"));
  wheel.advance(3500);
  await settle();
  assertEquals(wheel.callbackErrors, 2001);
  assertEquals(logger.lines.length, 3);
  assert(logger.lines[2]!.startsWith(`error: Timer callback of "io" rejected (timer `));
  assert(logger.lines[2]!.includes("2001 callback errors so far): no stack"), logger.lines[2]);
  assertThrows(
    () => new TimerWheel({ logger: {} as unknown as typeof logger }),
    TypeError,
    "Cannot create a TimerWheel as 'logger' must be a Logger with error, warn and info methods: current value is {}",
  );
  assertThrows(() => new TimerWheel({ name: "" }), TypeError, "'name'");
});

Deno.test("TimerWheel.schedule() rejects periods below MIN_PERIOD_MS or too small to advance the deadline", () => {
  assertEquals(MIN_PERIOD_MS, 0.001);
  const wheel = new TimerWheel();
  const noop = () => {};
  for (const periodMs of [1e-12, 1e-300, 0.000999, 0, -1]) {
    assertThrows(
      () => wheel.schedule(1, noop, { periodMs }),
      RangeError,
      `Cannot schedule a timer as 'periodMs' must be >= 0.001 (MIN_PERIOD_MS): current value is ${periodMs}`,
    );
  }
  // 1e15 + 0.01 rounds back to 1e15: the timer would never leave its deadline.
  assertThrows(
    () => wheel.schedule(1e15, noop, { periodMs: 0.01 }),
    RangeError,
    "'periodMs' must be large enough to advance the time 1000000000000000",
  );
  // 4e15 + 0.1 === 4e15 as well; -1e308 is outside the wheel's range altogether.
  assertThrows(() => wheel.schedule(4e15, noop, { periodMs: 0.1 }), RangeError, "'periodMs'");
  assertThrows(
    () => wheel.schedule(-1e308, noop, { periodMs: 0.5, missedTicks: "burst" }),
    RangeError,
    "'deadlineMs'",
  );
  assertEquals(wheel.size, 0);
  wheel.schedule(1e15, noop, { periodMs: 0.25 });
  assertEquals(wheel.size, 1);
});

Deno.test("TimerWheel periodic timers always move forward, even where floating point cannot add the period", () => {
  for (const policy of ["skip", "delay", "burst"] as const) {
    const wheel = new TimerWheel();
    const deadlines: number[] = [];
    const id = wheel.schedule(0, (d) => void deadlines.push(d), {
      periodMs: 0.1,
      missedTicks: policy,
    });
    // 3e15 + 0.1 === 3e15: the k-th deadline stops moving once k * 0.1 is
    // below the spacing of doubles there.
    wheel.advance(3e15);
    assert(deadlines.length <= MAX_BURST_TICKS + 2, `${policy}: ${deadlines.length} fires`);
    for (let i = 1; i < deadlines.length; i++) {
      assert(deadlines[i]! > deadlines[i - 1]!, `${policy}: deadlines must increase`);
    }
    assert(wheel.deadlineOf(id) > 3e15, policy);
    assertEquals(wheel.nextDeadline(), wheel.deadlineOf(id));
    wheel.advance(3e15 + 10);
    assert(wheel.deadlineOf(id) > 3e15 + 10, policy);
  }
});

Deno.test("TimerWheel bounds a burst catch-up to MAX_BURST_TICKS and counts the rest as skipped", () => {
  const wheel = new TimerWheel();
  let fires = 0;
  let last = NaN;
  const id = wheel.schedule(0, (d) => {
    fires++;
    last = d;
  }, { periodMs: 0.001, missedTicks: "burst" });
  wheel.advance(1e9); // 1e12 ticks behind: unbounded, this would never return
  assertEquals(fires, MAX_BURST_TICKS + 1); // the tick at 0, then the last MAX_BURST_TICKS
  assertEquals(last, 1e9);
  const skipped = wheel.skippedTicks;
  assertEquals(fires + skipped, 1e12 + 1);
  assert(wheel.deadlineOf(id) > 1e9);
  // A burst within the bound runs every tick.
  const small = new TimerWheel();
  let n = 0;
  small.schedule(0, () => void n++, { periodMs: 1, missedTicks: "burst" });
  small.advance(MAX_BURST_TICKS);
  assertEquals([n, small.skippedTicks], [MAX_BURST_TICKS + 1, 0]);
});

Deno.test("TimerWheel rejects deadlines beyond its range and ticks too fine to count", () => {
  const wheel = new TimerWheel({ tickMs: 1 });
  assertEquals([wheel.minDeadlineMs, wheel.maxDeadlineMs], [-(2 ** 52), 2 ** 52]);
  assertThrows(
    () => wheel.schedule(1e308, () => {}),
    RangeError,
    "Cannot schedule a timer as 'deadlineMs' must be in [-4503599627370496, 4503599627370496] (2^52 ticks either side of the wheel's origin): current value is 1e+308",
  );
  assertThrows(() => wheel.schedule(-1e308, () => {}), RangeError, "'deadlineMs'");
  wheel.schedule(2 ** 52, () => {});
  wheel.schedule(-(2 ** 52), () => {});
  wheel.schedule(2 ** 52 - 0.5, () => {}, { periodMs: 1, missedTicks: "burst" });
  // The periodic one fires at 2^52 - 0.5 and 2^52, then leaves the range and ends.
  assertEquals(wheel.advance(1e308), 4);
  assertEquals(wheel.size, 0);
  const shifted = new TimerWheel({ origin: 1e6, tickMs: 0.5 });
  assertEquals(shifted.maxDeadlineMs, 1e6 + 2 ** 51);
  assertThrows(
    () => new TimerWheel({ tickMs: 1e-300 }),
    RangeError,
    "Cannot create a TimerWheel as 'tickMs' must be in [0.001, 3600000]: current value is 1e-300",
  );
  // A periodic timer whose next deadline leaves the range ends.
  const edge = new TimerWheel();
  const id = edge.schedule(2 ** 52 - 1, () => {}, { periodMs: 10 });
  edge.advance(2 ** 52);
  assertEquals([edge.has(id), edge.size], [false, 0]);
});

Deno.test("TimerWheel.cancel() ignores the id of another wheel", () => {
  const a = new TimerWheel();
  const b = new TimerWheel();
  const { fired, at } = recorder();
  const idB = b.schedule(10, at("b"));
  const idA = a.schedule(10, at("a"));
  assertEquals(b.cancel(idA), false);
  assertEquals([b.has(idA), b.deadlineOf(idA)], [false, NaN]);
  assertEquals(a.cancel(idB), false);
  assertEquals([b.has(idB), a.has(idA)], [true, true]);
  // Wheels used in step, slot for slot and generation for generation.
  const wheels = Array.from({ length: 50 }, () => new TimerWheel({ initialCapacity: 4 }));
  for (let round = 0; round < 20; round++) {
    const ids = wheels.map((w) => w.schedule(round, () => {}));
    for (let i = 0; i < wheels.length; i++) {
      for (let j = 0; j < wheels.length; j++) {
        if (i !== j) assertEquals(wheels[i]!.has(ids[j]!), false);
      }
    }
    for (const w of wheels) w.advance(round);
  }
  b.advance(10);
  a.advance(10);
  assertEquals(fired, ["b", "a"]);
});

Deno.test("TimerWheel rejects hostile options and arguments with errors naming them", () => {
  const noop = () => {};
  assertThrows(
    () => new TimerWheel(null as unknown as undefined),
    TypeError,
    "Cannot create a TimerWheel as 'options' must be an object: current value is null",
  );
  assertThrows(() => new TimerWheel(5 as unknown as undefined), TypeError, "'options'");
  assertThrows(() => new TimerWheel({ name: 5 as unknown as string }), TypeError, "'name'");
  assertThrows(() => new TimerWheel({ logger: 5 as unknown as undefined }), TypeError, "'logger'");
  assertThrows(
    () => new TimerWheel({ tickMs: Symbol("x") as unknown as number }),
    TypeError,
    "Cannot create a TimerWheel as 'tickMs' must be a finite number: current value is Symbol(x)",
  );
  assertThrows(() => new TimerWheel({ levels: 10n as unknown as number }), TypeError, "'levels'");
  const wheel = new TimerWheel();
  assertThrows(
    () => wheel.schedule(1, noop, null as unknown as undefined),
    TypeError,
    "Cannot schedule a timer as 'options' must be an object: current value is null",
  );
  assertThrows(() => wheel.schedule(1n as unknown as number, noop), TypeError, "'deadlineMs'");
  assertThrows(
    () => wheel.schedule(1, noop, { periodMs: Symbol() as unknown as number }),
    TypeError,
    "'periodMs'",
  );
  assertThrows(() => wheel.advance(Symbol() as unknown as number), TypeError, "'now'");
  for (const id of [null, undefined, "1", Symbol(), 5n, {}, -0]) {
    assertEquals(wheel.cancel(id as unknown as number), false);
    assertEquals(wheel.has(id as unknown as number), false);
    assertEquals(wheel.deadlineOf(id as unknown as number), NaN);
  }
  assertEquals(wheel.size, 0);
});

Deno.test("TimerWheel contains a throwing onSchedule hook: the timer stays scheduled and the caller gets its id", () => {
  const errors: unknown[] = [];
  const wheel = new TimerWheel({
    onSchedule: () => {
      throw new Error("hook");
    },
    onError: (e) => void errors.push(e),
  });
  let fired = 0;
  const id = wheel.schedule(1, () => void fired++);
  assertEquals(wheel.has(id), true);
  assertEquals((errors[0] as Error).message, "hook");
  wheel.advance(1);
  assertEquals(fired, 1);
});

Deno.test("fireAhead: the wheel's work first, each callback at its deadline on the clock, never before", () => {
  const wheel = new TimerWheel();
  let t = 0;
  const reads: number[] = [];
  const clock = { now: () => (reads.push(t), t += 0.25, t - 0.25) };
  const seen: [string, number][] = [];
  wheel.schedule(1, () => void seen.push(["a", t]));
  const b = wheel.schedule(2, (deadline) => {
    seen.push(["b", t]);
    // A timer scheduled inside, due before `until`: fired in the same call, at its deadline too.
    wheel.schedule(deadline + 0.5, () => void seen.push(["c", t]));
  }, { periodMs: 10 });
  wheel.schedule(3, () => void seen.push(["d", t]));
  assertEquals(wheel.fireAhead(2.5, clock), 3);
  assertEquals(seen.map(([name]) => name), ["a", "b", "c"]);
  for (const [name, at] of seen) {
    const deadline = { a: 1, b: 2, c: 2.5 }[name]!;
    assert(at >= deadline && at <= deadline + 0.25, `${name} at ${at}`);
  }
  // The periodic timer re-armed, the later one untouched; a plain advance holds nothing.
  assertEquals([wheel.size, wheel.nextDeadline(), wheel.deadlineOf(b)], [2, 3, 12]);
  t = 100;
  reads.length = 0;
  assertEquals(wheel.advance(3), 1);
  assertEquals(reads.length, 0);
  assertEquals(seen.at(-1), ["d", 100]);
});

Deno.test("fireAhead refuses a bad or stepped clock before it fires anything, and a call from a callback leaves the outer wait intact", () => {
  const wheel = new TimerWheel();
  let fired = 0;
  wheel.schedule(1, () => void fired++);
  assertThrows(() => wheel.fireAhead(1, {} as never), TypeError, "'clock' must be a Clock");
  assertThrows(() => wheel.fireAhead(1, { now: () => NaN }), TypeError, "finite number");
  assertThrows(
    () => wheel.fireAhead(1, { now: () => 0, attach: () => ({ [Symbol.dispose]() {} }) } as never),
    TypeError,
    "must move by itself",
  );
  assertEquals([fired, wheel.size], [0, 1]);

  let t = 0;
  const clock = { now: () => (t += 0.25) - 0.25 };
  const seen: number[] = [];
  wheel.schedule(2, () => {
    assertThrows(() => wheel.fireAhead(5, clock), Error, "from inside one of its callbacks");
  });
  wheel.schedule(3, () => void seen.push(t));
  assertEquals(wheel.fireAhead(3, clock), 3);
  // The timer after the refused inner call still waited for its deadline.
  assert(seen[0]! >= 3, `fired at ${seen[0]}`);
});

Deno.test("fireAhead fuzz: bad clocks and times throw before anything fires; good ones never fire a callback before its deadline", () => {
  for (const seed of testSeeds([7, 20261203])) {
    const random = mulberry32(seed);
    const wheel = new TimerWheel();
    let t = 0;
    const good = { now: () => (t += 0.01) - 0.01 };
    const bad: unknown[] = [
      undefined,
      null,
      42,
      "clock",
      {},
      { now: 5 },
      { now: () => NaN },
      { now: () => "1" },
      {
        now: () => {
          throw new Error("broken");
        },
      },
      { now: () => 0, attach: () => ({ [Symbol.dispose]() {} }) },
    ];
    const early: string[] = [];
    for (let step = 0; step < 500; step++) {
      const deadline = t + random() * 2;
      wheel.schedule(deadline, (d) => {
        if (t < d) early.push(`fired at ${t} for ${d}`);
      });
      const size = wheel.size;
      const next = wheel.nextDeadline();
      if (random() < 0.5) {
        const clock = bad[Math.floor(random() * bad.length)];
        assertThrows(() => wheel.fireAhead(t + 1, clock as never), TypeError);
        assertEquals([wheel.size, wheel.nextDeadline()], [size, next], `seed ${seed} step ${step}`);
      } else if (random() < 0.2) {
        assertThrows(() => wheel.fireAhead(random() < 0.5 ? NaN : Infinity, good), RangeError);
        assertEquals([wheel.size, wheel.nextDeadline()], [size, next], `seed ${seed} step ${step}`);
      } else {
        wheel.fireAhead(t + random(), good);
      }
    }
    assertEquals(early, [], `seed ${seed}`);
  }
});
