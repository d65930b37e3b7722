import { assertEquals, assertThrows } from "@std/assert";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { Driver } from "../../src/time/driver.ts";
import { Supervisor } from "../../src/plugin/supervisor.ts";
import { backoffDelay, mulberry32 } from "../../src/plugin/_backoff.ts";

const CRASH = { normal: false, reason: "crashed" };
const CLEAN = { normal: true, reason: "done" };

function setup(random: (() => number) | undefined = () => 0.5) {
  const clock = new VirtualClock();
  const driver = new Driver({ clock });
  const supervisor = new Supervisor({ driver, random });
  const restarts: number[] = [];
  const restart = () => void restarts.push(clock.now());
  return { clock, driver, supervisor, restarts, restart };
}

Deno.test("Supervisor: exponential backoff, capped, restarts fire on the driver", () => {
  const { clock, supervisor, restarts, restart, driver } = setup();
  supervisor.add("a", {
    maxRetries: 10,
    backoffInitialMs: 10,
    backoffMultiplier: 3,
    backoffMaxMs: 200,
  });
  const delays: number[] = [];
  for (let i = 0; i < 5; i++) {
    const d = supervisor.exited("a", CRASH, restart);
    if (d.action !== "restart") throw new Error(d.action);
    delays.push(d.delayMs);
    clock.advance(d.delayMs);
  }
  assertEquals(delays, [10, 30, 90, 200, 200]);
  assertEquals(restarts, [10, 40, 130, 330, 530]);
  assertEquals(supervisor.child("a")!.restarts, 5);
  driver.close();
});

Deno.test("Supervisor: seeded jitter is reproducible and within ± ratio", () => {
  const run = (seed: number) => {
    const { supervisor, clock, restart, driver } = setup(mulberry32(seed));
    supervisor.add("a", {
      maxRetries: 50,
      backoffInitialMs: 100,
      backoffMultiplier: 1,
      backoffJitterRatio: 0.2,
    });
    const out: number[] = [];
    for (let i = 0; i < 20; i++) {
      const d = supervisor.exited("a", CRASH, restart);
      if (d.action !== "restart") throw new Error(d.action);
      out.push(d.delayMs);
      clock.advance(d.delayMs);
    }
    driver.close();
    return out;
  };
  const a = run(42);
  assertEquals(run(42), a);
  assertEquals(a.every((d) => d >= 80 && d <= 120), true);
  assertEquals(new Set(a).size > 1, true);
  assertEquals(JSON.stringify(run(43)) === JSON.stringify(a), false);
  // The default source is seeded too: two supervisors agree.
  const d1 = new Supervisor({ driver: new Driver({ clock: new VirtualClock() }), seed: 7 });
  const d2 = new Supervisor({ driver: new Driver({ clock: new VirtualClock() }), seed: 7 });
  d1.add("x", { backoffJitterRatio: 1 });
  d2.add("x", { backoffJitterRatio: 1 });
  const x1 = d1.exited("x", CRASH, () => {});
  const x2 = d2.exited("x", CRASH, () => {});
  assertEquals(x1, x2);
  d1.close();
  d2.close();
});

Deno.test("Supervisor: intensity — at most maxRetries restarts within retryWindowMs, then give up", () => {
  const { clock, supervisor, restart, driver } = setup();
  supervisor.add("a", {
    maxRetries: 2,
    retryWindowMs: 1000,
    backoffInitialMs: 10,
    backoffMultiplier: 1,
    autoUnloadFailed: true,
    escalate: true,
  });
  assertEquals(supervisor.exited("a", CRASH, restart).action, "restart");
  clock.advance(10);
  assertEquals(supervisor.exited("a", CRASH, restart).action, "restart");
  clock.advance(10);
  assertEquals(supervisor.exited("a", CRASH, restart), {
    action: "give-up",
    unload: true,
    escalate: true,
    restartsInWindow: 2,
    reason: "2 restarts within 1000 ms (maxRetries 2)",
  });
  // Outside the window, restarts are allowed again.
  clock.advance(1000);
  assertEquals(supervisor.exited("a", CRASH, restart).action, "restart");
  assertEquals(supervisor.stats().giveUps, 1);
  supervisor.add("zero", { maxRetries: 0 });
  assertEquals(supervisor.exited("zero", CRASH, restart).action, "give-up");
  driver.close();
});

