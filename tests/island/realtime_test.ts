import { assertEquals, assertStringIncludes } from "@std/assert";
import {
  DEFAULT_LEAD_US,
  DEFAULT_REALTIME_LEAD_US,
  defaultLeadUs,
  enterScheduling,
  type RealtimeSystem,
} from "../../src/island/_realtime.ts";

/** A two-CPU Linux thread that may have SCHED_FIFO; records the priorities asked for. */
function fakeSystem(
  over: Partial<RealtimeSystem> = {},
): RealtimeSystem & { asked: number[] } {
  const asked: number[] = [];
  const system = {
    os: "linux",
    cpus: () => 2,
    ffi: () => "granted" as const,
    setFifo: (_priority: number) => 0,
    ...over,
    asked,
  };
  const setFifo = system.setFifo;
  system.setFifo = (priority) => {
    asked.push(priority);
    return setFifo(priority);
  };
  return system;
}

Deno.test("enterScheduling() sets SCHED_FIFO at the priority asked when the thread may", () => {
  for (const mode of ["auto", "realtime"] as const) {
    const system = fakeSystem();
    assertEquals(enterScheduling(mode, 42, system), { state: "realtime", error: undefined });
    assertEquals(system.asked, [42]);
  }
});

Deno.test('enterScheduling() leaves a "normal" thread alone', () => {
  const system = fakeSystem();
  assertEquals(enterScheduling("normal", 10, system), { state: "normal", error: undefined });
  assertEquals(system.asked, []);
});

Deno.test('enterScheduling() stays normal when it cannot: silently for "auto", with the cause for "realtime"', () => {
  const fail = (errno: number) => () => errno;
  const cases: [Partial<RealtimeSystem>, string, boolean][] = [
    [{ os: "darwin" }, "on Linux only: this is darwin", false],
    [{ ffi: () => "prompt" }, "needs --allow-ffi: the permission is prompt", false],
    [{ ffi: () => "denied" }, "the permission is denied", false],
    [
      {
        ffi: () => {
          throw new Error("no permissions API");
        },
      },
      "cannot query the ffi permission (no permissions API)",
      false,
    ],
    [{ setFifo: fail(1) }, "refused (EPERM): it needs CAP_SYS_NICE", true],
    [{ setFifo: fail(22) }, "failed with errno 22", true],
    [{ setFifo: fail(-1) }, "did not take: the thread's policy is not SCHED_FIFO", true],
    [
      {
        setFifo: () => {
          throw new Error("libc.so.6: cannot open shared object file");
        },
      },
      "cannot call sched_setscheduler (libc.so.6: cannot open",
      true,
    ],
  ];
  for (const [over, cause, reached] of cases) {
    const auto = fakeSystem(over);
    assertEquals(enterScheduling("auto", 10, auto), { state: "normal", error: undefined }, cause);
    assertEquals(auto.asked, reached ? [10] : [], cause);
    const explicit = fakeSystem(over);
    const outcome = enterScheduling("realtime", 10, explicit);
    assertEquals(outcome.state, "normal", cause);
    assertStringIncludes(outcome.error ?? "", cause);
    assertEquals(explicit.asked, reached ? [10] : [], cause);
  }
});

Deno.test('enterScheduling() "auto" stays normal on one CPU; "realtime" goes there when asked', () => {
  for (const cpus of [() => 1, () => 0]) {
    const auto = fakeSystem({ cpus });
    assertEquals(enterScheduling("auto", 10, auto), { state: "normal", error: undefined });
    assertEquals(auto.asked, [], "not even tried");
  }
  const failing = fakeSystem({
    cpus: () => {
      throw new Error("unknown");
    },
  });
  assertEquals(enterScheduling("auto", 10, failing).state, "normal", "unknown counts as one");
  const explicit = fakeSystem({ cpus: () => 1 });
  assertEquals(enterScheduling("realtime", 10, explicit), { state: "realtime", error: undefined });
  assertEquals(explicit.asked, [10]);
});

Deno.test("defaultLeadUs() is the policy's default, at most maxLeadUs", () => {
  assertEquals(defaultLeadUs("realtime"), DEFAULT_REALTIME_LEAD_US);
  assertEquals(defaultLeadUs("normal"), DEFAULT_LEAD_US);
  assertEquals(defaultLeadUs("normal", 120), 120);
  assertEquals(defaultLeadUs("realtime", 120), DEFAULT_REALTIME_LEAD_US);
  assertEquals(defaultLeadUs("realtime", 40), 40);
});
