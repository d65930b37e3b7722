// The fault model: detectors report conditions on each evaluation; the
// monitor raises, updates and heals faults (with hysteresis) and writes every
// change to its bounded event log.

import type { EntityType, Fault, FaultSeverity, FaultStatus } from "./model.ts";
import { ENTITY_TYPES } from "./model.ts";
import { isSovdId, requireSovdId } from "./ids.ts";
import type { FaultClearResult } from "./provider.ts";
import { FaultEventLog, type FaultEventType } from "./fault_log.ts";
import { type Clock, MONOTONIC_CLOCK } from "../time/clock.ts";
import { CONSOLE_LOGGER, type Logger } from "../logger.ts";
import {
  requireFunction,
  requireInteger,
  requireLogger,
  requireName,
  requireNonNegative,
  requireOneOf,
  requireOptions,
  show,
} from "../internal/validate.ts";

/** A condition a detector sees on one evaluation: the fault it means, present now. */
export interface FaultCondition {
  /** The entity's id. */
  readonly entityId: string;
  /** The entity's type. */
  readonly entityType: EntityType;
  /** The fault's stable code, unique within the entity. */
  readonly code: string;
  /** A short name for people. */
  readonly name: string;
  /** What happened, with figures. */
  readonly description: string;
  /** Its ISO severity. */
  readonly severity: FaultSeverity;
  /**
   * New occurrences the source counted since the last evaluation (crashes,
   * misses): each adds to the occurrence count. Left out or 0 for a level
   * (a task that stays quarantined).
   *
   * @default {0}
   */
  readonly newOccurrences?: number;
  /** Figures to keep with the fault (SOVD `environment_data`). */
  readonly environmentData?: Readonly<Record<string, unknown>>;
  /**
   * How long the condition must stay absent before this fault heals, ms;
   * `Infinity` keeps it passive until a client clears it.
   *
   * @default {the monitor's healAfterMs}
   */
  readonly healAfterMs?: number;
}

/**
 * Something that looks at a part's figures and reports the conditions that
 * hold now. It may keep state between calls (the previous counters).
 */
export interface FaultDetector {
  /** Its name: the fault's reporting source. */
  readonly name: string;
  /**
   * Reports every condition that holds now.
   *
   * @param report Call once per condition.
   * @param nowMs The monitor's clock, ms.
   */
  detect(report: (condition: FaultCondition) => void, nowMs: number): void;
}

/** Options of a {@linkcode FaultMonitor}. */
export interface FaultMonitorOptions {
  /** Its name in log lines. @default {"faults"} */
  name?: string;
  /** The clock hysteresis is measured on. @default {MONOTONIC_CLOCK} */
  clock?: Clock;
  /**
   * Wall time for `first_occurred` / `last_occurred` and event timestamps,
   * ms since the Unix epoch. Inject one in tests.
   *
   * @default {Date.now}
   */
  wallClock?: () => number;
  /**
   * How long a condition must stay absent before its fault heals, ms: the
   * fault is `passive` meanwhile, and `active` again (one more occurrence)
   * if the condition comes back. `Infinity`: faults stay passive until a
   * client clears them.
   *
   * @default {10000}
   */
  healAfterMs?: number;
  /** Faults held at most; a new one past it is counted in `dropped`. @default {1024} */
  maxFaults?: number;
  /** The event log. @default {a new FaultEventLog} */
  log?: FaultEventLog;
  /** Where detector errors and invalid conditions are reported. @default {CONSOLE_LOGGER} */
  logger?: Logger;
}

/** A monitor's figures. */
export interface FaultMonitorStats {
  /** Faults whose condition holds. */
  active: number;
  /** Faults healing or waiting to be cleared. */
  passive: number;
  /** Evaluations run. */
  evaluations: number;
  /** New faults refused because `maxFaults` were held. */
  dropped: number;
  /** Detector calls that threw (their faults neither raised nor healed that time). */
  detectorErrors: number;
  /** Conditions with an invalid id, code or severity, left out. */
  invalidConditions: number;
}