Deno.test("Supervisor: a clean run of resetAfterMs starts the backoff over", () => {
  const { clock, supervisor, restart, driver } = setup();
  supervisor.add("a", {
    maxRetries: 3,
    backoffInitialMs: 10,
    backoffMultiplier: 2,
    resetAfterMs: 500,
    retryWindowMs: 100_000,
  });
  const delay = () => {
    const d = supervisor.exited("a", CRASH, restart);
    if (d.action !== "restart") throw new Error(d.action);
    clock.advance(d.delayMs);
    return d.delayMs;
  };
  assertEquals([delay(), delay(), delay()], [10, 20, 40]);
  supervisor.started("a");
  clock.advance(499); // not long enough: intensity spent
  assertEquals(supervisor.exited("a", CRASH, restart).action, "give-up");
  supervisor.started("a");
  clock.advance(500); // long enough: all over again
  assertEquals(delay(), 10);
  assertEquals(supervisor.child("a")!.resets, 1);
  assertEquals(supervisor.child("a")!.attempt, 1);
  driver.close();
});

Deno.test("Supervisor: permanent, transient and temporary restart types", () => {
  const { supervisor, restart, driver } = setup();
  supervisor.add("perm", { restartType: "permanent" });
  supervisor.add("trans", { restartType: "transient", autoUnloadFailed: true });
  supervisor.add("temp", { restartType: "temporary", autoUnloadFailed: true });
  supervisor.add("off", { restartEnabled: false });
  assertEquals(supervisor.exited("perm", CLEAN, restart).action, "restart");
  assertEquals(supervisor.exited("perm", CRASH, restart).action, "restart");
  assertEquals(supervisor.exited("trans", CLEAN, restart), {
    action: "none",
    reason: "transient-normal-exit",
    unload: false,
  });
  assertEquals(supervisor.exited("trans", CRASH, restart).action, "restart");
  assertEquals(supervisor.exited("temp", CRASH, restart), {
    action: "none",
    reason: "temporary",
    unload: true,
  });
  assertEquals(supervisor.exited("temp", CLEAN, restart), {
    action: "none",
    reason: "temporary",
    unload: false,
  });
  assertEquals(supervisor.exited("off", CRASH, restart), {
    action: "none",
    reason: "restart-disabled",
    unload: false,
  });
  assertEquals(supervisor.exited("unknown", CRASH, restart).action, "none");
  driver.close();
});

Deno.test("Supervisor: cancel, remove and close stop pending restarts", () => {
  const { clock, supervisor, restarts, restart, driver } = setup();
  supervisor.add("a", { backoffInitialMs: 10 });
  supervisor.add("b", { backoffInitialMs: 10 });
  supervisor.add("c", { backoffInitialMs: 10 });
  supervisor.exited("a", CRASH, restart);
  supervisor.exited("b", CRASH, restart);
  supervisor.exited("c", CRASH, restart);
  assertEquals(supervisor.stats().pending, 3);
  assertEquals(supervisor.cancel("a"), true);
  assertEquals(supervisor.remove("b"), true);
  assertEquals(supervisor.remove("b"), false);
  supervisor.close();
  clock.advance(100);
  assertEquals(restarts, []);
  assertEquals(supervisor.exited("c", CRASH, restart).action, "none");
  driver.close();
});

Deno.test("Supervisor checks its options and policies", () => {
  assertThrows(() => new Supervisor({} as never), TypeError, "'driver' must be a Driver");
  const { supervisor, driver } = setup();
  assertThrows(() => supervisor.add("a", { maxRetries: -1 }), RangeError, "'policy.maxRetries'");
  assertThrows(
    () => supervisor.add("a", { backoffMultiplier: 0.5 }),
    RangeError,
    "'policy.backoffMultiplier'",
  );
  assertThrows(
    () => supervisor.add("a", { backoffJitterRatio: 2 }),
    RangeError,
    "'policy.backoffJitterRatio'",
  );
  assertThrows(
    () => supervisor.add("a", { backoffInitialMs: 100, backoffMaxMs: 10 }),
    RangeError,
    "'policy.backoffMaxMs'",
  );
  assertThrows(
    () => supervisor.add("a", { restartType: "sometimes" as never }),
    TypeError,
    "'policy.restartType'",
  );
  assertThrows(() => supervisor.add("", {}), TypeError, "'name'");
  assertThrows(() => supervisor.exited("a", null as never, () => {}), TypeError, "'exit'");
  driver.close();
});

Deno.test("backoffDelay clamps a hostile random source", () => {
  const policy = {
    backoffInitialMs: 100,
    backoffMaxMs: 150,
    backoffMultiplier: 2,
    backoffJitterRatio: 0.5,
  };
  for (const r of [NaN, -1, 2, Infinity]) {
    const d = backoffDelay(policy, 0, () => r);
    assertEquals(d >= 0 && d <= 150, true);
  }
  assertEquals(backoffDelay({ ...policy, backoffInitialMs: 0 }, 1e9, () => 0.5), 0);
  assertEquals(backoffDelay(policy, 1e9, () => 0.5), 150);
});
