// The JSON the SOVD server sends for entities, relations, data, status and
// operations, as pure functions of the model (SOVD.md), and the parsers of
// the path and query parameters they depend on.

import {
  DATA_CATEGORIES,
  type DataCategory,
  type DataItem,
  ENTITY_COLLECTIONS,
  ENTITY_TYPES,
  type EntityInfo,
  type EntityStatus,
  type EntityType,
  type Fault,
  type OperationInfo,
} from "./model.ts";
import { requireOptions, show } from "../internal/validate.ts";

/**
 * Which keys to write: `"medkit"` (the default) writes the ISO 17978 keys
 * plus ros2_medkit's where they do not clash (`x-medkit`, the fault's
 * `fault_code`, `severity_label`, `occurrence_count` ...), as SOVD.md asks
 * on both mounts; `"iso"` writes the ISO keys only.
 */
export type SovdDialect = "iso" | "medkit";

/** Every {@linkcode SovdDialect}. */
export const SOVD_DIALECTS: readonly SovdDialect[] = ["iso", "medkit"];

/** Where hrefs point and which keys to write. */
export interface WireOptions {
  /**
   * The mount that was asked (`/sovd/v1` or `/api/v1`): every href starts
   * with it. Path segments of `A-Z a-z 0-9 . _ ~ -` (not `.` or `..`), no
   * trailing slash.
   */
  base: string;
  /** Which keys to write. @default {"medkit"} */
  dialect?: SovdDialect;
}

/** An entity reference as SOVD writes it. */
export interface EntityReferenceJson {
  /** The entity's id. */
  id: string;
  /** Its name. */
  name: string;
  /** Its URI on the mount asked. */
  href: string;
  /** Its type. */
  type: EntityType;
}

const BASE_PATTERN = /^(\/[A-Za-z0-9._~-]+)+$/;

function resolve(action: string, options: WireOptions): { base: string; medkit: boolean } {
  requireOptions(action, "options", options);
  const base = options?.base;
  if (typeof base !== "string" || !BASE_PATTERN.test(base) || /\/\.\.?(\/|$)/.test(base)) {
    throw new TypeError(
      `Cannot ${action} as 'base' must be a path like "/sovd/v1": current value is ${show(base)}`,
    );
  }
  const dialect = options.dialect ?? "medkit";
  if (!SOVD_DIALECTS.includes(dialect)) {
    throw new TypeError(
      `Cannot ${action} as 'dialect' must be one of "iso", "medkit": current value is ${
        show(dialect)
      }`,
    );
  }
  return { base, medkit: dialect === "medkit" };
}

/**
 * The URI of an entity on a mount: `{base}/{collection}/{id}`.
 *
 * @example An app's href
 * ```ts
 * import { entityHref } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(entityHref({ id: "sensor", type: "app" }, "/api/v1"), "/api/v1/apps/sensor");
 * ```
 *
 * @param entity The entity (its id and type).
 * @param base The mount.
 * @returns The path-absolute URI.
 */
export function entityHref(entity: Pick<EntityInfo, "id" | "type">, base: string): string {
  return `${base}/${ENTITY_COLLECTIONS[entity.type]}/${entity.id}`;
}

/**
 * Parses a collection path segment (`components`, `apps`, `areas`, `functions`).
 *
 * @example From a path segment to a type
 * ```ts
 * import { parseEntityCollection } from "@chronetix/core/sovd";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * assertEquals(parseEntityCollection("apps"), "app");
 * assertThrows(() => parseEntityCollection("hosts"), TypeError);
 * ```
 *
 * @param segment The segment.
 * @returns The entity type.
 * @throws {TypeError} when it names no collection.
 */
export function parseEntityCollection(segment: string): EntityType {
  const type = ENTITY_TYPES.find((t) => ENTITY_COLLECTIONS[t] === segment);
  if (type === undefined) {
    throw new TypeError(
      `Cannot read an entity collection as 'collection' must be one of "areas", "components", "apps", "functions": current value is ${
        show(segment)
      }`,
    );
  }
  return type;
}

/**
 * An entity collection: `{"items":[{id,name,href,type}],"x-medkit":{"total_count"}}`.
 *
 * @example The components of a tree
 * ```ts
 * import { entityCollection } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * const body = entityCollection([{ id: "kernel", name: "kernel", type: "component" }], { base: "/sovd/v1" });
 * assertEquals(body, {
 *   items: [{ id: "kernel", name: "kernel", href: "/sovd/v1/components/kernel", type: "component" }],
 *   "x-medkit": { total_count: 1 },
 * });
 * ```
 *
 * @param entities The entities of one collection.
 * @param options Mount and dialect.
 * @returns The body.
 * @throws {TypeError} when `base` or `dialect` is invalid.
 */
export function entityCollection(
  entities: readonly EntityInfo[],
  options: WireOptions,
): Record<string, unknown> {
  const { base, medkit } = resolve("write an entity collection", options);
  const items = entities.map((e) => reference(e, base));
  return medkit ? { items, "x-medkit": { total_count: items.length } } : { items };
}

