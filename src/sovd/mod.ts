/**
 * The SOVD layer: the entity model (areas, components, apps, functions;
 * data items, faults, status), the {@linkcode Provider} seam and its
 * {@linkcode ProviderRegistry}, the executor binding ({@linkcode TaskSink}
 * fed by {@linkcode ExecutorHooks}, or {@linkcode TaskPoller} polling
 * `stats()`), the built-in providers (the kernel, executor, pool, ports,
 * rings and islands), the fault model
 * ({@linkcode FaultMonitor}, {@linkcode FaultEventLog}, detectors) and the
 * JSON the server writes (pure functions). Everything here reads off the
 * control path.
 *
 * @example A kernel's SOVD tree
 * ```ts
 * import { Kernel } from "@chronetix/core";
 * import { ExecutorProvider, FaultMonitor, kernelProvider, ProviderRegistry } from "@chronetix/core/sovd";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * await using kernel = await Kernel.start({ clock });
 * kernel.periodic({ name: "sampler", periodMs: 10, run: () => {} });
 * const monitor = new FaultMonitor({ clock });
 * const registry = new ProviderRegistry();
 * registry.register(kernelProvider(kernel, { monitor }));
 * registry.register(new ExecutorProvider(kernel.executor, { monitor }));
 * clock.advance(100);
 * monitor.evaluate();
 * assertEquals(registry.entities().map((e) => e.id), ["kernel", "executor", "sampler"]);
 * assertEquals(registry.allFaults(), []);
 * ```
 *
 * @module
 */
export { isSovdId, requireSovdId, SOVD_ID_MAX_LENGTH, SOVD_ID_PATTERN, toSovdId } from "./ids.ts";
export {
  type ControlResult,
  DATA_CATEGORIES,
  type DataCategory,
  type DataItem,
  ENTITY_COLLECTIONS,
  ENTITY_TYPES,
  type EntityCollection,
  type EntityInfo,
  type EntityStatus,
  type EntityType,
  type Fault,
  FAULT_SEVERITY_LABELS,
  FAULT_STATUSES,
  type FaultSeverity,
  type FaultSeverityLabel,
  type FaultStatus,
  type JsonSchema,
  type LogEntry,
  type LogSeverity,
  type OperationInfo,
  type Readiness,
  type SovdUnit,
  STATUS_CONTROLS,
  type StatusControl,
  toMedkitSeverity,
} from "./model.ts";
export {
  type EntityRelations,
  type EntityTree,
  type FaultClearResult,
  type Provider,
  ProviderRegistry,
  type ProviderRegistryOptions,
  type RegisteredEntity,
} from "./provider.ts";
export {
  type ExecutorHooks,
  LIVENESS_STATES,
  type LivenessState,
  type TaskBinding,
  type TaskLiveness,
  TaskSink,
  type TaskSinkOptions,
  type TaskSinkStats,
  type TaskTiming,
} from "./task_sink.ts";
export { TaskPoller } from "./task_poller.ts";
export {
  ExecutorProvider,
  type ExecutorProviderOptions,
  type ExecutorSource,
} from "./executor_provider.ts";
export { ComponentProvider, type ComponentProviderOptions } from "./component_provider.ts";
export {
  ISLAND_FAULT_CODES,
  type IslandFaultCodes,
  IslandProvider,
  type IslandProviderOptions,
  type IslandSource,
  type IslandsSource,
} from "./island_provider.ts";
export {
  dataPortProvider,
  kernelProvider,
  type KernelSource,
  offloadProvider,
  type PartProviderOptions,
  ringProvider,
} from "./part_providers.ts";
export {
  type FaultEvent,
  FaultEventLog,
  type FaultEventLogOptions,
  type FaultEventLogStats,
  type FaultEventType,
  type FaultReplay,
  parseLastEventId,
} from "./fault_log.ts";
export {
  type FaultCondition,
  type FaultDetector,
  FaultMonitor,
  type FaultMonitorOptions,
  type FaultMonitorStats,
} from "./fault_monitor.ts";
export {
  dataPortFaultDetector,
  FAULT_CODES,
  type FaultCodes,
  metricsFaultDetector,
  offloadFaultDetector,
  type PartFaultDetectorOptions,
  ringFaultDetector,
  taskFaultDetector,
  type TaskFaultDetectorOptions,
} from "./fault_detectors.ts";
export {
  type CapabilitiesOptions,
  dataCategoryList,
  dataList,
  dataValue,
  entityCapabilities,
  entityCollection,
  entityHref,
  type EntityReferenceJson,
  operationList,
  parseDataCategories,
  parseEntityCollection,
  parseIncludeSchema,
  relationCollection,
  SOVD_DIALECTS,
  type SovdDialect,
  statusBody,
  type WireOptions,
} from "./wire.ts";
export {
  faultDetail,
  faultEventData,
  faultEventFrame,
  type FaultFilter,
  faultItem,
  faultList,
  filterFaults,
  genericError,
  type GenericErrorJson,
  parseFaultFilter,
  SOVD_ERROR_STATUS,
  type SovdErrorCode,
  versionInfo,
  type VersionInfoJson,
} from "./wire_faults.ts";
