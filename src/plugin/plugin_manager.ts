import { Driver } from "../time/driver.ts";
import { EventBus } from "../bus/event_bus.ts";
import { Executor } from "../exec/executor.ts";
import { MetricsRegistry } from "../metrics/registry.ts";
import type { Histogram } from "../metrics/families.ts";
import { ClosedError, errorRecord } from "../errors.ts";
import { CONSOLE_LOGGER, type Logger } from "../logger.ts";
import {
  requireBoolean,
  requireFunction,
  requireInstance,
  requireInteger,
  requireLogger,
  requireName,
  requireNonNegative,
  requireOptions,
  show,
} from "../internal/validate.ts";
import type { PluginStateSnapshot } from "./author.ts";
import type { PluginIsolation, PluginManifest, ResolvedManifest } from "./manifest_types.ts";
import { loadManifest, validateManifest } from "./manifest.ts";
import { inlinePermissionWarning } from "./permissions.ts";
import type {
  PluginExit,
  PluginHost,
  PluginHostEnvironment,
  PluginHostFactory,
  PluginMetricLimits,
} from "./host.ts";
import { createInlineHost, InlineReloads } from "./inline_host.ts";
import { createWorkerHost } from "./worker_host.ts";
import { createProcessHost } from "./process_host.ts";
import {
  type LifecycleStats,
  PLUGIN_PHASES,
  PLUGIN_STATES,
  PluginLifecycle,
  type PluginPhase,
  type PluginState,
  type PluginTransition,
  type SteppingPhase,
} from "./lifecycle.ts";
import { type ChildExit, Supervisor, type SupervisorDecision } from "./supervisor.ts";
import { TelemetryRing } from "./telemetry_ring.ts";
import { PluginError } from "./plugin_error.ts";
import { describeError } from "./_describe.ts";
import { ResourceRegistry } from "./resource_registry.ts";
import { PluginRouter } from "./_routing.ts";
import {
  type KeptInstance,
  runPhase,
  runSwitch,
  type SwitchContext,
  type SwitchOut,
  type SwitchSide,
} from "./_reload_switch.ts";
import { checkReloadOptions } from "./_reload_options.ts";
import { ReloadBook } from "./_reload_book.ts";
import { pluginFiles } from "./_reload_watch.ts";
import { fingerprint } from "./_reload_fingerprint.ts";
import type { ReloadOptions, ReloadReport } from "./hot_reload_types.ts";
import { phaseHandles, type PluginFigures, registerManagerMetrics } from "./_manager_metrics.ts";
import type {
  PluginEscalation,
  PluginInfo,
  PluginLoadOptions,
  PluginManagerCloseReport,
  PluginManagerOptions,
  PluginManagerStats,
  PluginRestartOptions,
  PluginStopOptions,
  PluginStopReport,
} from "./plugin_manager_types.ts";

export type {
  PluginEscalation,
  PluginInfo,
  PluginLoadOptions,
  PluginManagerCloseReport,
  PluginManagerOptions,
  PluginManagerStats,
  PluginRestartOptions,
  PluginStopOptions,
  PluginStopReport,
};

interface Entry {
  name: string;
  manifest: ResolvedManifest;
  lifecycle: PluginLifecycle;
  host: PluginHost | undefined;
  order: number;
  chain: Promise<unknown>;
  restarts: number;
  giveUps: number;
  kills: number;
  zombies: number;
  callsBefore: number;
  removed: boolean;
  pendingExit: PluginExit | undefined;
  histograms: Map<PluginPhase, Histogram> | undefined;
  router: PluginRouter;
  /** The current instance's owner tag (`name#n`). */
  owner: string;
  generation: number;
  /** The fingerprint of a worker or process plugin's files when they were last audited. */
  fingerprint: string | undefined;
  /** A rollback target while the last reload's new version is on probation. */
  probation: Probation | undefined;
}

/** The last reload's new version is on probation until `untilMs`. */
interface Probation {
  untilMs: number;
  /** The old version's manifest. */
  manifest: ResolvedManifest;
  /** The state handed over at the switch. */
  state: PluginStateSnapshot | undefined;
  /** The old instance, kept stopped (inline and worker hosts), with the stats it had at the switch. */
  kept: { instance: KeptInstance; stats: LifecycleStats } | undefined;
  /** Ends probation at `untilMs`. */
  timer: { cancel(): boolean } | undefined;
}

const STARTING: readonly SteppingPhase[] = ["load", "init", "ready", "start"];

