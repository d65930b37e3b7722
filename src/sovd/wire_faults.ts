// The JSON the SOVD server sends for faults, the fault stream's frames,
// GenericError bodies and version-info, as pure functions (SOVD.md), and
// the parser of the fault filters.

import {
  type Fault,
  FAULT_SEVERITY_LABELS,
  FAULT_STATUSES,
  type FaultSeverity,
  type FaultStatus,
} from "./model.ts";
import type { FaultEvent } from "./fault_log.ts";
import { SOVD_DIALECTS, type SovdDialect } from "./wire.ts";
import { show } from "../internal/validate.ts";

/** What the fault filters of a `GET .../faults` keep. */
export interface FaultFilter {
  /** `status[aggregatedStatus]=` values (OR); empty keeps every status. */
  statuses: FaultStatus[];
  /** `severity=n`: keeps faults of severity `n` or more severe (ISO numbers `<= n`). */
  severity: FaultSeverity | undefined;
}

const STATUS_KEY = "status[aggregatedStatus]";

/**
 * Parses the fault filters of a query: `status[aggregatedStatus]`
 * (repeatable, OR) and `severity` (1 to 4: that severity or more severe).
 * Other parameters are ignored.
 *
 * @example Active faults of severity ERROR or worse
 * ```ts
 * import { parseFaultFilter } from "@chronetix/core/sovd";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const query = new URLSearchParams("status[aggregatedStatus]=active&severity=2");
 * assertEquals(parseFaultFilter(query), { statuses: ["active"], severity: 2 });
 * assertThrows(() => parseFaultFilter(new URLSearchParams("severity=0")), TypeError, "'severity'");
 * ```
 *
 * @param query The request's search parameters.
 * @returns The filter.
 * @throws {TypeError} when a status or the severity is not one SOVD defines.
 */
export function parseFaultFilter(query: URLSearchParams): FaultFilter {
  const action = "filter faults";
  if (!(query instanceof URLSearchParams)) {
    throw new TypeError(
      `Cannot ${action} as 'query' must be a URLSearchParams: current value is ${show(query)}`,
    );
  }
  const statuses: FaultStatus[] = [];
  for (const value of query.getAll(STATUS_KEY)) {
    if (!(FAULT_STATUSES as readonly string[]).includes(value)) {
      throw new TypeError(
        `Cannot ${action} as '${STATUS_KEY}' must be one of "active", "passive", "cleared": current value is ${
          show(value)
        }`,
      );
    }
    if (!statuses.includes(value as FaultStatus)) statuses.push(value as FaultStatus);
  }
  const raw = query.getAll("severity");
  if (raw.length > 1) {
    throw new TypeError(
      `Cannot ${action} as 'severity' must be given at most once: current value is ${show(raw)}`,
    );
  }
  let severity: FaultSeverity | undefined;
  if (raw.length === 1) {
    if (!/^[1-4]$/.test(raw[0]!)) {
      throw new TypeError(
        `Cannot ${action} as 'severity' must be 1, 2, 3 or 4: current value is ${show(raw[0])}`,
      );
    }
    severity = Number(raw[0]) as FaultSeverity;
  }
  return { statuses, severity };
}

/**
 * Keeps the faults a filter lets through.
 *
 * @example Only severe faults
 * ```ts
 * import { type Fault, filterFaults } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * const faults = [{ code: "A", severity: 2, status: "active" }, { code: "B", severity: 4, status: "active" }] as Fault[];
 * assertEquals(filterFaults(faults, { statuses: [], severity: 3 }).map((f) => f.code), ["A"]);
 * ```
 *
 * @param faults The faults.
 * @param filter The filter.
 * @returns The faults kept, in order.
 */
export function filterFaults(faults: readonly Fault[], filter: FaultFilter): Fault[] {
  return faults.filter((f) =>
    (filter.statuses.length === 0 || filter.statuses.includes(f.status)) &&
    (filter.severity === undefined || f.severity <= filter.severity)
  );
}

function dialectOf(dialect: unknown): boolean {
  if (dialect === undefined) return true;
  if (!(SOVD_DIALECTS as readonly unknown[]).includes(dialect)) {
    throw new TypeError(
      `Cannot write a fault as 'dialect' must be one of "iso", "medkit": current value is ${
        show(dialect)
      }`,
    );
  }
  return dialect === "medkit";
}

