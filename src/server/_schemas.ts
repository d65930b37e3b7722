// The named JSON Schemas (2020-12, as OpenAPI 3.1 embeds them) of every
// body the server sends: `components.schemas` of its /docs.

import { DATA_CATEGORIES, FAULT_STATUSES } from "../sovd/model.ts";
import { SOVD_ERROR_STATUS } from "../sovd/wire_faults.ts";

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str: Schema = { type: "string" };
const uri: Schema = { type: "string", pattern: "^/" };
const int: Schema = { type: "integer", minimum: 0 };
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: "object",
  properties,
  required,
});

const ENTITY_TYPE: Schema = { type: "string", enum: ["area", "component", "app", "function"] };
const MEDKIT_ENTITY: Schema = obj({
  is_online: { type: "boolean" },
  health: { type: "string", enum: ["OK", "ERROR"] },
  component_id: str,
  source: str,
  seam_id: str,
});

/** Every named schema, by name. */
export const SCHEMAS: Readonly<Record<string, Schema>> = {
  GenericError: {
    ...obj({
      error_code: { type: "string", enum: [...Object.keys(SOVD_ERROR_STATUS)] },
      message: str,
      vendor_code: str,
      parameters: { type: "object" },
    }, ["error_code", "message"]),
    additionalProperties: false,
  },
  Root: obj({
    id: str,
    name: str,
    version: str,
    api_base: uri,
    components: uri,
    apps: uri,
    areas: uri,
    functions: uri,
    faults: uri,
    capabilities: { type: "object", additionalProperties: { type: "boolean" } },
  }, ["id", "name", "version", "api_base", "components", "apps", "areas", "functions"]),
  VersionInfoEntry: obj({
    version: str,
    base_uri: { type: "string", pattern: "^https?://" },
    vendor_info: obj({ name: str, version: str }, ["name", "version"]),
  }, ["version", "base_uri", "vendor_info"]),
  VersionInfo: obj({
    sovd_info: { type: "array", items: ref("VersionInfoEntry"), minItems: 1 },
    items: { type: "array", items: ref("VersionInfoEntry"), minItems: 1 },
  }, ["sovd_info", "items"]),
  Health: obj({
    status: { type: "string", enum: ["healthy", "degraded"] },
    timestamp: { type: "integer" },
    warnings: { type: "array", items: str },
  }, ["status", "timestamp", "warnings"]),
  EntityReference: obj({ id: str, name: str, href: uri, type: ENTITY_TYPE }, [
    "id",
    "name",
    "href",
  ]),
  EntityCollection: obj({
    items: { type: "array", items: ref("EntityReference") },
    "x-medkit": obj({ total_count: int }, ["total_count"]),
  }, ["items"]),
  RelationCollection: obj({ items: { type: "array", items: ref("EntityReference") } }, ["items"]),
  EntityCapabilities: obj({
    id: str,
    name: str,
    type: ENTITY_TYPE,
    data: uri,
    faults: uri,
    status: uri,
    operations: uri,
    logs: uri,
    hosts: uri,
    "is-located-on": uri,
    "belongs-to": uri,
    contains: uri,
    capabilities: {
      type: "array",
      items: obj({ name: str, href: uri }, ["name", "href"]),
    },
    "x-medkit": MEDKIT_ENTITY,
  }, ["id", "name", "type", "data", "faults", "status", "operations", "logs", "capabilities"]),
  DataCategoryList: obj({
    items: {
      type: "array",
      items: obj({ item: { type: "string", enum: [...DATA_CATEGORIES] } }, ["item"]),
    },
  }, ["items"]),
  DataGroupList: obj({ items: { type: "array", items: obj({ id: str }, ["id"]) } }, ["items"]),
  ValueMetadata: obj({
    id: str,
    name: str,
    category: { type: "string", enum: [...DATA_CATEGORIES] },
  }, ["id", "name", "category"]),
  DataList: obj({ items: { type: "array", items: ref("ValueMetadata") } }, ["items"]),
  ReadValue: obj({ id: str, data: {}, schema: { type: "object" } }, ["id", "data"]),
  FaultStatus: obj({
    aggregatedStatus: { type: "string", enum: [...FAULT_STATUSES] },
    testFailed: { type: "string", enum: ["0", "1"] },
    confirmedDTC: { type: "string", enum: ["0", "1"] },
    pendingDTC: { type: "string", enum: ["0", "1"] },
  }, ["aggregatedStatus"]),
  Fault: obj({
    code: str,
    fault_name: str,
    severity: { type: "integer", minimum: 1, maximum: 4 },
    status: ref("FaultStatus"),
    fault_code: str,
    description: str,
    severity_label: { type: "string", enum: ["FATAL", "ERROR", "WARN", "INFO"] },
    occurrence_count: int,
    reporting_sources: { type: "array", items: str },
    first_occurred: { type: "number" },
    last_occurred: { type: "number" },
  }, ["code", "fault_name", "severity", "status"]),
  FaultList: obj({
    items: { type: "array", items: ref("Fault") },
    "x-medkit": obj({ count: int, entity_id: str }, ["count"]),
  }, ["items"]),
  FaultDetail: obj({ item: ref("Fault"), environment_data: { type: "object" } }, [
    "item",
    "environment_data",
  ]),
  EntityStatus: {
    ...obj({
      status: { type: "string", enum: ["ready", "notReady"] },
      restart: uri,
      shutdown: uri,
      "force-shutdown": uri,
      "x-medkit": obj({ reason: str }),
    }, ["status"]),
  },
  ControlAccepted: obj({ id: str, status: { type: "string", enum: ["running"] } }, [
    "id",
    "status",
  ]),
  OperationList: obj({
    items: {
      type: "array",
      items: obj({
        id: str,
        name: str,
        proximity_proof_required: { type: "boolean" },
        asynchronous_execution: { type: "boolean" },
      }, ["id", "name", "proximity_proof_required", "asynchronous_execution"]),
    },
  }, ["items"]),
  LogsInfo: obj({ entries: uri, config: uri }, ["entries", "config"]),
  LogsConfig: obj({
    max_entries: int,
    severity_filter: { type: "string", enum: ["fatal", "error", "warn", "info", "debug"] },
  }, ["max_entries", "severity_filter"]),
  LogEntries: obj({
    items: {
      type: "array",
      items: obj({
        timestamp: { type: "string", pattern: "^\\d{4}-\\d{2}-\\d{2}T" },
        context: obj({ type: str, host: str, process: str, pid: int }, [
          "type",
          "host",
          "process",
          "pid",
        ]),
        severity: { type: "string", enum: ["fatal", "error", "warn", "info", "debug"] },
        msg: str,
      }, ["timestamp", "context", "severity", "msg"]),
    },
  }, ["items"]),
  OpenApiDocument: obj({ openapi: str, info: { type: "object" }, paths: { type: "object" } }, [
    "openapi",
    "info",
    "paths",
  ]),
};
