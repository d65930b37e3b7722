// The types of a plugin manifest: what an operator writes (PluginManifest) and
// what validateManifest() hands back with every default filled in
// (ResolvedManifest). The values live in manifest.ts; this file holds types
// and the fixed lists only, so every plugin file can import it.

/**
 * Where a plugin runs.
 *
 * - `"inline"`: a dynamic `import()` in the kernel's isolate. Fastest, for
 *   trusted code only: the plugin has the KERNEL's permissions, whatever its
 *   manifest asks for.
 * - `"worker"` (default): a Web Worker with the manifest's permissions.
 * - `"process"`: a Deno subprocess with the manifest's permission flags; the
 *   only isolation that can be killed hard and that contains out-of-memory.
 */
export type PluginIsolation = "inline" | "worker" | "process";

/**
 * The isolation levels, in the order of the docs.
 *
 * @example Listing the isolation levels
 * ```ts
 * import { PLUGIN_ISOLATIONS } from "./manifest_types.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(PLUGIN_ISOLATIONS, ["inline", "worker", "process"]);
 * ```
 */
export const PLUGIN_ISOLATIONS: readonly PluginIsolation[] = Object.freeze([
  "inline",
  "worker",
  "process",
]);

/** The Deno permission kinds a manifest can grant, the keys of `Deno.PermissionOptionsObject`. */
export type PermissionKind = "read" | "write" | "net" | "env" | "run" | "ffi" | "sys" | "import";

/**
 * Every permission kind, in the order flags are written.
 *
 * @example Listing the permission kinds
 * ```ts
 * import { PERMISSION_KINDS } from "./manifest_types.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(PERMISSION_KINDS.length, 8);
 * assertEquals(PERMISSION_KINDS[0], "read");
 * ```
 */
export const PERMISSION_KINDS: readonly PermissionKind[] = Object.freeze([
  "read",
  "write",
  "net",
  "env",
  "run",
  "ffi",
  "sys",
  "import",
]);

/**
 * One permission kind's grant, as in `Deno.PermissionOptionsObject`:
 * `false` denies, `true` grants it all, `"inherit"` takes what the kernel has,
 * a list grants only those paths / hosts / names / commands.
 */
export type PermissionValue = boolean | "inherit" | readonly string[];

/**
 * Permissions as written in a manifest: the same object shape as
 * `Deno.PermissionOptionsObject`. A kind left out is denied.
 */
export type PluginPermissions = { readonly [K in PermissionKind]?: PermissionValue };

/** Permissions with every kind present (what a resolved manifest holds). */
export type ResolvedPermissions = { readonly [K in PermissionKind]: PermissionValue };

/**
 * The `sys` names Deno knows (`Deno.SysPermissionDescriptor["kind"]`).
 *
 * @example Checking a sys name
 * ```ts
 * import { SYS_PERMISSION_NAMES } from "./manifest_types.ts";
 * import { assert } from "@std/assert";
 *
 * assert(SYS_PERMISSION_NAMES.includes("hostname"));
 * ```
 */
export const SYS_PERMISSION_NAMES: readonly string[] = Object.freeze([
  "loadavg",
  "hostname",
  "systemMemoryInfo",
  "networkInterfaces",
  "osRelease",
  "osUptime",
  "uid",
  "gid",
  "username",
  "cpus",
  "homedir",
  "statfs",
  "getPriority",
  "setPriority",
  "ca",
  "umask",
]);

/**
 * What a plugin may use of the kernel beyond logging, timers, its signal,
 * state and checkpoints (which every plugin has):
 *
 * - `"publish"`: `ctx.publish(topic, value)` on the kernel's bus.
 * - `"subscribe"`: `ctx.subscribe(...)` / `ctx.onEvent(...)` on the kernel's bus.
 * - `"dataport"`: `ctx.dataPort(name)`, shared-memory data ports.
 * - `"metrics"`: `ctx.metrics`, its own `chronetix_plugin_<name>_*` metrics.
 * - `"net-server"`: may listen on a socket (`Deno.serve`); needs `net` too.
 */
export type PluginCapability = "publish" | "subscribe" | "dataport" | "metrics" | "net-server";

/**
 * Every capability a manifest can ask for.
 *
 * @example Listing the capabilities
 * ```ts
 * import { PLUGIN_CAPABILITIES } from "./manifest_types.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(PLUGIN_CAPABILITIES, ["publish", "subscribe", "dataport", "metrics", "net-server"]);
 * ```
 */