interface Entry {
  readonly key: string;
  readonly entityId: string;
  readonly entityType: EntityType;
  readonly code: string;
  detector: string;
  name: string;
  description: string;
  severity: FaultSeverity;
  status: FaultStatus;
  count: number;
  firstMs: number;
  lastMs: number;
  healingSince: number;
  healAfterMs: number;
  environmentData: Readonly<Record<string, unknown>>;
}

const SEVERITIES: readonly number[] = [1, 2, 3, 4];

/**
 * Turns detector conditions into faults. Each {@linkcode evaluate} runs
 * every detector: a condition seen for the first time raises a fault
 * (`fault_confirmed`); seen again with new occurrences, a new severity or
 * after healing began, it updates it (`fault_updated`); no longer seen, the
 * fault becomes `passive` (`fault_updated`) and heals (`fault_cleared`, then
 * gone) once the condition has stayed absent for `healAfterMs`. A detector
 * that throws neither raises nor heals its faults that time. Every change is
 * an event on {@linkcode FaultMonitor.log}.
 *
 * Evaluate on your own cadence (a server poll, a timer of a second or so):
 * it reads the parts' `stats()`, never the control path.
 *
 * @example Raise, heal with hysteresis, in order
 * ```ts
 * import { FaultMonitor } from "@chronetix/core/sovd";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * const monitor = new FaultMonitor({ clock, wallClock: () => clock.now(), healAfterMs: 100 });
 * let hot = true;
 * monitor.addDetector({
 *   name: "thermometer",
 *   detect: (report) => {
 *     if (hot) {
 *       report({
 *         entityId: "kernel", entityType: "component", code: "TOO_HOT",
 *         name: "Too hot", description: "It is too hot", severity: 3,
 *       });
 *     }
 *   },
 * });
 * monitor.evaluate();
 * hot = false;
 * clock.advance(50);
 * monitor.evaluate(); // passive: healing
 * clock.advance(100);
 * monitor.evaluate(); // absent for 100 ms: healed
 * const types = monitor.log.since(0).events.map((e) => `${e.id} ${e.type} ${e.fault.status}`);
 * assertEquals(types, ["1 fault_confirmed active", "2 fault_updated passive", "3 fault_cleared cleared"]);
 * assertEquals(monitor.faults(), []);
 * ```
 */
export class FaultMonitor {
  /** Its name in log lines. */
  readonly name: string;
  /** Every change of every fault. */
  readonly log: FaultEventLog;
  readonly #clock: Clock;
  readonly #wallClock: () => number;
  readonly #healAfterMs: number;
  readonly #maxFaults: number;
  readonly #logger: Logger;
  readonly #detectors = new Set<FaultDetector>();
  readonly #entries = new Map<string, Entry>();
  #evaluations = 0;
  #dropped = 0;
  #detectorErrors = 0;
  #invalid = 0;

  /**
   * Creates a monitor with no detectors.
   *
   * @param options Clocks, hysteresis, bounds, log and logger.
   * @throws {TypeError} when an option has the wrong type.
   * @throws {RangeError} when `healAfterMs` is negative or `maxFaults` out of range.
   */
  constructor(options: FaultMonitorOptions = {}) {
    const action = "create a FaultMonitor";
    requireOptions(action, "options", options);
    this.name = requireName(action, "name", options.name ?? "faults");
    const clock = options.clock ?? MONOTONIC_CLOCK;
    if (clock === null || typeof clock !== "object" || typeof clock.now !== "function") {
      throw new TypeError(
        `Cannot ${action} as 'clock' must be a Clock: current value is ${show(clock)}`,
      );
    }
    this.#clock = clock;
    this.#wallClock = requireFunction(action, "wallClock", options.wallClock ?? Date.now);
    const healAfterMs = options.healAfterMs ?? 10_000;
    // Infinity is allowed: faults then stay passive until a client clears them.
    this.#healAfterMs = healAfterMs === Infinity
      ? healAfterMs
      : requireNonNegative(action, "healAfterMs", healAfterMs);
    this.#maxFaults = requireInteger(action, "maxFaults", options.maxFaults ?? 1024, 1, 2 ** 20);
    if (options.log !== undefined && !(options.log instanceof FaultEventLog)) {
      throw new TypeError(
        `Cannot ${action} as 'log' must be a FaultEventLog: current value is ${show(options.log)}`,
      );
    }
    this.log = options.log ?? new FaultEventLog();
    this.#logger = requireLogger(action, "logger", options.logger ?? CONSOLE_LOGGER);
  }