/**
 * Loads, supervises and unloads plugins. Each plugin runs in a host chosen
 * by its manifest's isolation (`inline` in the kernel's isolate, `worker` in
 * a Web Worker with the manifest's permissions, `process` in a Deno
 * subprocess), goes
 * through its lifecycle (`load → init → ready → start`; `stop → shutdown`),
 * and is restarted by the {@linkcode Supervisor} by its manifest's
 * `restart` policy when it crashes, hangs or exits. A plugin's failure never
 * reaches the kernel or another plugin: it is contained, counted, logged and
 * recorded in the {@linkcode TelemetryRing} (`telemetry`). Operations on one
 * plugin run one after another; `close()` stops plugins in reverse load
 * order within its grace period and reports each.
 *
 * Metrics (label `manager`, per plugin `plugin`): `chronetix_plugin_states`,
 * `_up`, `_transitions_total`, `_failures_total{phase}`, `_restarts_total`,
 * `_give_ups_total`, `_kills_total`, `_zombies_total`, `_calls_total`,
 * `_phase_duration_seconds`, `_auto_unloads_total`, `_escalations_total`,
 * `_inline_reloads_total`, the ring's `chronetix_plugin_telemetry_*`, and
 * the hot-reload series `chronetix_hotreload_*` ({@linkcode PluginManager.reload}).
 *
 * @example A crash-looping plugin is restarted with backoff, then given up on
 * ```ts
 * import { Kernel, PluginManager } from "@chronetix/core";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * await using kernel = await Kernel.start({ clock, logger: { error() {}, warn() {}, info() {} } });
 * const plugins = new PluginManager({ ...kernel, logger: { error() {}, warn() {}, info() {} } });
 * // crasher.ts: a task that throws 10 ms after start
 * await plugins.load({
 *   name: "crasher", version: "1.0.0", entry: "./tests/plugin/_fixtures/crasher.ts", isolation: "inline",
 *   restart: { maxRetries: 1, backoffInitialMs: 100, backoffJitterRatio: 0, autoUnloadFailed: true },
 * });
 * clock.advance(10); // crashes: a restart in 100 ms
 * await plugins.whenIdle();
 * assertEquals(plugins.get("crasher")?.restartAtMs, 110);
 * clock.advance(100); // restarted
 * await plugins.whenIdle();
 * clock.advance(10); // crashes again: intensity spent, unloaded
 * await plugins.whenIdle();
 * assertEquals(plugins.list(), []);
 * assertEquals(plugins.telemetry.snapshot().filter((e) => e.kind !== "transition").map((e) => e.kind), [
 *   "load", "exit", "kill", "restart_scheduled", "restart_loaded", "exit", "kill", "restart_give_up", "auto_unload",
 * ]);
 * await plugins.close();
 * ```
 *
 * @example A hot reload hands the state over and loses no event
 * ```ts
 * import { Kernel, PluginManager } from "@chronetix/core";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const quiet = { error() {}, warn() {}, info() {} };
 * await using kernel = await Kernel.start({ clock: new VirtualClock(), logger: quiet });
 * const plugins = new PluginManager({ ...kernel, logger: quiet });
 * // consumer_v1.ts counts the events of topic "seq" and hands { count } over.
 * await plugins.load({
 *   name: "consumer", version: "1.0.0", isolation: "inline", capabilities: ["subscribe"],
 *   entry: "./tests/plugin/_fixtures/reload/consumer_v1.ts",
 * });
 * for (let i = 0; i < 3; i++) kernel.bus.topic<number>("seq").publish(i);
 * const report = await plugins.reload("consumer", {
 *   entry: "./tests/plugin/_fixtures/reload/consumer_v2.ts", version: "2.0.0",
 * });
 * assertEquals([report.ok, report.stateVersion, report.activeVersion], [true, 1, "2.0.0"]);
 * assertEquals(report.phases.map((p) => p.phase).slice(0, 5), ["prepare", "drain", "handover", "start", "switch"]);
 * assertEquals(plugins.get("consumer")?.version, "2.0.0");
 * await plugins.close();
 * ```
 */
export class PluginManager implements AsyncDisposable {
  /** The manager's name. */
  readonly name: string;
  /** The ring of lifecycle and meta events. */
  readonly telemetry: TelemetryRing;
  /** The supervisor deciding restarts. */
  readonly supervisor: Supervisor;
  /** What each plugin instance holds (subscriptions, tasks, data ports, Workers, subprocesses). */
  readonly resources: ResourceRegistry;
  readonly #book: ReloadBook;
  readonly #bus: EventBus;
  readonly #driver: Driver;
  readonly #logger: Logger;
  readonly #env: Omit<PluginHostEnvironment, "fresh">;
  readonly #hosts: Partial<Record<PluginIsolation, PluginHostFactory>>;
  readonly #reloads: InlineReloads;
  readonly #freshRestarts: boolean;
  readonly #onEscalate: ((escalation: PluginEscalation) => void) | undefined;
  readonly #entries = new Map<string, Entry>();
  readonly #metrics: ReturnType<typeof registerManagerMetrics>;
  #order = 0;
  #busy = 0;
  #idleWaiters: (() => void)[] = [];
  #autoUnloads = 0;
  #escalations = 0;
  #kills = 0;
  #zombies = 0;
  #close: Promise<PluginManagerCloseReport> | undefined;
  /** The last figures of unloaded plugins: their series keep them until a plugin of that name is back. */
  readonly #retired = new Map<string, PluginFigures>();
  /** Counters of plugins that were unloaded, kept so the sums never go back. */
  #gone = { restarts: 0, giveUps: 0, kills: 0, zombies: 0 };

