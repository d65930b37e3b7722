// The SOVD routes (relative to a mount), as a route table: the entity
// collections and their resources, the global faults and the fault stream.
// Handlers read through the ProviderRegistry (snapshots, off the control
// path) and write the bodies with the pure wire functions of sovd/.

import type { ProviderRegistry } from "../sovd/provider.ts";
import type { FaultMonitor } from "../sovd/fault_monitor.ts";
import {
  ENTITY_COLLECTIONS,
  type EntityCollection,
  type EntityInfo,
  type EntityType,
  type Fault,
  FAULT_SEVERITY_LABELS,
  type LogEntry,
  STATUS_CONTROLS,
  type StatusControl,
} from "../sovd/model.ts";
import { requireSovdId } from "../sovd/ids.ts";
import {
  dataCategoryList,
  dataList,
  dataValue,
  entityCapabilities,
  entityCollection,
  operationList,
  parseDataCategories,
  parseIncludeSchema,
  relationCollection,
  type SovdDialect,
  statusBody,
} from "../sovd/wire.ts";
import { faultDetail, faultList, filterFaults, parseFaultFilter } from "../sovd/wire_faults.ts";
import { badRequest, httpError, JSON_HEADERS, notFound, parseInput } from "./_errors.ts";
import type { RouteParameter, RouteRequest, RouteSpec } from "./_routes.ts";
import type { FaultStreams } from "./_fault_streams.ts";

/** What the SOVD routes read. */
export interface SovdRouteContext {
  readonly registry: ProviderRegistry;
  readonly monitor: FaultMonitor;
  readonly streams: FaultStreams;
  readonly dialect: SovdDialect;
  readonly version: string;
  readonly tokenConfigured: boolean;
  readonly logEntries: number;
  health(): Record<string, unknown>;
  docs(): string;
}

