import { assert, assertEquals, assertThrows } from "@std/assert";
import { FaultMonitor } from "../../src/sovd/fault_monitor.ts";
import type { FaultCondition } from "../../src/sovd/fault_monitor.ts";
import { FaultEventLog, parseLastEventId } from "../../src/sovd/fault_log.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { recordingLogger, SILENT_LOGGER } from "../_util/logger.ts";

const EPOCH = 1_700_000_000_000;

/** A monitor on a virtual clock with one scriptable detector. */
function setup(options: { healAfterMs?: number; capacity?: number; maxFaults?: number } = {}) {
  const clock = new VirtualClock();
  const log = new FaultEventLog({ capacity: options.capacity ?? 64 });
  const logger = recordingLogger();
  const monitor = new FaultMonitor({
    clock,
    wallClock: () => EPOCH + clock.now(),
    healAfterMs: options.healAfterMs ?? 100,
    maxFaults: options.maxFaults,
    log,
    logger,
  });
  let conditions: FaultCondition[] = [];
  monitor.addDetector({ name: "script", detect: (report) => conditions.forEach(report) });
  const set = (...next: FaultCondition[]) => void (conditions = next);
  return { clock, log, monitor, set, lines: logger.lines };
}

function hot(extra: Partial<FaultCondition> = {}): FaultCondition {
  return {
    entityId: "boiler",
    entityType: "component",
    code: "TOO_HOT",
    name: "Too hot",
    description: "It is too hot",
    severity: 3,
    ...extra,
  };
}

Deno.test("FaultMonitor raises, updates and heals a fault with hysteresis, every change an event in order", () => {
  const { clock, log, monitor, set } = setup({ healAfterMs: 100 });
  set(hot({ newOccurrences: 2 }));
  assertEquals(monitor.evaluate(), 1);
  let [fault] = monitor.faults("component", "boiler");
  assertEquals(fault?.status, "active");
  assertEquals(fault?.occurrenceCount, 2);
  assertEquals(fault?.firstOccurredMs, EPOCH);
  assertEquals(fault?.reportingSources, ["script"]);

  clock.advance(10);
  set(hot()); // still there, nothing new: no event
  assertEquals(monitor.evaluate(), 0);

  clock.advance(10);
  set(hot({ newOccurrences: 3 })); // more occurrences: an update
  assertEquals(monitor.evaluate(), 1);
  [fault] = monitor.faults();
  assertEquals([fault?.occurrenceCount, fault?.lastOccurredMs], [5, EPOCH + 20]);

  clock.advance(10);
  set(hot({ severity: 2 })); // worse: an update
  monitor.evaluate();
  assertEquals(monitor.faults()[0]?.severity, 2);

  clock.advance(10); // t = 40: the condition clears, the fault turns passive
  set();
  assertEquals(monitor.evaluate(), 1);
  assertEquals(monitor.faults()[0]?.status, "passive");

  clock.advance(99); // t = 139: absent for 99 ms, not healed yet
  assertEquals(monitor.evaluate(), 0);
  assertEquals(monitor.faults().length, 1);

  clock.advance(1); // t = 140: absent for 100 ms: healed
  assertEquals(monitor.evaluate(), 1);
  assertEquals(monitor.faults(), []);

  const events = log.since(0).events;
  assertEquals(events.map((e) => e.id), [1, 2, 3, 4, 5]);
  assertEquals(
    events.map((e) => `${e.type}/${e.fault.status}`),
    [
      "fault_confirmed/active",
      "fault_updated/active",
      "fault_updated/active",
      "fault_updated/passive",
      "fault_cleared/cleared",
    ],
  );
  assertEquals(events.map((e) => e.timestampMs - EPOCH), [0, 20, 30, 40, 140]);
  assertEquals(events[4]?.fault.occurrenceCount, 5);
});

Deno.test("FaultMonitor re-activates a healing fault with one more occurrence, restarting the hysteresis", () => {
  const { clock, log, monitor, set } = setup({ healAfterMs: 100 });
  set(hot());
  monitor.evaluate();
  set();
  clock.advance(50);
  monitor.evaluate(); // passive since 50
  clock.advance(60);
  set(hot()); // back at 110, before healing at 150
  monitor.evaluate();
  assertEquals(monitor.faults()[0]?.status, "active");
  assertEquals(monitor.faults()[0]?.occurrenceCount, 2);
  set();
  clock.advance(10);
  monitor.evaluate(); // passive since 120
  clock.advance(90); // 210: would have healed on the first clock (150), not on the new one (220)
  monitor.evaluate();
  assertEquals(monitor.faults().length, 1);
  clock.advance(10);
  monitor.evaluate();
  assertEquals(monitor.faults().length, 0);
  assertEquals(
    log.since(0).events.map((e) => e.type),
    ["fault_confirmed", "fault_updated", "fault_updated", "fault_updated", "fault_cleared"],
  );
});

Deno.test("FaultMonitor.clear() removes a passive fault and refuses an active one", () => {
  const { monitor, set, log } = setup({ healAfterMs: Infinity });
  set(hot());
  monitor.evaluate();
  assertEquals(monitor.clear("component", "boiler", "TOO_HOT"), "active");
  assertEquals(monitor.clear("component", "boiler", "OTHER"), "unknown");
  assertEquals(monitor.clear("app", "boiler", "TOO_HOT"), "unknown");
  set();
  monitor.evaluate();
  assertEquals(monitor.faults()[0]?.status, "passive", "healAfterMs Infinity: stays passive");
  assertEquals(monitor.clear("component", "boiler", "TOO_HOT"), "cleared");
  assertEquals(monitor.faults(), []);
  assertEquals(log.since(0).events.at(-1)?.type, "fault_cleared");
  assertThrows(() => monitor.clear("component", "boiler", "a/b"), TypeError, "'code'");
  assertThrows(() => monitor.clear("hosts" as never, "boiler", "X"), TypeError, "'type'");
});