/**
 * A relation (`hosts`, `is-located-on`, `belongs-to`, `contains`): `{"items":[EntityReference]}`.
 *
 * @example Where an app runs
 * ```ts
 * import { relationCollection } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * const body = relationCollection([{ id: "executor", name: "executor", type: "component" }], { base: "/api/v1" });
 * assertEquals(body.items[0]?.href, "/api/v1/components/executor");
 * ```
 *
 * @param entities The related entities.
 * @param options Mount and dialect.
 * @returns The body.
 * @throws {TypeError} when `base` or `dialect` is invalid.
 */
export function relationCollection(
  entities: readonly EntityInfo[],
  options: WireOptions,
): { items: EntityReferenceJson[] } {
  const { base } = resolve("write a relation", options);
  return { items: entities.map((e) => reference(e, base)) };
}

/** What {@linkcode entityCapabilities} writes besides the entity. */
export interface CapabilitiesOptions extends WireOptions {
  /** The entity's status: `x-medkit.is_online`. @default {online} */
  status?: EntityStatus;
  /** Its faults: `x-medkit.health` is `ERROR` when one is active with severity 1 or 2. */
  faults?: readonly Fault[];
}

/**
 * An entity's detail with the URIs of its resources and relations, and
 * `capabilities` `[{name, href}]`; `x-medkit` in the medkit dialect.
 *
 * @example A component's capabilities
 * ```ts
 * import { entityCapabilities } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * const body = entityCapabilities({ id: "executor", name: "executor", type: "component" }, { base: "/api/v1" });
 * assertEquals(body.hosts, "/api/v1/components/executor/hosts");
 * assertEquals(body.data, "/api/v1/components/executor/data");
 * assertEquals((body["x-medkit"] as { health: string }).health, "OK");
 * ```
 *
 * @param entity The entity.
 * @param options Mount, dialect, status and faults.
 * @returns The body.
 * @throws {TypeError} when `base` or `dialect` is invalid.
 */
export function entityCapabilities(
  entity: EntityInfo,
  options: CapabilitiesOptions,
): Record<string, unknown> {
  const { base, medkit } = resolve("write entity capabilities", options);
  const href = entityHref(entity, base);
  const resources = ["data", "faults", "status", "operations", "logs"];
  if (entity.type === "component") resources.push("hosts");
  if (entity.type === "app") resources.push("is-located-on");
  if (entity.type !== "area") resources.push("belongs-to");
  if (entity.type === "area") resources.push("contains");
  const body: Record<string, unknown> = { id: entity.id, name: entity.name, type: entity.type };
  for (const r of resources) body[r] = `${href}/${r}`;
  body.capabilities = resources.map((r) => ({ name: r, href: `${href}/${r}` }));
  if (medkit) {
    const unhealthy = (options.faults ?? []).some((f) => f.status === "active" && f.severity <= 2);
    body["x-medkit"] = {
      is_online: (options.status?.status ?? "ready") === "ready",
      health: unhealthy ? "ERROR" : "OK",
      ...(entity.type === "app" ? { component_id: entity.locatedOn } : {}),
      source: "chronetix",
      seam_id: entity.seamId ?? entity.id,
    };
  }
  return body;
}

/**
 * The data categories an entity's items use, in canonical order:
 * `{"items":[{"item":"currentData"}, ...]}`.
 *
 * @example Categories of two items
 * ```ts
 * import { dataCategoryList } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * const items = [
 *   { id: "identity", name: "Identity", category: "identData" as const, value: {} },
 *   { id: "timing", name: "Timing", category: "currentData" as const, value: {} },
 * ];
 * assertEquals(dataCategoryList(items), { items: [{ item: "currentData" }, { item: "identData" }] });
 * ```
 *
 * @param items The entity's data items.
 * @returns The body.
 */
export function dataCategoryList(items: readonly DataItem[]): { items: { item: DataCategory }[] } {
  const used = new Set(items.map((i) => i.category));
  return { items: DATA_CATEGORIES.filter((c) => used.has(c)).map((item) => ({ item })) };
}

/**
 * Parses the repeatable `?category=` values of a data list.
 *
 * @example Query values to categories
 * ```ts
 * import { parseDataCategories } from "@chronetix/core/sovd";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const query = new URLSearchParams("category=currentData&category=identData");
 * assertEquals(parseDataCategories(query.getAll("category")), ["currentData", "identData"]);
 * assertThrows(() => parseDataCategories(["bogus"]), TypeError, "'category'");
 * ```
 *
 * @param values The values (`searchParams.getAll("category")`).
 * @returns The categories, each once; empty for no filter.
 * @throws {TypeError} when a value is not a {@linkcode DataCategory}.
 */
export function parseDataCategories(values: readonly string[]): DataCategory[] {
  if (!Array.isArray(values)) {
    throw new TypeError(
      `Cannot filter data as 'category' must be a list of strings: current value is ${
        show(values)
      }`,
    );
  }
  const out: DataCategory[] = [];
  for (const value of values) {
    if (!(DATA_CATEGORIES as readonly unknown[]).includes(value)) {
      throw new TypeError(
        `Cannot filter data as 'category' must be one of ${
          DATA_CATEGORIES.map((c) => `"${c}"`).join(", ")
        }: current value is ${show(value)}`,
      );
    }
    if (!out.includes(value as DataCategory)) out.push(value as DataCategory);
  }
  return out;
}