  /**
   * Creates a manager over the kernel's parts.
   *
   * @param options The kernel's driver, executor, bus, metrics and logger, and the policies.
   * @throws {TypeError} when an option has the wrong type.
   * @throws {RangeError} when an option is out of range.
   */
  constructor(options: PluginManagerOptions) {
    const action = "create a PluginManager";
    requireOptions(action, "options", options);
    const o = options ?? ({} as PluginManagerOptions);
    if (!(o.driver instanceof Driver)) {
      throw new TypeError(
        `Cannot ${action} as 'driver' must be a Driver: current value is ${show(o.driver)}`,
      );
    }
    if (!(o.executor instanceof Executor)) {
      throw new TypeError(
        `Cannot ${action} as 'executor' must be an Executor: current value is ${show(o.executor)}`,
      );
    }
    if (!(o.bus instanceof EventBus)) {
      throw new TypeError(
        `Cannot ${action} as 'bus' must be an EventBus: current value is ${show(o.bus)}`,
      );
    }
    this.name = requireName(action, "name", o.name ?? "plugins");
    this.#logger = requireLogger(action, "logger", o.logger ?? CONSOLE_LOGGER);
    const registry = requireInstance(action, "metrics", o.metrics, MetricsRegistry) ??
      new MetricsRegistry({ logger: this.#logger });
    this.#driver = o.driver;
    this.#bus = o.bus;
    this.resources = new ResourceRegistry({ now: () => o.driver.clock.now() });
    this.#reloads = new InlineReloads(
      requireInteger(action, "maxInlineReloads", o.maxInlineReloads ?? 100, 0, 1_000_000),
    );
    this.#freshRestarts = requireBoolean(action, "freshRestarts", o.freshRestarts ?? false);
    if (o.dataPorts !== undefined) requireFunction(action, "dataPorts", o.dataPorts);
    if (o.onEscalate !== undefined) {
      this.#onEscalate = requireFunction(action, "onEscalate", o.onEscalate);
    }
    requireOptions(action, "hosts", o.hosts);
    this.#hosts = { ...o.hosts };
    for (const [isolation, factory] of Object.entries(this.#hosts)) {
      requireFunction(action, `hosts.${isolation}`, factory);
    }
    this.#hosts.inline ??= createInlineHost(this.#reloads);
    requireOptions(action, "pluginMetrics", o.pluginMetrics);
    const limits: PluginMetricLimits = {
      maxFamilies: requireInteger(
        action,
        "pluginMetrics.maxFamilies",
        o.pluginMetrics?.maxFamilies ?? 32,
        0,
        10_000,
      ),
      hardLimit: requireInteger(
        action,
        "pluginMetrics.hardLimit",
        o.pluginMetrics?.hardLimit ?? 100,
        1,
        1_000_000,
      ),
      softLimit: requireInteger(
        action,
        "pluginMetrics.softLimit",
        o.pluginMetrics?.softLimit ?? 50,
        1,
        1_000_000,
      ),
    };
    if (limits.softLimit > limits.hardLimit) limits.softLimit = limits.hardLimit;
    this.supervisor = new Supervisor({
      driver: o.driver,
      random: o.random,
      seed: o.seed,
      name: this.name,
    });
    requireOptions(action, "telemetry", o.telemetry);
    this.telemetry = new TelemetryRing({
      ...o.telemetry,
      name: this.name,
      clock: o.driver.clock,
      metrics: registry,
    });
    this.#env = {
      driver: o.driver,
      executor: o.executor,
      bus: o.bus,
      metrics: registry,
      logger: this.#logger,
      dataPorts: o.dataPorts,
      metricLimits: limits,
      metricFamilies: new Map(),
    };
    try {
      this.#metrics = registerManagerMetrics(
        registry,
        this.name,
        () => [
          ...[...this.#entries.values()].map((e) => this.#figures(e)),
          ...[...this.#retired.values()].filter((f) => !this.#entries.has(f.name)),
        ],
        () => ({
          byState: this.#byState(),
          autoUnloads: this.#autoUnloads,
          escalations: this.#escalations,
          inlineReloads: this.#reloads.stats().total,
          zombies: this.#zombies,
        }),
      );
    } catch (error) {
      this.telemetry.close();
      throw error;
    }
    try {
      this.#book = new ReloadBook(
        registry,
        this.name,
        this.telemetry,
        o.driver,
        this.#logger,
      );
    } catch (error) {
      this.#metrics.dispose();
      this.telemetry.close();
      throw error;
    }
  }

  /**
   * Loads a plugin and starts it: validates the manifest (an object, or the
   * path or URL of a JSON file), picks the host of its isolation, then runs
   * `load → init → ready → start`. A first start that fails rejects (the
   * plugin is not kept; its failure is counted and in the telemetry ring);
   * later failures go to the supervisor.
   *
   * @param manifest A manifest object, a resolved manifest, or a manifest file's path or URL.
   * @param options State to hand over, and where relative paths resolve.
   * @returns The plugin, started.
   * @throws {ManifestError} (as a rejection) when the manifest is not valid.
   * @throws {PluginError} (as a rejection) when a plugin of that name is
   * loaded (`E_PLUGIN_EXISTS`), its isolation has no host
   * (`E_PLUGIN_HOST_UNAVAILABLE`), or a phase fails.
   * @throws {ClosedError} (as a rejection) when the manager is closed.
   */
  async load(
    manifest: PluginManifest | ResolvedManifest | string | URL,
    options: PluginLoadOptions = {},
  ): Promise<PluginInfo> {
    const action = "load a plugin";
    if (this.#close !== undefined) throw new ClosedError("PluginManager", action);
    requireOptions(action, "options", options);
    const resolved = await this.#resolve(manifest, options.baseUrl);
    const print = resolved.isolation === "inline"
      ? undefined
      : await fingerprint(resolved.importRoots);
    if (this.#close !== undefined) throw new ClosedError("PluginManager", action);
    const name = resolved.name;
    if (this.#entries.has(name)) {
      throw new PluginError(
        "E_PLUGIN_EXISTS",
        name,
        `Cannot load plugin "${name}" as a plugin of that name is loaded: unload it first`,
      );
    }
    this.#factory(resolved);
    if (resolved.isolation === "inline") this.#warnInline(resolved);
    const entry = this.#entry(resolved);
    entry.fingerprint = print;
    this.#entries.set(name, entry);
    this.telemetry.record({ kind: "load", plugin: name, reason: resolved.version });
    try {
      await this.#serial(entry, () => this.#startInstance(entry, options.state, false));
    } catch (error) {
      this.#forget(entry);
      throw error;
    }
    if (resolved.watch && resolved.entryUrl.protocol === "file:") {
      this.#book.watch(
        name,
        new URL(".", resolved.entryUrl),
        async () => entry.removed ? undefined : await this.reload(name),
        () => pluginFiles(entry.manifest),
      );
    }
    this.#book.active(name, resolved.version);
    return this.#info(entry);
  }

  /**
   * Replaces a running plugin with a new version (or a fresh import of the
   * same entry) without losing an event: the new version is started to
   * `ready`, routing of the plugin's topics is gated while the old instance
   * finishes what it was given, the old one's `exportState()` goes to the
   * new one's `importState()` (which may migrate or refuse it by its
   * version), the new one starts and routing switches to it at once (the
   * events held meanwhile follow, in order), then the old one is quiesced
   * (stopped, drained, resource checks polled every `drainPollMs`,
   * force-separated past `quiescentTimeoutMs`), shut down, verified against
   * {@linkcode PluginManager.resources} and ended. A failure before the
   * switch leaves the old version running, and the report says why. With
   * `probationMs`, a failure of the new version within that window rolls
   * back: inline and worker hosts keep the old instance stopped until then
   * (`oldKept` in the report) and start it again; else the old version is
   * started from its manifest with the state of the switch.
   *
   * @param name The plugin.
   * @param options The new entry and version, and the switch's bounds.
   * @returns What happened, phase by phase.
   * @throws {TypeError} when an option has the wrong type.
   * @throws {RangeError} when an option is out of range.
   * @throws {PluginError} (as a rejection) when no plugin of that name is
   * loaded (`E_PLUGIN_NOT_FOUND`) or it is not started (`E_PLUGIN_ILLEGAL_TRANSITION`).
   */
  async reload(name: string, options: ReloadOptions = {}): Promise<ReloadReport> {
    const entry = this.#require(name, "reload");
    const checked = checkReloadOptions(entry.manifest, options);
    return await this.#serial(entry, async () => {
      if (entry.removed || entry.lifecycle.state !== "started" || entry.host === undefined) {
        throw new PluginError(
          "E_PLUGIN_ILLEGAL_TRANSITION",
          name,
          `Cannot reload plugin "${name}" as it is ${
            entry.removed ? "unloaded" : entry.lifecycle.state
          }: only a started plugin can be reloaded, restart() it instead`,
        );
      }
      // A reload ends the previous one's probation (its old instance ends now).
      await this.#endProbation(entry);
      const oldManifest = entry.manifest;
      const oldStats = entry.lifecycle.stats();
      const out: SwitchOut = { state: undefined, kept: undefined };
      // A worker or process whose files did not change re-uses its import
      // audit. Fingerprinted in the switch's prepare phase, so its time counts.
      let print: string | undefined;
      const freshness = async (manifest: ResolvedManifest): Promise<boolean> => {
        if (manifest.isolation === "inline") return true;
        print = await fingerprint(manifest.importRoots);
        return print === undefined || print !== entry.fingerprint ||
          manifest.importRoots.join(" ") !== oldManifest.importRoots.join(" ");
      };
      const keepOld = checked.probationMs > 0 &&
        (entry.host.isolation === "inline" || entry.host.isolation === "worker");
      const report = await runSwitch(
        this.#switchContext(entry, freshness),
        { ...checked, keepOld },
        out,
      );
      if (report.ok) entry.fingerprint = print;
      this.#afterSwitch(entry, report, oldManifest, out, oldStats, checked.probationMs);
      return report;
    });
  }