Deno.test("FaultMonitor neither raises nor heals the faults of a detector that throws", () => {
  const { clock, monitor, set, lines } = setup({ healAfterMs: 0 });
  let broken = false;
  monitor.addDetector({
    name: "flaky",
    detect: (report) => {
      if (broken) throw new Error("no stats");
      report(hot({ code: "FLAKY" }));
    },
  });
  set(hot());
  monitor.evaluate();
  assertEquals(monitor.faults().map((f) => f.code), ["TOO_HOT", "FLAKY"]);
  broken = true;
  clock.advance(10);
  monitor.evaluate();
  assertEquals(monitor.faults().map((f) => `${f.code}/${f.status}`), [
    "TOO_HOT/active",
    "FLAKY/active",
  ]);
  assertEquals(monitor.stats().detectorErrors, 1);
  assert(lines.some((l) => l.includes('detector "flaky" threw: no stats')), lines.join("\n"));
});

Deno.test("FaultMonitor leaves out invalid conditions and counts faults past maxFaults", () => {
  const { monitor, set, lines } = setup({ maxFaults: 1 });
  set(
    hot({ code: "bad code" }),
    hot({ severity: 0 as never }),
    hot({ entityType: "host" as never }),
    hot({ healAfterMs: -1 }),
    hot(),
    hot({ code: "SECOND" }),
  );
  monitor.evaluate();
  assertEquals(monitor.faults().map((f) => f.code), ["TOO_HOT"]);
  assertEquals(monitor.stats().invalidConditions, 4);
  assertEquals(monitor.stats().dropped, 1);
  assertEquals(lines.length, 4);
});

Deno.test("FaultMonitor keeps one change per fault per evaluation when a condition is reported twice", () => {
  const { monitor, set, log } = setup();
  set(hot(), hot({ newOccurrences: 5 }));
  monitor.evaluate();
  assertEquals(log.lastId, 1);
  assertEquals(monitor.faults()[0]?.occurrenceCount, 1);
});

Deno.test("FaultEventLog replays after a Last-Event-ID, within its bound, ids never reused", () => {
  const { clock, log, monitor, set } = setup({ healAfterMs: 0, capacity: 3 });
  for (let i = 0; i < 4; i++) {
    set(hot());
    monitor.evaluate(); // confirmed
    set();
    clock.advance(1);
    monitor.evaluate(); // passive, then cleared at once (healAfterMs 0)
  }
  assertEquals(log.lastId, 12);
  const all = log.since(0);
  assertEquals(all.events.map((e) => e.id), [10, 11, 12]);
  assertEquals(all.missed, 9);
  assertEquals(all.unknownId, false);
  const after10 = log.since(10);
  assertEquals(after10.events.map((e) => e.id), [11, 12]);
  assertEquals(after10.missed, 0);
  assertEquals(log.since(12).events, []);
  const stale = log.since(99);
  assertEquals([stale.unknownId, stale.events.length], [true, 3]);
  assertEquals(log.stats(), { capacity: 3, size: 3, lastId: 12, evicted: 9, listenerErrors: 0 });
  assertThrows(() => log.since(-1), RangeError, "'lastEventId'");
  assertThrows(() => log.since(1.5), RangeError, "'lastEventId'");
});

Deno.test("FaultEventLog tells every listener in order; a throwing one is counted", () => {
  const { monitor, log, set } = setup();
  const seen: number[] = [];
  log.subscribe(() => {
    throw new Error("slow client");
  });
  const sub = log.subscribe((e) => void seen.push(e.id));
  set(hot());
  monitor.evaluate();
  set(hot({ newOccurrences: 1 }));
  monitor.evaluate();
  sub[Symbol.dispose]();
  set(hot({ newOccurrences: 1 }));
  monitor.evaluate();
  assertEquals(seen, [1, 2]);
  assertEquals(log.stats().listenerErrors, 3);
});

Deno.test("parseLastEventId() accepts decimal ids and rejects anything else", () => {
  assertEquals(parseLastEventId(undefined), 0);
  assertEquals(parseLastEventId(""), 0);
  assertEquals(parseLastEventId("007"), 7);
  for (const bad of ["-1", "1.5", " 1", "0x10", "1e3", "9".repeat(16)]) {
    assertThrows(() => parseLastEventId(bad), TypeError, "'Last-Event-ID'");
  }
});

Deno.test("FaultMonitor rejects bad options and detectors with Deno-style errors", () => {
  assertThrows(() => new FaultMonitor({ healAfterMs: -1 }), RangeError, "'healAfterMs'");
  assertThrows(() => new FaultMonitor({ maxFaults: 0 }), RangeError, "'maxFaults'");
  assertThrows(() => new FaultMonitor({ clock: {} as never }), TypeError, "'clock'");
  assertThrows(() => new FaultMonitor({ log: {} as never }), TypeError, "'log'");
  assertThrows(() => new FaultMonitor({ wallClock: 5 as never }), TypeError, "'wallClock'");
  const monitor = new FaultMonitor({ logger: SILENT_LOGGER });
  assertThrows(() => monitor.addDetector(null as never), TypeError, "'detector'");
  assertThrows(() => monitor.addDetector({ name: "", detect() {} }), TypeError, "'detector.name'");
  assertThrows(
    () => monitor.addDetector({ name: "x", detect: 1 as never }),
    TypeError,
    "'detector.detect'",
  );
});
