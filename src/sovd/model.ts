// The SOVD entity model, as plain types: entities and their relations, data
// items with categories and units, faults with ISO severity and status, an
// entity's status and operations. Providers produce these; the wire functions
// (wire.ts, wire_faults.ts) turn them into the JSON of SOVD.md.

/**
 * The kind of an entity: `area` (a grouping), `component` (something that
 * runs things: the kernel, the executor, the offload pool, a port), `app`
 * (something that runs on a component: a task, a plugin), `function` (a
 * feature across apps).
 */
export type EntityType = "area" | "component" | "app" | "function";

/** Every {@linkcode EntityType}. */
export const ENTITY_TYPES: readonly EntityType[] = ["area", "component", "app", "function"];

/** The URL collection of each entity type: `areas`, `components`, `apps`, `functions`. */
export type EntityCollection = "areas" | "components" | "apps" | "functions";

/** The collection each {@linkcode EntityType} is listed under. */
export const ENTITY_COLLECTIONS: Readonly<Record<EntityType, EntityCollection>> = Object.freeze({
  area: "areas",
  component: "components",
  app: "apps",
  function: "functions",
});

/**
 * One entity, as its provider describes it. Relations are given from the
 * child's side; the {@linkcode ProviderRegistry} derives the other side
 * (`hosts` from `locatedOn`, `contains` from `belongsTo`), so the two always
 * agree.
 */
export interface EntityInfo {
  /** Its id, unique within its type; matches {@linkcode SOVD_ID_PATTERN}. */
  readonly id: string;
  /** Its name for people: the original task, plugin or port name. */
  readonly name: string;
  /** Its kind. */
  readonly type: EntityType;
  /**
   * The name the provider knows it by, when the id had to be mapped from it
   * (`x-medkit.seam_id` on the wire).
   *
   * @default {the id}
   */
  readonly seamId?: string;
  /** For an app: the id of the component it runs on (`is-located-on`, exactly one). */
  readonly locatedOn?: string;
  /** The id of the area it belongs to (`belongs-to`, zero or one). */
  readonly belongsTo?: string;
  /** A sentence about what it is. */
  readonly description?: string;
}

/**
 * The category of a data item: `currentData` (live figures), `identData`
 * (what it is: configuration, versions), `storedData` (kept history),
 * `sysInfo` (about the system).
 */
export type DataCategory = "currentData" | "identData" | "storedData" | "sysInfo";

/** Every {@linkcode DataCategory}, in the order they are listed. */
export const DATA_CATEGORIES: readonly DataCategory[] = [
  "currentData",
  "identData",
  "storedData",
  "sysInfo",
];

/**
 * The unit of a number in a data item's schema, as SOVD writes it
 * (`x-sovd-unit`): a display name and the factor from the SI unit, so that
 * µs is `{ display_name: "µs", factor_si_to_unit: 1e6 }`.
 */
export interface SovdUnit {
  /** The unit as people write it. */
  readonly display_name: string;
  /** How many of this unit make one SI base unit. */
  readonly factor_si_to_unit: number;
}

/** A JSON Schema (2020-12) object; units as `x-sovd-unit` on number properties. */
export type JsonSchema = { readonly [keyword: string]: unknown };

/**
 * One data item of an entity with its current value. Values are JSON:
 * numbers, strings, booleans, arrays and plain objects; a `NaN` (no sample
 * yet) is written as `null`.
 */
export interface DataItem {
  /** Its id within the entity; matches {@linkcode SOVD_ID_PATTERN}. */
  readonly id: string;
  /** Its name for people. */
  readonly name: string;
  /** Its category. */
  readonly category: DataCategory;
  /** The value, read when the item was produced. */
  readonly value: unknown;
  /** The JSON Schema of `value`, with units. */
  readonly schema?: JsonSchema;
}

/**
 * A fault severity in ISO 17978 numbering, lower is more severe: 1 FATAL,
 * 2 ERROR, 3 WARN, 4 INFO (ros2_medkit numbers the other way, 0 INFO to
 * 3 CRITICAL: see {@linkcode toMedkitSeverity}).
 */
export type FaultSeverity = 1 | 2 | 3 | 4;

/** The label of a severity: `FATAL`, `ERROR`, `WARN`, `INFO`. */
export type FaultSeverityLabel = "FATAL" | "ERROR" | "WARN" | "INFO";