  /**
   * Stops, shuts down and removes a plugin; a pending restart is cancelled.
   * Past its grace period it is killed.
   *
   * @param name The plugin.
   * @param options The grace period.
   * @returns How it ended.
   * @throws {PluginError} (as a rejection) when no plugin of that name is loaded.
   */
  async unload(name: string, options: PluginStopOptions = {}): Promise<PluginStopReport> {
    const entry = this.#require(name, "unload");
    requireOptions("unload a plugin", "options", options);
    const graceMs = options.graceMs === undefined
      ? undefined
      : requireNonNegative("unload a plugin", "graceMs", options.graceMs);
    this.supervisor.cancel(name);
    return await this.#serial(entry, async () => {
      await this.#endProbation(entry);
      const report = await this.#stopInstance(
        entry,
        graceMs ?? entry.manifest.budgets.stopTimeoutMs,
      );
      this.#forget(entry);
      this.telemetry.record({ kind: "unload", plugin: name });
      return report;
    });
  }

  /**
   * Restarts a plugin by hand (not counted against its restart intensity):
   * stops and shuts down the running instance (handing its state over with
   * `keepState`), then starts a new one. A new instance that fails goes to
   * the supervisor, and the call rejects.
   *
   * @param name The plugin.
   * @param options Whether to keep the state.
   * @returns The plugin, started again.
   * @throws {PluginError} (as a rejection) when no plugin of that name is
   * loaded, or the new instance fails.
   */
  async restart(name: string, options: PluginRestartOptions = {}): Promise<PluginInfo> {
    const entry = this.#require(name, "restart");
    requireOptions("restart a plugin", "options", options);
    const keepState = requireBoolean("restart a plugin", "keepState", options.keepState ?? false);
    this.supervisor.cancel(name);
    await this.#serial(entry, async () => {
      await this.#endProbation(entry);
      let state: PluginStateSnapshot | undefined;
      if (keepState && entry.lifecycle.state === "started") state = await entry.host?.exportState();
      await this.#stopInstance(entry, entry.manifest.budgets.stopTimeoutMs);
      try {
        await this.#startInstance(entry, state, true);
      } catch (error) {
        this.#decide(entry, { normal: false, reason: describeError(error) });
        throw error;
      }
    });
    return this.#info(entry);
  }

  /**
   * Every plugin, in load order.
   *
   * @returns A snapshot of each.
   */
  list(): PluginInfo[] {
    return [...this.#entries.values()].sort((a, b) => a.order - b.order).map((e) => this.#info(e));
  }

  /**
   * One plugin.
   *
   * @param name The plugin's name.
   * @returns Its snapshot, or `undefined` when it is not loaded.
   */
  get(name: string): PluginInfo | undefined {
    const entry = this.#entries.get(name);
    return entry === undefined ? undefined : this.#info(entry);
  }

  /**
   * Resolves once no lifecycle operation is running (restarts waiting for
   * their timer do not count): for tests on a virtual clock.
   *
   * @returns A promise that resolves when idle.
   */
  async whenIdle(): Promise<void> {
    // Operations settle through promise chains: let queued continuations run.
    for (let round = 0; round < 3; round++) {
      while (this.#busy > 0) {
        const { promise, resolve } = Promise.withResolvers<void>();
        this.#idleWaiters.push(resolve);
        await promise;
      }
      await new Promise<void>((resolve) => queueMicrotask(resolve));
    }
  }

  /**
   * Takes a snapshot.
   *
   * @returns Counts by state, restarts, give-ups, kills, the supervisor and the ring.
   */
  stats(): PluginManagerStats {
    let restarts = this.#gone.restarts, giveUps = this.#gone.giveUps;
    let kills = this.#gone.kills, zombies = this.#gone.zombies;
    for (const e of this.#entries.values()) {
      restarts += e.restarts;
      giveUps += e.giveUps;
      kills += e.kills;
      zombies += e.zombies;
    }
    const reloads = this.#reloads.stats();
    return {
      name: this.name,
      plugins: this.#entries.size,
      byState: this.#byState(),
      restarts,
      giveUps,
      autoUnloads: this.#autoUnloads,
      escalations: this.#escalations,
      kills,
      zombies,
      inlineReloads: { total: reloads.total, max: reloads.max, refused: reloads.refused },
      supervisor: this.supervisor.stats(),
      telemetry: this.telemetry.stats(),
      hotReload: { ...this.#book.stats },
      resources: this.resources.stats(),
    };
  }

  /**
   * Stops every plugin in reverse load order, each within what is left of
   * the grace period (and its own `stopTimeoutMs`), killing what does not
   * stop in time; cancels pending restarts; closes the telemetry ring.
   * Calling it again returns the same report.
   *
   * @param options The grace period, for all plugins together.
   * @returns Each plugin's report.
   * @throws {RangeError} when `graceMs` is negative or not finite.
   */
  close(options: PluginStopOptions = {}): Promise<PluginManagerCloseReport> {
    requireOptions("close the PluginManager", "options", options);
    const graceMs = requireNonNegative(
      "close the PluginManager",
      "graceMs",
      options.graceMs ?? 5000,
    );
    this.#close ??= this.#closeAll(graceMs);
    return this.#close;
  }

  /** Same as `close()` with the default grace period. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #closeAll(graceMs: number): Promise<PluginManagerCloseReport> {
    const clock = this.#driver.clock;
    const start = clock.now();
    this.supervisor.close();
    const reports: PluginStopReport[] = [];
    const entries = [...this.#entries.values()].sort((a, b) => b.order - a.order);
    for (const entry of entries) {
      const left = Math.max(0, graceMs - (clock.now() - start));
      // A restart or another operation in progress gets the grace period too.
      const settled = await this.#within(entry.chain.then(() => {}, () => {}), left);
      const remaining = Math.max(0, graceMs - (clock.now() - start));
      let report: PluginStopReport;
      this.#dropKept(entry, "the manager closed");
      if (!settled) {
        report = this.#killed(entry, "the close grace period ran out", clock.now());
      } else {
        report = await this.#stopInstance(
          entry,
          Math.min(remaining, entry.manifest.budgets.stopTimeoutMs),
        );
      }
      this.#forget(entry);
      this.telemetry.record({ kind: "unload", plugin: entry.name, reason: "the manager closed" });
      reports.push(report);
    }
    // Killed subprocesses exit within milliseconds: wait for them, within the grace period.
    const process = this.#hosts.process as { settled?: () => Promise<void> } | undefined;
    if (typeof process?.settled === "function") {
      await this.#within(process.settled(), Math.max(0, graceMs - (clock.now() - start)));
    }
    // A worker host that starts plugin Workers from a spawner Worker ends it now.
    const worker = this.#hosts.worker as { close?: () => void } | undefined;
    if (typeof worker?.close === "function") worker.close();
    this.#metrics.dispose();
    // A watcher may be reading a plugin's import graph (`deno info`): let it end.
    await this.#within(this.#book.dispose(), Math.max(0, graceMs - (clock.now() - start)));
    this.telemetry.close();
    return {
      graceful: reports.every((r) => r.graceful),
      durationMs: clock.now() - start,
      plugins: reports,
    };
  }

  async #resolve(
    manifest: PluginManifest | ResolvedManifest | string | URL,
    baseUrl: URL | undefined,
  ): Promise<ResolvedManifest> {
    if (typeof manifest === "string" || manifest instanceof URL) {
      return await loadManifest(manifest);
    }
    const m = manifest as Partial<ResolvedManifest> | null;
    if (
      m !== null && typeof m === "object" && m.entryUrl instanceof URL &&
      Array.isArray(m.importRoots)
    ) {
      return manifest as ResolvedManifest;
    }
    return validateManifest(manifest, baseUrl === undefined ? {} : { baseUrl });
  }

  #factory(manifest: ResolvedManifest): PluginHostFactory {
    const isolation = manifest.isolation;
    const factory = this.#hosts[isolation] ??= isolation === "worker"
      ? createWorkerHost()
      : isolation === "process"
      ? createProcessHost()
      : undefined;
    if (factory === undefined) {
      throw new PluginError(
        "E_PLUGIN_HOST_UNAVAILABLE",
        manifest.name,
        `Cannot load plugin "${manifest.name}" as the "${manifest.isolation}" isolation is not available yet: set "isolation": "inline" in its manifest for trusted code`,
        { phase: "load" },
      );
    }
    return factory;
  }

  #warnInline(manifest: ResolvedManifest): void {
    let warning: string | undefined;
    try {
      warning = inlinePermissionWarning(manifest);
    } catch {
      warning =
        `Plugin "${manifest.name}" runs inline with the kernel's permissions, not its manifest's`;
    }
    if (warning !== undefined) this.#logger.warn(warning);
  }

  /** Makes the host of a new instance, with its routed view of the bus; watches its end. */
  #newSide(
    entry: Entry,
    manifest: ResolvedManifest,
    fresh: boolean,
    restart = false,
  ): SwitchSide {
    const owner = `${entry.name}#${++entry.generation}`;
    const host = this.#factory(manifest)(manifest, {
      ...this.#env,
      bus: entry.router.view(owner),
      resources: this.resources,
      owner,
      fresh,
      restart,
    });
    if (host.isolation !== "inline") {
      const kind = host.isolation === "worker" ? "worker" : "subprocess";
      this.resources.upsert({ owner, kind, id: "host", detail: manifest.version });
      host.closed.then(() => this.resources.remove(owner, kind, "host"));
    }
    host.closed.then((exit) => this.#closed(entry, host, exit));
    const lifecycle = new PluginLifecycle({
      plugin: entry.name,
      clock: this.#driver.clock,
      onTransition: (t) => this.#transition(entry, t),
    });
    return { host, lifecycle, owner, manifest };
  }

  #switchContext(
    entry: Entry,
    freshness: (manifest: ResolvedManifest) => Promise<boolean>,
  ): SwitchContext {
    const current = entry.host!;
    return {
      plugin: entry.name,
      driver: this.#driver,
      router: entry.router,
      resources: this.resources,
      stats: this.#book.stats,
      old: {
        host: current,
        lifecycle: entry.lifecycle,
        owner: entry.owner,
        manifest: entry.manifest,
      },
      makeNew: async (manifest: ResolvedManifest) =>
        this.#newSide(entry, manifest, await freshness(manifest)),
      commit: (next: SwitchSide) => {
        entry.callsBefore += current.stats().calls;
        entry.host = next.host;
        entry.owner = next.owner;
        entry.manifest = next.manifest;
        next.lifecycle.absorb(entry.lifecycle);
        entry.lifecycle = next.lifecycle;
        entry.pendingExit = undefined;
        this.supervisor.started(entry.name);
      },
      kill: (side: SwitchSide, reason: string) => {
        this.#kill(entry, side.host, reason);
      },
    };
  }

  #afterSwitch(
    entry: Entry,
    report: ReloadReport,
    oldManifest: ResolvedManifest,
    out: SwitchOut,
    oldStats: LifecycleStats,
    probationMs: number,
  ): void {
    if (report.ok && probationMs > 0) {
      const probation: Probation = {
        untilMs: this.#driver.clock.now() + probationMs,
        manifest: oldManifest,
        state: out.state,
        kept: out.kept === undefined ? undefined : { instance: out.kept, stats: oldStats },
        timer: undefined,
      };
      entry.probation = probation;
      if (probation.kept !== undefined) {
        // The kept old instance ends when probation does.
        probation.timer = this.#driver.after(probationMs, () => {
          void this.#serial(entry, async () => {
            if (entry.probation === probation) await this.#endProbation(entry);
          }).catch(() => {});
        }, { latenessClass: "plugin-reload" });
      }
    } else if (report.ok) {
      entry.probation = undefined;
    }
    this.#book.switched(report);
  }

  /** Ends probation: a kept old instance is shut down, verified and ended. */
  async #endProbation(entry: Entry): Promise<void> {
    const probation = entry.probation;
    if (probation === undefined) return;
    entry.probation = undefined;
    probation.timer?.cancel();
    await probation.kept?.instance.retire();
  }

  /** Kills a kept old instance at once (the plugin is forgotten, the manager closes). */
  #dropKept(entry: Entry, reason: string): void {
    const kept = entry.probation?.kept;
    if (kept === undefined) return;
    entry.probation!.timer?.cancel();
    entry.probation = undefined;
    this.#endSide(entry, kept.instance.side, reason);
  }

  /** Ends an instance that is not the plugin's current one: killed if it lives, its resources dropped. */
  #endSide(entry: Entry, side: SwitchSide, reason: string): void {
    if (side.host.liveness().alive) this.#kill(entry, side.host, reason);
    this.resources.removeOwner(side.owner);
  }

  /**
   * The new version failed on probation: back to the old version with the
   * state of the switch. A kept old instance is started again (its module,
   * its state and its subscriptions as they were); else the old version is
   * started afresh from its manifest.
   */
  async #rollback(entry: Entry, host: PluginHost, exit: PluginExit): Promise<void> {
    const probation = entry.probation!;
    entry.probation = undefined;
    probation.timer?.cancel();
    const failed = entry.manifest.version;
    const back = probation.manifest.version;
    entry.lifecycle.fail("run", exit.error ?? new Error(exit.reason));
    this.#kill(entry, host, `${exit.cause}: ${exit.reason}`);
    const kept = probation.kept;
    const side = kept?.instance.side;
    if (side !== undefined && side.host.liveness().alive && side.lifecycle.state === "stopped") {
      this.#book.rolledBack(entry.name, failed, back, exit.reason, "its kept instance");
      if (await this.#resume(entry, host, kept!, probation.manifest)) {
        this.#book.active(entry.name, back, failed);
        return;
      }
      // Not startable: the old version starts afresh below, with the switch's state.
    } else {
      // No kept instance, or it is gone: the old version starts from its manifest.
      if (side !== undefined) this.#endSide(entry, side, "its rollback restarts it afresh");
      this.#book.rolledBack(entry.name, failed, back, exit.reason, "a restart from its manifest");
    }
    entry.manifest = probation.manifest;
    try {
      await this.#startInstance(entry, probation.state, true);
      this.#book.active(entry.name, back, failed);
    } catch (error) {
      this.#decide(entry, { normal: false, reason: describeError(error) });
    }
  }
  /**
   * Makes the kept old instance the plugin's current one again and starts
   * it; `false` (it is killed) when its start fails.
   */
  async #resume(
    entry: Entry,
    failed: PluginHost,
    kept: NonNullable<Probation["kept"]>,
    manifest: ResolvedManifest,
  ): Promise<boolean> {
    const side = kept.instance.side;
    // The failed instance's history joins the old one's, counted once; the
    // kept host's calls were counted at the switch, and it counts on.
    side.lifecycle.absorb(entry.lifecycle, kept.stats);
    entry.callsBefore += failed.stats().calls - side.host.stats().calls;
    this.resources.removeOwner(entry.owner);
    entry.router.route(side.owner);
    entry.host = side.host;
    entry.owner = side.owner;
    entry.manifest = manifest;
    entry.lifecycle = side.lifecycle;
    entry.pendingExit = undefined;
    try {
      side.host.releasePorts?.();
      await runPhase(side, "start");
    } catch (error) {
      this.#kill(entry, side.host, `its start after a rollback failed: ${describeError(error)}`);
      this.resources.removeOwner(side.owner);
      return false;
    }
    this.supervisor.started(entry.name);
    const pending = entry.pendingExit;
    if (pending !== undefined) queueMicrotask(() => this.#closed(entry, side.host, pending));
    return true;
  }

  #entry(manifest: ResolvedManifest): Entry {
    const entry: Entry = {
      name: manifest.name,
      manifest,
      lifecycle: undefined as unknown as PluginLifecycle,
      host: undefined,
      order: this.#order++,
      chain: Promise.resolve(),
      restarts: 0,
      giveUps: 0,
      kills: 0,
      zombies: 0,
      callsBefore: 0,
      removed: false,
      pendingExit: undefined,
      histograms: phaseHandles(this.#metrics.phaseHistogram, this.name, manifest.name),
      router: new PluginRouter(manifest.name, this.#bus, this.resources),
      owner: manifest.name,
      generation: 0,
      probation: undefined,
      fingerprint: undefined,
    };
    entry.lifecycle = new PluginLifecycle({
      plugin: manifest.name,
      clock: this.#driver.clock,
      onTransition: (t) => this.#transition(entry, t),
    });
    this.supervisor.add(manifest.name, manifest.restart);
    return entry;
  }

  #transition(entry: Entry, t: PluginTransition): void {
    entry.histograms?.get(t.phase)?.observe(Math.max(0, t.durationMs) / 1000);
    this.telemetry.record({
      kind: "transition",
      plugin: t.plugin,
      atMs: t.atMs,
      from: t.from,
      to: t.to,
      phase: t.phase,
      durationMs: t.durationMs,
      error: t.error?.message,
    });
  }

  /** Runs `op` after the plugin's previous operation; counts it for `whenIdle()`. */
  #serial<T>(entry: Entry, op: () => Promise<T>): Promise<T> {
    this.#busy++;
    const run = entry.chain.then(op, op);
    entry.chain = run.then(() => {}, () => {});
    return run.finally(() => {
      if (--this.#busy === 0) {
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const w of waiters) w();
      }
    });
  }

  /** Starts a new instance: load → init → ready (→ importState) → start. */
  async #startInstance(
    entry: Entry,
    state: PluginStateSnapshot | undefined,
    fresh: boolean,
  ): Promise<void> {
    entry.callsBefore += entry.host?.stats().calls ?? 0;
    if (entry.host !== undefined) this.resources.removeOwner(entry.owner);
    // `fresh` is set for every start but the first: restarts and rollbacks.
    const side = this.#newSide(entry, entry.manifest, fresh && this.#freshRestarts, fresh);
    entry.router.route(side.owner);
    entry.owner = side.owner;
    const host = side.host;
    entry.host = host;
    entry.pendingExit = undefined;
    const lifecycle = entry.lifecycle;
    for (const phase of STARTING) {
      lifecycle.begin(phase);
      try {
        if (phase === "load") await host.load();
        else if (phase === "init") await host.init();
        else if (phase === "ready") {
          await host.ready();
          if (state !== undefined) await host.importState(state);
        } else await host.start();
      } catch (error) {
        if (lifecycle.phase === phase) lifecycle.fail(phase, error);
        this.#kill(entry, host, `phase "${phase}" failed: ${describeError(error)}`);
        throw error;
      }
      lifecycle.complete();
    }
    this.supervisor.started(entry.name);
    const exit = entry.pendingExit;
    if (exit !== undefined) queueMicrotask(() => this.#closed(entry, host, exit));
  }

  /** Stops and shuts down the current instance within `budgetMs`; kills it past that. */
  async #stopInstance(entry: Entry, budgetMs: number): Promise<PluginStopReport> {
    const clock = this.#driver.clock;
    const start = clock.now();
    const host = entry.host;
    const lifecycle = entry.lifecycle;
    if (host === undefined || lifecycle.state === "shutdown" || lifecycle.state === "unloaded") {
      return this.#report(entry, true, start, false, false, undefined);
    }
    if (lifecycle.state === "failed") {
      const k = host.kill("the plugin failed");
      return this.#report(entry, true, start, false, k.zombie, undefined);
    }
    let failure: unknown;
    for (const phase of ["stop", "shutdown"] as const) {
      if (phase === "stop" && lifecycle.state !== "started") continue;
      const left = budgetMs - (clock.now() - start);
      lifecycle.begin(phase);
      try {
        if (left <= 0) {
          throw new PluginError(
            "E_PLUGIN_TIMEOUT",
            entry.name,
            `Cannot ${phase} plugin "${entry.name}" as its grace period ran out`,
            { phase },
          );
        }
        await (phase === "stop"
          ? host.stop({ timeoutMs: left })
          : host.shutdown({ timeoutMs: left }));
        lifecycle.complete();
      } catch (error) {
        if (lifecycle.phase === phase) lifecycle.fail(phase, error);
        failure = error;
        break;
      }
    }
    if (failure === undefined) return this.#report(entry, true, start, false, false, undefined);
    const kill = this.#kill(entry, host, describeError(failure));
    return this.#report(entry, false, start, true, kill.zombie, failure);
  }

  #killed(entry: Entry, reason: string, now: number): PluginStopReport {
    const host = entry.host;
    if (host !== undefined && entry.lifecycle.state !== "shutdown") {
      const error = new PluginError(
        "E_PLUGIN_KILLED",
        entry.name,
        `Cannot stop plugin "${entry.name}" as ${reason}`,
      );
      if (
        entry.lifecycle.phase === undefined && entry.lifecycle.state !== "failed" &&
        entry.lifecycle.state !== "unloaded"
      ) {
        entry.lifecycle.fail("run", error);
      }
      const k = this.#kill(entry, host, reason);
      return this.#report(entry, false, now, true, k.zombie, error);
    }
    return this.#report(entry, true, now, false, false, undefined);
  }

  #kill(entry: Entry, host: PluginHost, reason: string): { zombie: boolean } {
    const report = host.kill(reason);
    entry.kills++;
    this.#kills++;
    if (report.zombie) {
      entry.zombies++;
      this.#zombies++;
    }
    this.telemetry.record({
      kind: "kill",
      plugin: entry.name,
      reason: report.zombie ? `${reason} (zombie: code may still run)` : reason,
    });
    return report;
  }

  #report(
    entry: Entry,
    graceful: boolean,
    start: number,
    killed: boolean,
    zombie: boolean,
    error: unknown,
  ): PluginStopReport {
    const now = this.#driver.clock.now();
    return {
      name: entry.name,
      graceful,
      state: entry.lifecycle.state,
      durationMs: now - start,
      killed,
      zombie,
      error: error === undefined ? undefined : errorRecord(error, now),
    };
  }

  /** An instance ended on its own: decide, unless it is stale or a phase is handling it. */
  #closed(entry: Entry, host: PluginHost, exit: PluginExit): void {
    if (entry.removed || entry.host !== host || exit.cause === "shutdown") return;
    if (entry.lifecycle.phase !== undefined) {
      // The phase in progress fails with the crash; a clean exit waits for the start to finish.
      if (exit.normal) entry.pendingExit = exit;
      return;
    }
    if (
      exit.cause === "killed" || entry.lifecycle.state === "failed" ||
      entry.lifecycle.state === "shutdown"
    ) return;
    void this.#serial(entry, async () => {
      if (entry.removed || entry.host !== host) return;
      const probation = entry.probation;
      if (probation !== undefined && this.#driver.clock.now() > probation.untilMs) {
        await this.#endProbation(entry);
      } else if (probation !== undefined && !exit.normal) {
        return await this.#rollback(entry, host, exit);
      }
      this.telemetry.record({
        kind: "exit",
        plugin: entry.name,
        reason: `${exit.cause}: ${exit.reason}`,
      });
      if (exit.normal) {
        await this.#stopInstance(entry, entry.manifest.budgets.stopTimeoutMs);
      } else {
        entry.lifecycle.fail("run", exit.error ?? new Error(exit.reason));
        this.#logger.error(`Plugin "${entry.name}" failed: ${exit.reason}`);
        this.#kill(entry, host, `${exit.cause}: ${exit.reason}`);
      }
      this.#decide(entry, { normal: exit.normal, reason: exit.reason });
    }).catch((error) => {
      this.#logger.error(
        `Plugin manager "${this.name}" could not handle the exit of "${entry.name}": ${
          describeError(error)
        }`,
      );
    });
  }

  /** Asks the supervisor and carries out its decision. */
  #decide(entry: Entry, exit: ChildExit): void {
    if (entry.removed) return;
    const decision: SupervisorDecision = this.supervisor.exited(entry.name, exit, () => {
      void this.#serial(entry, () => this.#restartNow(entry)).catch(() => {});
    });
    const name = entry.name;
    if (decision.action === "restart") {
      entry.restarts++;
      this.telemetry.record({
        kind: "restart_scheduled",
        plugin: name,
        delayMs: decision.delayMs,
        attempt: decision.attempt,
      });
      return;
    }
    if (decision.action === "give-up") {
      entry.giveUps++;
      this.telemetry.record({ kind: "restart_give_up", plugin: name, reason: decision.reason });
      this.#logger.error(`Plugin "${name}" is not restarted any more: ${decision.reason}`);
      if (decision.escalate) this.#escalate(entry, decision.reason);
    }
    if (decision.unload) {
      this.#autoUnloads++;
      this.#forget(entry);
      this.telemetry.record({
        kind: "auto_unload",
        plugin: name,
        reason: decision.action === "none" ? decision.reason : "gave up",
      });
    }
  }

  async #restartNow(entry: Entry): Promise<void> {
    if (entry.removed) return;
    const state = entry.lifecycle.state;
    if (state !== "failed" && state !== "shutdown") return; // restarted by hand meanwhile
    try {
      await this.#startInstance(entry, undefined, true);
      this.telemetry.record({ kind: "restart_loaded", plugin: entry.name });
    } catch (error) {
      this.#logger.error(`Plugin "${entry.name}" failed to restart: ${describeError(error)}`);
      this.#decide(entry, { normal: false, reason: describeError(error) });
    }
  }

  #escalate(entry: Entry, reason: string): void {
    this.#escalations++;
    const escalation: PluginEscalation = {
      plugin: entry.name,
      reason,
      error: entry.lifecycle.stats().lastError,
      atMs: this.#driver.clock.now(),
    };
    this.telemetry.record({ kind: "escalate", plugin: entry.name, reason });
    this.#logger.error(`Plugin "${entry.name}" escalated to the kernel: ${reason}`);
    try {
      this.#onEscalate?.(escalation);
    } catch (error) {
      this.#logger.error(
        `The onEscalate hook of plugin manager "${this.name}" threw: ${describeError(error)}`,
      );
    }
  }

  /** Drops a plugin from the manager (its instance is already stopped or killed). */
  #forget(entry: Entry): void {
    if (entry.removed) return;
    this.#dropKept(entry, "the plugin was unloaded");
    const host = entry.host;
    if (host !== undefined && entry.lifecycle.state !== "shutdown") host.kill("unloaded");
    entry.removed = true;
    entry.router.close();
    this.resources.removeOwner(entry.owner);
    this.#book.unwatch(entry.name);
    entry.callsBefore += host?.stats().calls ?? 0;
    entry.host = undefined;
    this.#retired.set(entry.name, { ...this.#figures(entry), up: 0 });
    this.supervisor.remove(entry.name);
    if (this.#entries.get(entry.name) === entry) this.#entries.delete(entry.name);
    this.#gone.restarts += entry.restarts;
    this.#gone.giveUps += entry.giveUps;
    this.#gone.kills += entry.kills;
    this.#gone.zombies += entry.zombies;
  }

  #require(name: string, verb: string): Entry {
    if (typeof name !== "string") {
      throw new TypeError(
        `Cannot ${verb} a plugin as 'name' must be a string: current value is ${show(name)}`,
      );
    }
    const entry = this.#entries.get(name);
    if (entry === undefined) {
      throw new PluginError(
        "E_PLUGIN_NOT_FOUND",
        name,
        `Cannot ${verb} plugin ${show(name)} as no plugin of that name is loaded`,
      );
    }
    return entry;
  }

  /** Resolves `true` when `promise` settles within `ms` on the driver, else `false`. */
  async #within(promise: Promise<unknown>, ms: number): Promise<boolean> {
    if (ms <= 0) {
      // No time left: only what has settled by now counts.
      const now = Promise.withResolvers<false>();
      afterMicrotasks(() => now.resolve(false));
      return await Promise.race([promise.then(() => true), now.promise]);
    }
    let timer: { cancel(): boolean } | undefined;
    const { promise: expired, resolve } = Promise.withResolvers<false>();
    try {
      timer = this.#driver.after(ms, () => resolve(false), { latenessClass: "plugin-close" });
    } catch {
      // The driver is closed: wait without a bound.
    }
    try {
      return await Promise.race([promise.then(() => true), expired]);
    } finally {
      timer?.cancel();
    }
  }

  #info(entry: Entry): PluginInfo {
    const m = entry.manifest;
    const host = entry.host;
    const hostStats = host?.stats();
    const lifecycle = entry.lifecycle.stats();
    return {
      name: entry.name,
      version: m.version,
      isolation: m.isolation,
      state: lifecycle.state,
      phase: lifecycle.phase,
      restarts: entry.restarts,
      giveUps: entry.giveUps,
      kills: entry.kills,
      zombies: entry.zombies,
      restartAtMs: this.supervisor.child(entry.name)?.restartAtMs,
      lastError: lifecycle.lastError,
      lifecycle,
      calls: entry.callsBefore + (hostStats?.calls ?? 0),
      host: hostStats,
      manifest: m,
    };
  }

  #figures(entry: Entry): PluginFigures {
    const lifecycle = entry.lifecycle.stats();
    const failuresByPhase = {} as Record<PluginPhase, number>;
    for (const phase of PLUGIN_PHASES) failuresByPhase[phase] = lifecycle.phases[phase].failures;
    return {
      name: entry.name,
      up: lifecycle.state === "started" ? 1 : 0,
      transitions: lifecycle.transitions,
      failuresByPhase,
      restarts: entry.restarts,
      giveUps: entry.giveUps,
      kills: entry.kills,
      zombies: entry.zombies,
      calls: entry.callsBefore + (entry.host?.stats().calls ?? 0),
    };
  }

  #byState(): Record<PluginState, number> {
    const counts = Object.fromEntries(PLUGIN_STATES.map((s) => [s, 0])) as Record<
      PluginState,
      number
    >;
    for (const e of this.#entries.values()) {
      const state = e.lifecycle.state;
      if (state !== "unloaded") counts[state]++;
    }
    return counts;
  }
}

/** Resolves after the promise jobs queued so far (a few rounds of microtasks). */
function afterMicrotasks(callback: () => void): void {
  let rounds = 0;
  const step = () => (++rounds < 8 ? queueMicrotask(step) : callback());
  queueMicrotask(step);
}