/**
 * Parses `?include-schema=`: absent or `false` is `false`, `true` is `true`.
 *
 * @example The query flag
 * ```ts
 * import { parseIncludeSchema } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(parseIncludeSchema(new URLSearchParams("include-schema=true").get("include-schema")), true);
 * assertEquals(parseIncludeSchema(null), false);
 * ```
 *
 * @param value The value, `null` when absent.
 * @returns Whether to include the schema.
 * @throws {TypeError} when it is another value.
 */
export function parseIncludeSchema(value: string | null | undefined): boolean {
  if (value === null || value === undefined || value === "false") return false;
  if (value === "true") return true;
  throw new TypeError(
    `Cannot read a data item as 'include-schema' must be "true" or "false": current value is ${
      show(value)
    }`,
  );
}

/**
 * A data list (`ValueMetadata` items), filtered by category:
 * `{"items":[{"id","name","category"}]}`.
 *
 * @example Only current data
 * ```ts
 * import { dataList } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * const items = [
 *   { id: "timing", name: "Timing", category: "currentData" as const, value: {} },
 *   { id: "identity", name: "Identity", category: "identData" as const, value: {} },
 * ];
 * assertEquals(dataList(items, ["currentData"]), { items: [{ id: "timing", name: "Timing", category: "currentData" }] });
 * ```
 *
 * @param items The entity's data items.
 * @param categories Only these; empty or left out for all.
 * @returns The body.
 */
export function dataList(
  items: readonly DataItem[],
  categories: readonly DataCategory[] = [],
): { items: { id: string; name: string; category: DataCategory }[] } {
  return {
    items: items
      .filter((i) => categories.length === 0 || categories.includes(i.category))
      .map((i) => ({ id: i.id, name: i.name, category: i.category })),
  };
}

/**
 * A data item's value (`ReadValue`): `{"id","data"}`, with `"schema"` when
 * asked (units as `x-sovd-unit`). `NaN` and infinite numbers become `null`,
 * as JSON writes them.
 *
 * @example A value with its schema
 * ```ts
 * import { dataValue } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * const item = { id: "rate", name: "Rate", category: "currentData" as const, value: NaN, schema: { type: ["number", "null"] } };
 * assertEquals(dataValue(item, true), { id: "rate", data: null, schema: { type: ["number", "null"] } });
 * ```
 *
 * @param item The item.
 * @param includeSchema Whether to add its schema (`{}` when it has none).
 * @returns The body.
 */
export function dataValue(item: DataItem, includeSchema = false): Record<string, unknown> {
  const data = JSON.parse(JSON.stringify(item.value ?? null));
  return includeSchema ? { id: item.id, data, schema: item.schema ?? {} } : { id: item.id, data };
}

/**
 * An entity's status: `{"status":"ready"|"notReady"}` plus the URI of each
 * control it supports, keyed by the control's name.
 *
 * @example A plugin that can restart
 * ```ts
 * import { statusBody } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * const body = statusBody({ status: "ready", controls: ["restart"] }, { id: "p", name: "p", type: "app" }, { base: "/api/v1" });
 * assertEquals(body, { status: "ready", restart: "/api/v1/apps/p/status/restart" });
 * ```
 *
 * @param status The status.
 * @param entity The entity.
 * @param options Mount and dialect.
 * @returns The body.
 * @throws {TypeError} when `base` or `dialect` is invalid.
 */
export function statusBody(
  status: EntityStatus,
  entity: EntityInfo,
  options: WireOptions,
): Record<string, unknown> {
  const { base, medkit } = resolve("write a status", options);
  const href = `${entityHref(entity, base)}/status`;
  const body: Record<string, unknown> = { status: status.status };
  for (const control of status.controls) body[control] = `${href}/${control}`;
  if (medkit && status.reason !== undefined) body["x-medkit"] = { reason: status.reason };
  return body;
}

/**
 * An operation list: `{"items":[{"id","name","proximity_proof_required":false,"asynchronous_execution"}]}`.
 *
 * @example One operation
 * ```ts
 * import { operationList } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(operationList([{ id: "calibrate", name: "Calibrate" }]), {
 *   items: [{ id: "calibrate", name: "Calibrate", proximity_proof_required: false, asynchronous_execution: true }],
 * });
 * ```
 *
 * @param operations The operations.
 * @returns The body.
 */
export function operationList(operations: readonly OperationInfo[]): { items: unknown[] } {
  return {
    items: operations.map((o) => ({
      id: o.id,
      name: o.name,
      proximity_proof_required: false,
      asynchronous_execution: o.asynchronous ?? true,
    })),
  };
}

function reference(e: EntityInfo, base: string): EntityReferenceJson {
  return { id: e.id, name: e.name, href: entityHref(e, base), type: e.type };
}