export const PLUGIN_CAPABILITIES: readonly PluginCapability[] = Object.freeze([
  "publish",
  "subscribe",
  "dataport",
  "metrics",
  "net-server",
]);

/** OTP restart types: when a plugin that ended is restarted. */
export type RestartType = "permanent" | "transient" | "temporary";

/**
 * The supervisor's policy for one plugin; the names are the Rust
 * prototype's. Defaults in {@linkcode MANIFEST_DEFAULTS}.
 */
export interface FailureRecoveryConfig {
  /** Restart a failed plugin at all. @default {true} */
  restartEnabled?: boolean;
  /**
   * `"permanent"`: always restarted; `"transient"`: restarted only after a
   * failure, not after a clean stop; `"temporary"`: never restarted.
   * @default {"permanent"}
   */
  restartType?: RestartType;
  /** Restart intensity: at most this many restarts (0 - 1,000) ... @default {5} */
  maxRetries?: number;
  /** ... within this window (1 ms - 1 day), then give up. @default {60000} */
  retryWindowMs?: number;
  /** First backoff delay (0 - 1 hour). @default {100} */
  backoffInitialMs?: number;
  /** Largest backoff delay (>= backoffInitialMs, <= 1 hour). @default {max(30000, backoffInitialMs)} */
  backoffMaxMs?: number;
  /** Each further delay is the previous times this (1 - 100). @default {2} */
  backoffMultiplier?: number;
  /** Random spread of a delay, as a ratio of it (0 - 1). @default {0.1} */
  backoffJitterRatio?: number;
  /** Running cleanly this long (0 - 1 day) resets the backoff and the count. @default {60000} */
  resetAfterMs?: number;
  /** On give-up: unload the plugin (true) or keep it listed as failed. @default {false} */
  autoUnloadFailed?: boolean;
  /** On give-up: escalate to the kernel (an event and an error log). @default {false} */
  escalate?: boolean;
}

/** Time budgets of a plugin, in milliseconds. Defaults in {@linkcode MANIFEST_DEFAULTS}. */
export interface PluginBudgets {
  /** A task running longer than this marks the plugin hung (0.01 ms - 1 min). @default {1000} */
  taskBudgetMs?: number;
  /** How often a worker or process plugin beats (1 ms - 1 min). @default {100} */
  heartbeatMs?: number;
  /**
   * No heartbeat for this long marks the plugin hung (> heartbeatMs, <= 10 min).
   * @default {max(1000, 10 * heartbeatMs), at most 600000}
   */
  hangMs?: number;
  /** Time `stop` + `shutdown` get before a kill (1 ms - 10 min). @default {5000} */
  stopTimeoutMs?: number;
  /** Time load + `init` get before the plugin fails (1 ms - 10 min). @default {10000} */
  initTimeoutMs?: number;
}

/** Resource limits (worker and process isolation; inline cannot be limited). */
export interface PluginLimits {
  /** Old-generation heap limit in MiB (16 - 65,536); `null`: the engine's default. @default {null} */
  maxHeapMb?: number | null;
}

/** A plugin manifest as written (JSON file or object); see docs/plugins.md "Manifest". */
export interface PluginManifest {
  /** `/^[a-z][a-z0-9-]{0,62}$/`: safe in a URL path segment and as an SOVD entity id. */
  name: string;
  /** Semantic version, `"1.2.3"` (pre-release and build allowed). */
  version: string;
  /** Entry module: a path relative to the manifest's folder, or a `file:` / `https:` URL. */
  entry: string;
  /** One line for people (at most 500 characters). @default {""} */
  description?: string;
  /** Where the plugin runs. @default {"worker"} */
  isolation?: PluginIsolation;
  /** `"none"`, `"inherit"` or per kind, as `Deno.PermissionOptionsObject`. @default {"none"} */
  permissions?: "none" | "inherit" | PluginPermissions;
  /** What it may use of the kernel. @default {[]} */
  capabilities?: readonly PluginCapability[];
  /** Extra import roots besides the entry's folder: paths, URL prefixes, `npm:` / `jsr:` packages. @default {[]} */
  allowImports?: readonly string[];
  /** Supervisor policy. */
  restart?: FailureRecoveryConfig;
  /** Time budgets. */
  budgets?: PluginBudgets;
  /** Resource limits. */
  limits?: PluginLimits;
  /** Reload when the entry changes (hot reload, a later issue). @default {false} */
  watch?: boolean;
}