/** Builds a JSON response. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

const RELATIONS: Readonly<Record<EntityType, readonly string[]>> = {
  component: ["hosts", "belongs-to"],
  app: ["is-located-on", "belongs-to"],
  function: ["belongs-to"],
  area: ["contains"],
};

const SINGULAR: Readonly<Record<EntityType, string>> = {
  area: "Area",
  component: "Component",
  app: "App",
  function: "Function",
};

const CATEGORY_QUERY: RouteParameter = {
  name: "category",
  in: "query",
  description: "Only items of these categories (repeatable)",
  schema: { type: "string", enum: ["currentData", "identData", "storedData", "sysInfo"] },
};
const INCLUDE_SCHEMA_QUERY: RouteParameter = {
  name: "include-schema",
  in: "query",
  description: "Add the JSON Schema of the value (units as x-sovd-unit)",
  schema: { type: "string", enum: ["true", "false"] },
};
const FAULT_QUERIES: readonly RouteParameter[] = [
  {
    name: "status[aggregatedStatus]",
    in: "query",
    description: "Only faults with these statuses (repeatable, OR)",
    schema: { type: "string", enum: ["active", "passive", "cleared"] },
  },
  {
    name: "severity",
    in: "query",
    description: "Only faults of this ISO severity or more severe (1 FATAL .. 4 INFO)",
    schema: { type: "string", enum: ["1", "2", "3", "4"] },
  },
];

function id(request: RouteRequest, name: string, label: string): string {
  return parseInput(() => requireSovdId(`read ${label}`, name, request.param(name)), name);
}

/** The SOVD routes of one server, relative to a mount. */
export function sovdRoutes(context: SovdRouteContext): RouteSpec[] {
  const { registry, monitor, dialect } = context;
  const routes: RouteSpec[] = [];
  const route = (spec: RouteSpec) => routes.push(spec);

  route({
    method: "GET",
    path: "/",
    scope: "sovd",
    operationId: "getRoot",
    summary: "The entry point: links to every collection and the capabilities",
    tag: "discovery",
    write: false,
    success: { status: 200, description: "The root", schema: "Root" },
    errors: [],
    handle: (r) =>
      json({
        id: "",
        name: "Chronetix",
        version: context.version,
        api_base: r.base,
        components: `${r.base}/components`,
        apps: `${r.base}/apps`,
        areas: `${r.base}/areas`,
        functions: `${r.base}/functions`,
        faults: `${r.base}/faults`,
        capabilities: {
          discovery: true,
          data: true,
          faults: true,
          fault_stream: true,
          operations: true,
          logs: true,
          status_controls: true,
          authentication: context.tokenConfigured,
        },
      }),
  });
  route({
    method: "GET",
    path: "/health",
    scope: "sovd",
    operationId: "getHealth",
    summary: "Whether the server and the kernel are healthy (ros2_medkit extension)",
    tag: "discovery",
    write: false,
    success: { status: 200, description: "The health", schema: "Health" },
    errors: [],
    handle: () => json(context.health()),
  });
  route({
    method: "GET",
    path: "/docs",
    scope: "sovd",
    operationId: "getDocs",
    summary: "The OpenAPI 3.1 document of what this server serves",
    tag: "discovery",
    write: false,
    success: { status: 200, description: "OpenAPI 3.1", schema: "OpenApiDocument" },
    errors: [],
    handle: () => new Response(context.docs(), { status: 200, headers: JSON_HEADERS }),
  });
  route({
    method: "GET",
    path: "/faults",
    scope: "sovd",
    operationId: "listAllFaults",
    summary: "Every fault of every entity (extension), with the ISO filters",
    tag: "faults",
    write: false,
    parameters: FAULT_QUERIES,
    success: { status: 200, description: "The faults", schema: "FaultList" },
    errors: [400],
    handle: (r) => {
      const filter = parseInput(() => parseFaultFilter(r.url.searchParams));
      return json(faultList(filterFaults(registry.allFaults(), filter), { dialect }));
    },
  });
  route({
    method: "DELETE",
    path: "/faults",
    scope: "sovd",
    operationId: "clearAllFaults",
    summary: "Clears every passive fault (active ones stay)",
    tag: "faults",
    write: true,
    success: { status: 204, description: "Cleared" },
    errors: [],
    handle: () => {
      for (const f of registry.allFaults()) {
        if (f.status !== "active") registry.clearFault(f.entityType, f.entityId, f.code);
      }
      return new Response(null, { status: 204 });
    },
  });
  route({
    method: "GET",
    path: "/faults/stream",
    scope: "sovd",
    operationId: "streamFaults",
    summary: "Server-Sent Events: every fault change, replayed after Last-Event-ID",
    tag: "faults",
    write: false,
    parameters: [{
      name: "Last-Event-ID",
      in: "header",
      description: "The last event id seen: replay what came after it",
      schema: { type: "string", pattern: "^[0-9]{1,15}$" },
    }],
    success: { status: 200, description: "An event stream", contentType: "text/event-stream" },
    errors: [400, 429, 503],
    handle: (r) => context.streams.open(r.client, r.header("last-event-id")),
  });

  for (
    const [type, collection] of Object.entries(ENTITY_COLLECTIONS) as [
      EntityType,
      EntityCollection,
    ][]
  ) {
    addEntityRoutes(type, collection);
  }
  return routes;

  function addEntityRoutes(type: EntityType, collection: EntityCollection): void {
    const one = SINGULAR[type];
    const item = `/${collection}/:entityId`;
    const label = `${type}`;
    const find = (r: RouteRequest): EntityInfo => {
      const entityId = id(r, "entityId", `an ${label}`);
      const found = registry.entity(type, entityId);
      if (found === undefined) {
        throw notFound(`No ${type} '${entityId}' in the tree`, "entity-not-found");
      }
      return found.info;
    };
    route({
      method: "GET",
      path: `/${collection}`,
      scope: "sovd",
      operationId: `list${one}s`,
      summary: `Every ${type}`,
      tag: "discovery",
      write: false,
      success: { status: 200, description: `The ${collection}`, schema: "EntityCollection" },
      errors: [],
      handle: (r) => json(entityCollection(registry.entities(type), { base: r.base, dialect })),
    });
    route({
      method: "GET",
      path: item,
      scope: "sovd",
      operationId: `get${one}`,
      summary: `One ${type}: its resources, relations and capabilities`,
      tag: "discovery",
      write: false,
      success: { status: 200, description: `The ${type}`, schema: "EntityCapabilities" },
      errors: [400, 404],
      handle: (r) => {
        const info = find(r);
        return json(entityCapabilities(info, {
          base: r.base,
          dialect,
          status: registry.status(type, info.id),
          faults: registry.faults(type, info.id),
        }));
      },
    });
    for (const relation of RELATIONS[type]) {
      route({
        method: "GET",
        path: `${item}/${relation}`,
        scope: "sovd",
        operationId: `get${one}${camel(relation)}`,
        summary: `The ${relation} relation of a ${type}`,
        tag: "discovery",
        write: false,
        success: { status: 200, description: "The related entities", schema: "RelationCollection" },
        errors: [400, 404],
        handle: (r) => {
          const info = find(r);
          const rel = registry.relations(type, info.id)!;
          const related = relation === "hosts"
            ? rel.hosts
            : relation === "is-located-on"
            ? rel.isLocatedOn
            : relation === "belongs-to"
            ? rel.belongsTo
            : rel.contains;
          return json(relationCollection(related, { base: r.base, dialect }));
        },
      });
    }
    route({
      method: "GET",
      path: `${item}/data-categories`,
      scope: "sovd",
      operationId: `list${one}DataCategories`,
      summary: `The data categories of a ${type}`,
      tag: "data",
      write: false,
      success: { status: 200, description: "The categories", schema: "DataCategoryList" },
      errors: [400, 404],
      handle: (r) => json(dataCategoryList(registry.data(type, find(r).id) ?? [])),
    });
    route({
      method: "GET",
      path: `${item}/data-groups`,
      scope: "sovd",
      operationId: `list${one}DataGroups`,
      summary: `The data groups of a ${type} (none)`,
      tag: "data",
      write: false,
      success: { status: 200, description: "The groups", schema: "DataGroupList" },
      errors: [400, 404],
      handle: (r) => {
        find(r);
        return json({ items: [] });
      },
    });
    route({
      method: "GET",
      path: `${item}/data`,
      scope: "sovd",
      operationId: `list${one}Data`,
      summary: `The data items of a ${type}`,
      tag: "data",
      write: false,
      parameters: [CATEGORY_QUERY],
      success: { status: 200, description: "The items", schema: "DataList" },
      errors: [400, 404],
      handle: (r) => {
        const info = find(r);
        const categories = parseInput(
          () => parseDataCategories(r.url.searchParams.getAll("category")),
          "category",
        );
        return json(dataList(registry.data(type, info.id) ?? [], categories));
      },
    });
    route({
      method: "GET",
      path: `${item}/data/:dataId`,
      scope: "sovd",
      operationId: `read${one}Data`,
      summary: `One data item of a ${type}, with its schema when asked`,
      tag: "data",
      write: false,
      parameters: [INCLUDE_SCHEMA_QUERY],
      success: { status: 200, description: "The value", schema: "ReadValue" },
      errors: [400, 404],
      handle: (r) => {
        const info = find(r);
        const dataId = id(r, "dataId", "a data item");
        const withSchema = parseInput(
          () => parseIncludeSchema(r.url.searchParams.get("include-schema")),
          "include-schema",
        );
        const found = (registry.data(type, info.id) ?? []).find((d) => d.id === dataId);
        if (found === undefined) {
          throw notFound(`No data item '${dataId}' on ${type} '${info.id}'`, "resource-not-found");
        }
        return json(dataValue(found, withSchema));
      },
    });
    route({
      method: "GET",
      path: `${item}/faults`,
      scope: "sovd",
      operationId: `list${one}Faults`,
      summary: `The faults of a ${type}, with the ISO filters`,
      tag: "faults",
      write: false,
      parameters: FAULT_QUERIES,
      success: { status: 200, description: "The faults", schema: "FaultList" },
      errors: [400, 404],
      handle: (r) => {
        const info = find(r);
        const filter = parseInput(() => parseFaultFilter(r.url.searchParams));
        const faults = filterFaults(registry.faults(type, info.id) ?? [], filter);
        return json(faultList(faults, { entityId: info.id, dialect }));
      },
    });
    route({
      method: "DELETE",
      path: `${item}/faults`,
      scope: "sovd",
      operationId: `clear${one}Faults`,
      summary: `Clears the passive faults of a ${type} (active ones stay)`,
      tag: "faults",
      write: true,
      success: { status: 204, description: "Cleared" },
      errors: [400, 404],
      handle: (r) => {
        const info = find(r);
        for (const f of registry.faults(type, info.id) ?? []) {
          if (f.status !== "active") registry.clearFault(type, info.id, f.code);
        }
        return new Response(null, { status: 204 });
      },
    });
    const findFault = (r: RouteRequest): Fault => {
      const info = find(r);
      const code = id(r, "faultCode", "a fault");
      const fault = (registry.faults(type, info.id) ?? []).find((f) => f.code === code);
      if (fault === undefined) {
        throw notFound(`No fault '${code}' on ${type} '${info.id}'`, "resource-not-found");
      }
      return fault;
    };
    route({
      method: "GET",
      path: `${item}/faults/:faultCode`,
      scope: "sovd",
      operationId: `get${one}Fault`,
      summary: `One fault of a ${type}, with its environment data`,
      tag: "faults",
      write: false,
      success: { status: 200, description: "The fault", schema: "FaultDetail" },
      errors: [400, 404],
      handle: (r) => json(faultDetail(findFault(r), dialect)),
    });
    route({
      method: "DELETE",
      path: `${item}/faults/:faultCode`,
      scope: "sovd",
      operationId: `clear${one}Fault`,
      summary: `Clears one passive fault of a ${type}`,
      tag: "faults",
      write: true,
      success: { status: 204, description: "Cleared" },
      errors: [400, 404, 409],
      handle: (r) => {
        const fault = findFault(r);
        const result = registry.clearFault(type, fault.entityId, fault.code);
        if (result === "active") {
          throw httpError(
            409,
            "precondition-not-fulfilled",
            `Cannot clear fault '${fault.code}' as its condition still holds`,
          );
        }
        if (result === "unknown") {
          throw notFound(
            `No fault '${fault.code}' on ${type} '${fault.entityId}'`,
            "resource-not-found",
          );
        }
        return new Response(null, { status: 204 });
      },
    });
    route({
      method: "GET",
      path: `${item}/status`,
      scope: "sovd",
      operationId: `get${one}Status`,
      summary: `Whether a ${type} is ready, and the controls it offers`,
      tag: "status",
      write: false,
      success: { status: 200, description: "The status", schema: "EntityStatus" },
      errors: [400, 404],
      handle: (r) => {
        const info = find(r);
        return json(statusBody(registry.status(type, info.id)!, info, { base: r.base, dialect }));
      },
    });
    for (const method of ["PUT", "POST"] as const) {
      route({
        method,
        path: `${item}/status/:control`,
        scope: "sovd",
        operationId: `${method === "PUT" ? "put" : "post"}${one}StatusControl`,
        summary:
          `Runs a status control (restart, shutdown, force-shutdown) of a ${type}: 202 and Location; 501 while its provider offers no control()`,
        tag: "status",
        write: true,
        success: { status: 202, description: "Accepted", schema: "ControlAccepted" },
        errors: [400, 404, 501],
        handle: (r) => {
          const info = find(r);
          const control = r.param("control");
          if (!(STATUS_CONTROLS as readonly string[]).includes(control)) {
            throw badRequest(
              `Cannot run a status control as 'control' must be one of "restart", "shutdown", "force-shutdown": current value is ${
                JSON.stringify(control.slice(0, 64))
              }`,
              "control",
            );
          }
          const result = registry.control(type, info.id, control as StatusControl);
          if (result !== "accepted") {
            throw httpError(
              501,
              "not-implemented",
              `Cannot ${control} ${type} '${info.id}' as its provider offers no such control`,
            );
          }
          const location = `${r.base}/${collection}/${info.id}/status`;
          return json({ id: control, status: "running" }, 202, { location });
        },
      });
    }
    route({
      method: "GET",
      path: `${item}/operations`,
      scope: "sovd",
      operationId: `list${one}Operations`,
      summary: `The operations a ${type} offers`,
      tag: "operations",
      write: false,
      success: { status: 200, description: "The operations", schema: "OperationList" },
      errors: [400, 404],
      handle: (r) => json(operationList(registry.operations(type, find(r).id) ?? [])),
    });
    route({
      method: "GET",
      path: `${item}/logs`,
      scope: "sovd",
      operationId: `get${one}Logs`,
      summary: `The log resources of a ${type}`,
      tag: "logs",
      write: false,
      success: { status: 200, description: "Links", schema: "LogsInfo" },
      errors: [400, 404],
      handle: (r) => {
        const href = `${r.base}/${collection}/${find(r).id}/logs`;
        return json({ entries: `${href}/entries`, config: `${href}/config` });
      },
    });
    route({
      method: "GET",
      path: `${item}/logs/config`,
      scope: "sovd",
      operationId: `get${one}LogsConfig`,
      summary: `The log configuration of a ${type} (read-only)`,
      tag: "logs",
      write: false,
      success: { status: 200, description: "The configuration", schema: "LogsConfig" },
      errors: [400, 404],
      handle: (r) => {
        find(r);
        return json({ max_entries: context.logEntries, severity_filter: "debug" });
      },
    });
    route({
      method: "GET",
      path: `${item}/logs/entries`,
      scope: "sovd",
      operationId: `list${one}LogEntries`,
      summary: `Recent log entries of a ${type}: its provider's, then its fault events`,
      tag: "logs",
      write: false,
      success: { status: 200, description: "The entries", schema: "LogEntries" },
      errors: [400, 404],
      handle: (r) => {
        const info = find(r);
        const entries: LogEntry[] = [...(registry.logs(type, info.id) ?? [])];
        for (const event of monitor.log.since(0).events) {
          const f = event.fault;
          if (f.entityId !== info.id || f.entityType !== type) continue;
          entries.push({
            timestampMs: event.timestampMs,
            severity: event.type === "fault_cleared"
              ? "info"
              : FAULT_SEVERITY_LABELS[f.severity].toLowerCase() as LogEntry["severity"],
            message: `${event.type} ${f.code}: ${f.description}`,
          });
        }
        const kept = entries.slice(-context.logEntries);
        return json({ items: kept.map(logItem) });
      },
    });
  }
}

function camel(relation: string): string {
  return relation.split("-").map((p) => p[0]!.toUpperCase() + p.slice(1)).join("");
}

function logItem(entry: LogEntry): Record<string, unknown> {
  return {
    timestamp: new Date(entry.timestampMs).toISOString(),
    context: { type: "RFC5424", host: "localhost", process: "chronetix", pid: Deno.pid },
    severity: entry.severity,
    msg: entry.message,
  };
}