/** The label of each {@linkcode FaultSeverity}. */
export const FAULT_SEVERITY_LABELS: Readonly<Record<FaultSeverity, FaultSeverityLabel>> = Object
  .freeze({ 1: "FATAL", 2: "ERROR", 3: "WARN", 4: "INFO" });

/**
 * Converts an ISO severity to ros2_medkit's numbering (0 INFO, 1 WARN,
 * 2 ERROR, 3 CRITICAL).
 *
 * @example ISO 1 (FATAL) is medkit 3 (CRITICAL)
 * ```ts
 * import { toMedkitSeverity } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(toMedkitSeverity(1), 3);
 * assertEquals(toMedkitSeverity(4), 0);
 * ```
 *
 * @param severity An ISO severity.
 * @returns The medkit severity.
 */
export function toMedkitSeverity(severity: FaultSeverity): 0 | 1 | 2 | 3 {
  return (4 - severity) as 0 | 1 | 2 | 3;
}

/**
 * Where a fault is (ISO `aggregatedStatus`): `active` (its condition holds:
 * confirmed and failing), `passive` (its condition cleared and it is healing:
 * stored, no longer failing), `cleared` (healed or cleared by a client; only
 * seen in the last event of a fault).
 */
export type FaultStatus = "active" | "passive" | "cleared";

/** Every {@linkcode FaultStatus}. */
export const FAULT_STATUSES: readonly FaultStatus[] = ["active", "passive", "cleared"];

/** A fault of one entity, as a snapshot. */
export interface Fault {
  /** Its stable code, unique within the entity, e.g. `DEADLINE_MISS`. */
  readonly code: string;
  /** A short name for people (`fault_name`). */
  readonly name: string;
  /** What happened, with figures. */
  readonly description: string;
  /** Its ISO severity. */
  readonly severity: FaultSeverity;
  /** Its aggregated status. */
  readonly status: FaultStatus;
  /** The id of the entity it belongs to. */
  readonly entityId: string;
  /** The type of that entity. */
  readonly entityType: EntityType;
  /** How often it occurred: raises, re-raises and new occurrences counted by its source. */
  readonly occurrenceCount: number;
  /** When it first occurred, ms since the Unix epoch (wall time). */
  readonly firstOccurredMs: number;
  /** When it last occurred, ms since the Unix epoch (wall time). */
  readonly lastOccurredMs: number;
  /** Who reported it (detector or provider names). */
  readonly reportingSources: readonly string[];
  /** Figures captured with it (SOVD `environment_data`). */
  readonly environmentData: Readonly<Record<string, unknown>>;
}

/** Whether an entity is up: `ready` or `notReady`. */
export type Readiness = "ready" | "notReady";

/** A status control an entity may offer (a `202` and `Location` on the wire). */
export type StatusControl = "restart" | "shutdown" | "force-shutdown";

/** Every {@linkcode StatusControl}. */
export const STATUS_CONTROLS: readonly StatusControl[] = ["restart", "shutdown", "force-shutdown"];

/** The status of an entity. */
export interface EntityStatus {
  /** Whether it is up. */
  readonly status: Readiness;
  /** The controls it supports: none for the kernel, executor, pool, ports and rings; islands offer theirs. */
  readonly controls: readonly StatusControl[];
  /** Why it is not ready, when it is not. */
  readonly reason?: string;
}

/** An operation an entity offers. */
export interface OperationInfo {
  /** Its id; matches {@linkcode SOVD_ID_PATTERN}. */
  readonly id: string;
  /** Its name for people. */
  readonly name: string;
  /** Whether it runs asynchronously (executions polled by id). @default {true} */
  readonly asynchronous?: boolean;
}

/** The severity of a log entry, as SOVD writes it. */
export type LogSeverity = "fatal" | "error" | "warn" | "info" | "debug";

/** One log entry of an entity (`GET .../logs/entries`). */
export interface LogEntry {
  /** When, ms since the Unix epoch (wall time). */
  readonly timestampMs: number;
  /** How severe. */
  readonly severity: LogSeverity;
  /** The message. */
  readonly message: string;
}

/**
 * What a status control did: `accepted` (it runs: a `202` with `Location`),
 * `unsupported` (the entity does not offer it: a `501`).
 */
export type ControlResult = "accepted" | "unsupported";