/**
 * One fault as SOVD writes it: ISO keys (`code`, `fault_name`, `severity`,
 * `status` with `aggregatedStatus` and the DTC bits), then in the medkit
 * dialect `fault_code`, `description`, `severity_label`, `occurrence_count`,
 * `reporting_sources`, `first_occurred` and `last_occurred` (Unix seconds).
 *
 * @example An active fault
 * ```ts
 * import { type Fault, faultItem } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * const fault = {
 *   code: "DEADLINE_MISS", name: "Deadline misses", description: "3 misses", severity: 3, status: "active",
 *   entityId: "sensor", entityType: "app", occurrenceCount: 3, firstOccurredMs: 1000, lastOccurredMs: 2500,
 *   reportingSources: ["executor"], environmentData: {},
 * } as Fault;
 * const item = faultItem(fault);
 * assertEquals(item.status, { aggregatedStatus: "active", testFailed: "1", confirmedDTC: "1", pendingDTC: "0" });
 * assertEquals([item.severity, item.severity_label, item.last_occurred], [3, "WARN", 2.5]);
 * assertEquals(Object.keys(faultItem(fault, "iso")), ["code", "fault_name", "severity", "status"]);
 * ```
 *
 * @param fault The fault.
 * @param dialect Which keys to write. @default {"medkit"}
 * @returns The item.
 * @throws {TypeError} when `dialect` is invalid.
 */
export function faultItem(fault: Fault, dialect?: SovdDialect): Record<string, unknown> {
  const medkit = dialectOf(dialect);
  const s = fault.status;
  const item: Record<string, unknown> = {
    code: fault.code,
    fault_name: fault.name,
    severity: fault.severity,
    status: {
      aggregatedStatus: s,
      testFailed: s === "active" ? "1" : "0",
      confirmedDTC: s === "cleared" ? "0" : "1",
      pendingDTC: s === "passive" ? "1" : "0",
    },
  };
  if (!medkit) return item;
  item.fault_code = fault.code;
  item.description = fault.description;
  item.severity_label = FAULT_SEVERITY_LABELS[fault.severity];
  item.occurrence_count = fault.occurrenceCount;
  item.reporting_sources = [...(fault.reportingSources ?? [])];
  item.first_occurred = fault.firstOccurredMs / 1000;
  item.last_occurred = fault.lastOccurredMs / 1000;
  return item;
}

/**
 * A fault list: `{"items":[F],"x-medkit":{"count","entity_id"}}` (the
 * global list has no `entity_id`).
 *
 * @example An entity's faults
 * ```ts
 * import { faultList } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(faultList([], { entityId: "sensor" }), { items: [], "x-medkit": { count: 0, entity_id: "sensor" } });
 * ```
 *
 * @param faults The faults (already filtered).
 * @param options The entity asked for, and the dialect.
 * @returns The body.
 * @throws {TypeError} when `dialect` is invalid.
 */
export function faultList(
  faults: readonly Fault[],
  options: { entityId?: string; dialect?: SovdDialect } = {},
): Record<string, unknown> {
  const medkit = dialectOf(options.dialect);
  const items = faults.map((f) => faultItem(f, options.dialect));
  if (!medkit) return { items };
  const extension: Record<string, unknown> = { count: items.length };
  if (options.entityId !== undefined) extension.entity_id = options.entityId;
  return { items, "x-medkit": extension };
}

/**
 * One fault's detail: `{"item":F,"environment_data":{...}}`.
 *
 * @example The figures captured with a fault
 * ```ts
 * import { type Fault, faultDetail } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * const fault = { code: "X", name: "X", severity: 2, status: "passive", environmentData: { misses: 4 } } as unknown as Fault;
 * assertEquals(faultDetail(fault, "iso").environment_data, { misses: 4 });
 * ```
 *
 * @param fault The fault.
 * @param dialect Which keys to write. @default {"medkit"}
 * @returns The body.
 * @throws {TypeError} when `dialect` is invalid.
 */
export function faultDetail(fault: Fault, dialect?: SovdDialect): Record<string, unknown> {
  return {
    item: faultItem(fault, dialect),
    environment_data: { ...(fault.environmentData ?? {}) },
  };
}

/**
 * The `data` of one fault stream event:
 * `{"event_type","fault":F,"timestamp":<s>,"x-medkit":{"entity_type","entity_id"}}`.
 *
 * @example An event's data
 * ```ts
 * import { type Fault, faultEventData } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * const fault = { code: "X", name: "X", severity: 2, status: "active", entityId: "kernel", entityType: "component" } as Fault;
 * const data = faultEventData({ id: 7, type: "fault_confirmed", fault, timestampMs: 1500 }, "iso");
 * assertEquals([data.event_type, data.timestamp], ["fault_confirmed", 1.5]);
 * ```
 *
 * @param event The event.
 * @param dialect Which keys to write. @default {"medkit"}
 * @returns The data object.
 * @throws {TypeError} when `dialect` is invalid.
 */
export function faultEventData(event: FaultEvent, dialect?: SovdDialect): Record<string, unknown> {
  const medkit = dialectOf(dialect);
  const data: Record<string, unknown> = {
    event_type: event.type,
    fault: faultItem(event.fault, dialect),
    timestamp: event.timestampMs / 1000,
  };
  if (medkit) {
    data["x-medkit"] = { entity_type: event.fault.entityType, entity_id: event.fault.entityId };
  }
  return data;
}