  /**
   * Adds a detector, run on every evaluation from the next one.
   *
   * @param detector Its name and its `detect` function.
   * @returns A disposable that removes it (its faults then heal as absent).
   * @throws {TypeError} when `detector` has no name or no `detect` function.
   */
  addDetector(detector: FaultDetector): Disposable {
    const action = "add a fault detector";
    if (detector === null || typeof detector !== "object") {
      throw new TypeError(
        `Cannot ${action} as 'detector' must be an object: current value is ${show(detector)}`,
      );
    }
    requireName(action, "detector.name", detector.name);
    requireFunction(action, "detector.detect", detector.detect);
    this.#detectors.add(detector);
    return { [Symbol.dispose]: () => void this.#detectors.delete(detector) };
  }

  /**
   * Runs every detector once and applies what they report.
   *
   * @returns How many events this evaluation appended.
   */
  evaluate(): number {
    this.#evaluations++;
    const now = this.#clock.now();
    const wall = this.#wallClock();
    const before = this.log.lastId;
    const seen = new Set<string>();
    const failed = new Set<string>();
    for (const detector of [...this.#detectors]) {
      try {
        detector.detect((c) => this.#apply(detector.name, c, wall, seen), now);
      } catch (error) {
        this.#detectorErrors++;
        failed.add(detector.name);
        this.#warn(`detector ${show(detector.name)} threw: ${describe(error)}`);
      }
    }
    for (const entry of [...this.#entries.values()]) {
      if (seen.has(entry.key) || failed.has(entry.detector)) continue;
      if (entry.status === "active") {
        entry.status = "passive";
        entry.healingSince = now;
        this.#emit("fault_updated", entry, wall);
      }
      if (entry.status === "passive" && now - entry.healingSince >= entry.healAfterMs) {
        this.#remove(entry, wall);
      }
    }
    return this.log.lastId - before;
  }

  /**
   * The faults held (active and passive), optionally of one entity.
   *
   * @param type Only this entity type (with `id`).
   * @param id Only this entity.
   * @returns Snapshots, in the order the faults were raised.
   */
  faults(type?: EntityType, id?: string): Fault[] {
    const out: Fault[] = [];
    for (const entry of this.#entries.values()) {
      if (type !== undefined && entry.entityType !== type) continue;
      if (id !== undefined && entry.entityId !== id) continue;
      out.push(snapshot(entry));
    }
    return out;
  }

  /**
   * Clears a fault a client acknowledged: a passive one is removed
   * (`fault_cleared`); an active one stays.
   *
   * @param type The entity's type.
   * @param id The entity's id.
   * @param code The fault's code.
   * @returns `cleared`, `active` (its condition holds) or `unknown`.
   * @throws {TypeError} when `type`, `id` or `code` is invalid.
   */
  clear(type: EntityType, id: string, code: string): FaultClearResult {
    const action = "clear a fault";
    requireOneOf(action, "type", type, ENTITY_TYPES);
    requireSovdId(action, "id", id);
    requireSovdId(action, "code", code);
    const entry = this.#entries.get(`${type}/${id}/${code}`);
    if (entry === undefined) return "unknown";
    if (entry.status === "active") return "active";
    this.#remove(entry, this.#wallClock());
    return "cleared";
  }

  /** The monitor's figures. */
  stats(): FaultMonitorStats {
    let active = 0;
    for (const entry of this.#entries.values()) if (entry.status === "active") active++;
    return {
      active,
      passive: this.#entries.size - active,
      evaluations: this.#evaluations,
      dropped: this.#dropped,
      detectorErrors: this.#detectorErrors,
      invalidConditions: this.#invalid,
    };
  }

  #apply(source: string, c: FaultCondition, wall: number, seen: Set<string>): void {
    const problem = conditionProblem(c);
    if (problem !== undefined) {
      this.#invalid++;
      this.#warn(`detector ${show(source)} reported a condition that ${problem}`);
      return;
    }
    const key = `${c.entityType}/${c.entityId}/${c.code}`;
    if (seen.has(key)) return; // one change per fault per evaluation
    seen.add(key);
    const fresh = Math.max(0, Math.floor(c.newOccurrences ?? 0)) || 0;
    const healAfterMs = c.healAfterMs ?? this.#healAfterMs;
    let entry = this.#entries.get(key);
    let type: FaultEventType | undefined;
    if (entry === undefined) {
      if (this.#entries.size >= this.#maxFaults) {
        this.#dropped++;
        return;
      }
      entry = {
        key,
        entityId: c.entityId,
        entityType: c.entityType,
        code: c.code,
        detector: source,
        name: c.name,
        description: c.description,
        severity: c.severity,
        status: "active",
        count: Math.max(1, fresh),
        firstMs: wall,
        lastMs: wall,
        healingSince: NaN,
        healAfterMs,
        environmentData: c.environmentData ?? {},
      };
      this.#entries.set(key, entry);
      type = "fault_confirmed";
    } else {
      if (entry.status === "passive") {
        entry.status = "active";
        entry.count += Math.max(1, fresh);
        type = "fault_updated";
      } else if (fresh > 0) {
        entry.count += fresh;
        type = "fault_updated";
      }
      if (entry.severity !== c.severity) type = "fault_updated";
      if (type !== undefined) entry.lastMs = wall;
      entry.detector = source;
      entry.name = c.name;
      entry.description = c.description;
      entry.severity = c.severity;
      entry.healAfterMs = healAfterMs;
      entry.environmentData = c.environmentData ?? entry.environmentData;
    }
    entry.healingSince = NaN;
    if (type !== undefined) this.#emit(type, entry, wall);
  }

  #remove(entry: Entry, wall: number): void {
    this.#entries.delete(entry.key);
    entry.status = "cleared";
    this.#emit("fault_cleared", entry, wall);
  }

  #emit(type: FaultEventType, entry: Entry, wall: number): void {
    this.log.append(type, snapshot(entry), wall);
  }

  #warn(message: string): void {
    try {
      this.#logger.warn(`FaultMonitor "${this.name}": ${message}`);
    } catch {
      // A throwing logger does not stop an evaluation.
    }
  }
}

function snapshot(e: Entry): Fault {
  return Object.freeze({
    code: e.code,
    name: e.name,
    description: e.description,
    severity: e.severity,
    status: e.status,
    entityId: e.entityId,
    entityType: e.entityType,
    occurrenceCount: e.count,
    firstOccurredMs: e.firstMs,
    lastOccurredMs: e.lastMs,
    reportingSources: Object.freeze([e.detector]),
    environmentData: e.environmentData,
  });
}

function conditionProblem(c: unknown): string | undefined {
  if (c === null || typeof c !== "object") return `is not an object: ${show(c)}`;
  const f = c as Partial<FaultCondition>;
  if (!isSovdId(f.entityId)) return `has an invalid 'entityId' ${show(f.entityId)}`;
  if (!(ENTITY_TYPES as readonly unknown[]).includes(f.entityType)) {
    return `has an invalid 'entityType' ${show(f.entityType)}`;
  }
  if (!isSovdId(f.code)) return `has an invalid 'code' ${show(f.code)}`;
  if (!SEVERITIES.includes(f.severity as number)) {
    return `has an invalid 'severity' ${show(f.severity)}`;
  }
  if (typeof f.name !== "string" || typeof f.description !== "string") {
    return `has no 'name' or 'description': ${show(f.code)}`;
  }
  if (f.healAfterMs !== undefined && !(typeof f.healAfterMs === "number" && f.healAfterMs >= 0)) {
    return `has an invalid 'healAfterMs' ${show(f.healAfterMs)}`;
  }
  return undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : show(error);
}
