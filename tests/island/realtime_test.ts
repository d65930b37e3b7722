import { assertEquals, assertStringIncludes } from "@std/assert";
import { enterScheduling, type RealtimeSystem } from "../../src/island/_realtime.ts";

/** A system that records what it was asked. */
function fakeSystem(
  over: Partial<RealtimeSystem> = {},
): RealtimeSystem & { asked: number[] } {
  const asked: number[] = [];
  return {
    os: "linux",
    ffi: () => "granted",
    setFifo(priority) {
      asked.push(priority);
      return 0;
    },
    ...over,
    asked,
  };
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
  const cases: [Partial<RealtimeSystem>, string][] = [
    [{ os: "darwin" }, "on Linux only: this is darwin"],
    [{ ffi: () => "prompt" }, "needs --allow-ffi: the permission is prompt"],
    [{ ffi: () => "denied" }, "the permission is denied"],
    [
      { setFifo: () => 1 },
      "refused (EPERM): it needs root, CAP_SYS_NICE or an RLIMIT_RTPRIO of at least 10",
    ],
    [{ setFifo: () => 22 }, "failed with errno 22"],
    [{
      setFifo: () => {
        throw new Error("libc.so.6: cannot open shared object file");
      },
    }, "cannot call sched_setscheduler (libc.so.6: cannot open"],
    [{
      ffi: () => {
        throw new Error("no permissions API");
      },
    }, "cannot query the ffi permission (no permissions API)"],
  ];
  for (const [over, cause] of cases) {
    const auto = fakeSystem(over);
    assertEquals(enterScheduling("auto", 10, auto), { state: "normal", error: undefined });
    const explicit = fakeSystem(over);
    const outcome = enterScheduling("realtime", 10, explicit);
    assertEquals(outcome.state, "normal");
    assertStringIncludes(outcome.error ?? "", cause);
    assertEquals(explicit.asked.length, 0, "a throwing or failing setFifo records nothing");
  }
});