/**
 * One Server-Sent Events frame: `id: <n>`, `event: <type>`, `data: <json>`
 * and the blank line that ends it.
 *
 * @example A frame
 * ```ts
 * import { type Fault, faultEventFrame } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * const fault = { code: "X", name: "X", severity: 2, status: "active", entityId: "k", entityType: "component" } as Fault;
 * const frame = faultEventFrame({ id: 3, type: "fault_updated", fault, timestampMs: 0 });
 * assertEquals(frame.split("\n").slice(0, 2), ["id: 3", "event: fault_updated"]);
 * assertEquals(frame.endsWith("\n\n"), true);
 * ```
 *
 * @param event The event.
 * @param dialect Which keys to write. @default {"medkit"}
 * @returns The frame's text.
 * @throws {TypeError} when `dialect` is invalid.
 */
export function faultEventFrame(event: FaultEvent, dialect?: SovdDialect): string {
  // JSON.stringify escapes newlines, so the data fits on one `data:` line.
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${
    JSON.stringify(faultEventData(event, dialect))
  }\n\n`;
}

/**
 * The `error_code`s of SOVD's `GenericError` (OpenSOVD's enum) and the
 * HTTP status each goes with.
 */
export const SOVD_ERROR_STATUS: Readonly<Record<SovdErrorCode, number>> = Object.freeze({
  "incomplete-request": 400,
  "insufficient-access-rights": 403,
  "vendor-specific": 404,
  "precondition-not-fulfilled": 409,
  "sovd-server-failure": 500,
  "not-implemented": 501,
  "not-responding": 504,
});

/** An SOVD `GenericError` code. */
export type SovdErrorCode =
  | "incomplete-request"
  | "insufficient-access-rights"
  | "vendor-specific"
  | "precondition-not-fulfilled"
  | "sovd-server-failure"
  | "not-implemented"
  | "not-responding";

/** A `GenericError` body. */
export interface GenericErrorJson {
  /** The SOVD error code. */
  error_code: SovdErrorCode;
  /** A sentence for people (never a stack trace). */
  message: string;
  /** A vendor code, e.g. `entity-not-found`. */
  vendor_code?: string;
  /** What was wrong, by name. */
  parameters?: Record<string, unknown>;
}

/**
 * A `GenericError` body.
 *
 * @example An unknown entity
 * ```ts
 * import { genericError, SOVD_ERROR_STATUS } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * const body = genericError("vendor-specific", "No app 'x'", { vendorCode: "entity-not-found" });
 * assertEquals(body, { error_code: "vendor-specific", message: "No app 'x'", vendor_code: "entity-not-found" });
 * assertEquals(SOVD_ERROR_STATUS[body.error_code], 404);
 * ```
 *
 * @param code The SOVD error code.
 * @param message A sentence for people.
 * @param options A vendor code and parameters.
 * @returns The body.
 */
export function genericError(
  code: SovdErrorCode,
  message: string,
  options: { vendorCode?: string; parameters?: Record<string, unknown> } = {},
): GenericErrorJson {
  const body: GenericErrorJson = { error_code: code, message };
  if (options.vendorCode !== undefined) body.vendor_code = options.vendorCode;
  if (options.parameters !== undefined) body.parameters = options.parameters;
  return body;
}

/**
 * The `version-info` body, with both keys SOVD.md asks for (`sovd_info`
 * for ISO clients, `items` for medkit ones).
 *
 * @example Version info for a mount
 * ```ts
 * import { versionInfo } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * const body = versionInfo("http://127.0.0.1:8080/sovd/v1", "0.1.0");
 * assertEquals(body.sovd_info, body.items);
 * assertEquals(body.items[0]?.base_uri, "http://127.0.0.1:8080/sovd/v1");
 * ```
 *
 * @param baseUri The absolute URI of the mount (from the `Host` header).
 * @param vendorVersion Chronetix's version.
 * @returns The body.
 */
export function versionInfo(
  baseUri: string,
  vendorVersion: string,
): { sovd_info: VersionInfoJson[]; items: VersionInfoJson[] } {
  const entry: VersionInfoJson = {
    version: "1.1",
    base_uri: baseUri,
    vendor_info: { name: "chronetix", version: vendorVersion },
  };
  return { sovd_info: [entry], items: [entry] };
}

/** One entry of {@linkcode versionInfo}. */
export interface VersionInfoJson {
  /** The SOVD version: `1.1`. */
  version: string;
  /** The absolute URI of the mount. */
  base_uri: string;
  /** Who made the server. */
  vendor_info: { name: string; version: string };
}