/** A manifest after validation: every default filled, paths resolved, deeply frozen. */
export interface ResolvedManifest {
  /** The plugin's name. */
  readonly name: string;
  /** Its version. */
  readonly version: string;
  /** The entry as written. */
  readonly entry: string;
  /** The entry resolved against the manifest's folder. */
  readonly entryUrl: URL;
  /** The folder relative paths were resolved against (ends with `/`). */
  readonly baseUrl: URL;
  /** The manifest file, when it came from one. */
  readonly manifestUrl?: URL;
  /** Its description (`""` when none). */
  readonly description: string;
  /** Where it runs. */
  readonly isolation: PluginIsolation;
  /**
   * Every kind present: `"none"` became all `false`, `"inherit"` all
   * `"inherit"`; relative `read` / `write` / `ffi` paths (and `run` paths
   * with a slash) are absolute, resolved against the manifest's folder.
   */
  readonly permissions: ResolvedPermissions;
  /** Capabilities, without repeats, in the order written. */
  readonly capabilities: readonly PluginCapability[];
  /**
   * Import roots, normalised: the entry's folder first (a `file:` or
   * `https:` URL ending with `/`), then `allowImports` as absolute URLs or
   * `npm:<package>` / `jsr:<package>` / `npm:` / `jsr:`.
   */
  readonly importRoots: readonly string[];
  /** `allowImports` as written. */
  readonly allowImports: readonly string[];
  /** The supervisor policy, every field filled. */
  readonly restart: Readonly<Required<FailureRecoveryConfig>>;
  /** Budgets, every field filled. */
  readonly budgets: Readonly<Required<PluginBudgets>>;
  /** Limits, every field filled. */
  readonly limits: { readonly maxHeapMb: number | null };
  /** Hot reload on change. */
  readonly watch: boolean;
}

/** The defaults of every optional manifest field (docs/plugins.md "Manifest" lists them). */
export interface ManifestDefaults {
  /** Default of `description`. */
  readonly description: string;
  /** Default of `isolation`. */
  readonly isolation: PluginIsolation;
  /** Default of `permissions`. */
  readonly permissions: "none";
  /** Default of `capabilities`. */
  readonly capabilities: readonly PluginCapability[];
  /** Default of `allowImports`. */
  readonly allowImports: readonly string[];
  /** Defaults of `restart.*`. */
  readonly restart: Readonly<Required<FailureRecoveryConfig>>;
  /** Defaults of `budgets.*`. */
  readonly budgets: Readonly<Required<PluginBudgets>>;
  /** Defaults of `limits.*`. */
  readonly limits: { readonly maxHeapMb: number | null };
  /** Default of `watch`. */
  readonly watch: boolean;
}

/**
 * The defaults a resolved manifest gets for every field left out.
 *
 * @example Reading the defaults
 * ```ts
 * import { MANIFEST_DEFAULTS } from "./manifest_types.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(MANIFEST_DEFAULTS.isolation, "worker");
 * assertEquals(MANIFEST_DEFAULTS.restart.maxRetries, 5);
 * assertEquals(MANIFEST_DEFAULTS.budgets.heartbeatMs, 100);
 * ```
 */
export const MANIFEST_DEFAULTS: ManifestDefaults = Object.freeze(
  {
    description: "",
    isolation: "worker",
    permissions: "none",
    capabilities: Object.freeze([]),
    allowImports: Object.freeze([]),
    restart: Object.freeze({
      restartEnabled: true,
      restartType: "permanent",
      maxRetries: 5,
      retryWindowMs: 60_000,
      backoffInitialMs: 100,
      backoffMaxMs: 30_000,
      backoffMultiplier: 2,
      backoffJitterRatio: 0.1,
      resetAfterMs: 60_000,
      autoUnloadFailed: false,
      escalate: false,
    }),
    budgets: Object.freeze({
      taskBudgetMs: 1000,
      heartbeatMs: 100,
      hangMs: 1000,
      stopTimeoutMs: 5000,
      initTimeoutMs: 10_000,
    }),
    limits: Object.freeze({ maxHeapMb: null }),
    watch: false,
  } as const,
);
