/**
 * Plugins: permission-scoped modules loaded, supervised and unloaded by a
 * {@linkcode PluginManager}. A manifest ({@linkcode validateManifest},
 * {@linkcode loadManifest}) names the entry, isolation, permissions,
 * capabilities, restart policy and budgets; the {@linkcode Supervisor}
 * restarts failed plugins with OTP semantics and jittered backoff; the
 * {@linkcode TelemetryRing} keeps lifecycle and meta events. Plugin modules
 * themselves import `definePlugin` from `@chronetix/core/plugin`.
 *
 * @example A ring of plugin events
 * ```ts
 * import { TelemetryRing } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * using ring = new TelemetryRing({ capacity: 8, include: { kinds: ["restart_give_up"] } });
 * ring.record({ kind: "restart_give_up", plugin: "sampler", reason: "5 restarts within 60000 ms" });
 * ring.record({ kind: "load", plugin: "sampler" }); // filtered out
 * assertEquals(ring.snapshot().length, 1);
 * assertEquals(ring.stats().dropped.filter, 1);
 * ```
 *
 * @module
 */
export {
  type PluginEscalation,
  type PluginInfo,
  type PluginLoadOptions,
  PluginManager,
  type PluginManagerCloseReport,
  type PluginManagerOptions,
  type PluginManagerStats,
  type PluginRestartOptions,
  type PluginStopOptions,
  type PluginStopReport,
} from "./plugin_manager.ts";
export {
  type LifecycleState,
  type LifecycleStats,
  type PhaseStats,
  PluginLifecycle,
  type PluginLifecycleOptions,
  type PluginPhase,
  type PluginState,
  type PluginTransition,
  type SteppingPhase,
} from "./lifecycle.ts";
export {
  type ChildExit,
  type ResolvedRecovery,
  type SupervisedChildStats,
  Supervisor,
  type SupervisorDecision,
  type SupervisorOptions,
  type SupervisorStats,
} from "./supervisor.ts";
export {
  type TelemetryDropReason,
  type TelemetryEvent,
  type TelemetryFilter,
  type TelemetryFilters,
  type TelemetryInput,
  type TelemetryKind,
  type TelemetryReadOptions,
  TelemetryRing,
  type TelemetryRingOptions,
  type TelemetryRingStats,
} from "./telemetry_ring.ts";
export type {
  PluginBus,
  PluginBusTopic,
  PluginExit,
  PluginExitCause,
  PluginHost,
  PluginHostEnvironment,
  PluginHostFactory,
  PluginHostStats,
  PluginKillReport,
  PluginLiveness,
  PluginMetricLimits,
  PluginPhaseOptions,
} from "./host.ts";
export { createInlineHost, InlineHost, InlineReloads } from "./inline_host.ts";
export {
  RESOURCE_KINDS,
  type ResourceEntry,
  type ResourceKind,
  ResourceRegistry,
  type ResourceRegistryStats,
} from "./resource_registry.ts";
export {
  type HotReloadStats,
  RELOAD_DEFAULTS,
  RELOAD_PHASES,
  type ReloadOptions,
  type ReloadPhase,
  type ReloadPhaseReport,
  type ReloadReport,
  type ReloadResourceCheck,
} from "./hot_reload_types.ts";
export {
  createWorkerHost,
  type RemoteHostOptions,
  type RemoteHostStats,
  type WorkerHostFactory,
  type WorkerHostFactoryStats,
  type WorkerHostOptions,
} from "./worker_host.ts";
export {
  createProcessHost,
  type ProcessHostFactory,
  type ProcessHostFactoryStats,
  type ProcessHostOptions,
} from "./process_host.ts";
export { PluginError, type PluginErrorCode } from "./plugin_error.ts";
// What a hot reload hands over (the plugin-side API is "@chronetix/core/plugin").
export type { PluginStateSnapshot } from "./author.ts";
// The manifest (MANIFEST helper's files).
export type {
  FailureRecoveryConfig,
  PermissionKind,
  PermissionValue,
  PluginBudgets,
  PluginCapability,
  PluginIsolation,
  PluginLimits,
  PluginManifest,
  PluginPermissions,
  ResolvedManifest,
  ResolvedPermissions,
  RestartType,
} from "./manifest_types.ts";
export {
  loadManifest,
  ManifestError,
  type ManifestErrorCode,
  validateManifest,
  type ValidateManifestOptions,
} from "./manifest.ts";
export {
  auditImports,
  type AuditImportsOptions,
  type ImportAudit,
  ImportAuditError,
  type ImportAuditErrorCode,
  type ImportViolation,
  type UnresolvedModule,
} from "./import_audit.ts";
export {
  inlinePermissionWarning,
  type PermissionEscalation,
  PermissionEscalationError,
} from "./permissions.ts";
