// The plugin manager's hot-reload bookkeeping: the counters behind the
// `chronetix_hotreload_*` metrics, the active-version gauge, the telemetry
// event of each switch, and the folder watchers of `watch: true` plugins.

import type { Driver } from "../time/driver.ts";
import type { Logger } from "../logger.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import type { TelemetryRing } from "./telemetry_ring.ts";
import type { HotReloadStats, ReloadReport } from "./hot_reload_types.ts";
import { registerReloadMetrics, type ReloadMetrics } from "./_reload_metrics.ts";
import { PluginWatcher } from "./_reload_watch.ts";

/** Hot-reload counters, metrics, telemetry and watchers of one manager. */
export class ReloadBook {
  /** The counters (mutated by the switches). */
  readonly stats: HotReloadStats = {
    switches: 0,
    success: 0,
    failed: 0,
    lastSwitchMs: NaN,
    deactivateLeaks: 0,
    deactivateSlow: 0,
    verifyFailed: 0,
    resourceCheckFailed: 0,
    quiescentTimeouts: 0,
    forceSeparateInvoked: 0,
    forceSeparateFailed: 0,
    rollbacks: 0,
    bufferOverflows: 0,
  };
  readonly #manager: string;
  readonly #metrics: ReloadMetrics;
  readonly #telemetry: TelemetryRing;
  readonly #driver: Driver;
  readonly #logger: Logger;
  readonly #watchers = new Map<string, PluginWatcher>();
  readonly #closing: Promise<void>[] = [];

  constructor(
    registry: MetricsRegistry,
    manager: string,
    telemetry: TelemetryRing,
    driver: Driver,
    logger: Logger,
  ) {
    this.#manager = manager;
    this.#telemetry = telemetry;
    this.#driver = driver;
    this.#logger = logger;
    this.#metrics = registerReloadMetrics(registry, manager, () => ({ ...this.stats }));
  }

  /** `version` of `plugin` runs now (`previous`, if given, does not). */
  active(plugin: string, version: string, previous?: string): void {
    const gauge = this.#metrics.activeVersion;
    if (previous !== undefined && previous !== version) {
      gauge.labels(this.#manager, plugin, previous).set(0);
    }
    gauge.labels(this.#manager, plugin, version).set(1);
  }

  /** Records a switch: its duration, the active version, a telemetry event. */
  switched(report: ReloadReport): void {
    this.#metrics.duration.labels(this.#manager, report.plugin).observe(report.durationMs / 1000);
    if (report.ok) this.active(report.plugin, report.toVersion, report.fromVersion);
    this.#telemetry.record({
      kind: "reload",
      plugin: report.plugin,
      durationMs: report.durationMs,
      reason: report.ok
        ? `${report.fromVersion} -> ${report.toVersion}`
        : `failed in ${report.failedPhase}: ${report.reason}`,
      error: report.ok ? undefined : report.reason,
      phases: Object.fromEntries(report.phases.map((p) => [p.phase, p.durationMs])),
    });
  }

  /** Records a rollback from `failed` to `back`, by `how` (its kept instance, or a restart). */
  rolledBack(plugin: string, failed: string, back: string, why: string, how: string): void {
    this.stats.rollbacks++;
    this.#telemetry.record({
      kind: "rollback",
      plugin,
      reason: `${failed} failed on probation (${why}): back to ${back} by ${how}`,
    });
    this.#logger.error(
      `Plugin "${plugin}" ${failed} failed on probation: rolled back to ${back} by ${how}`,
    );
  }

  /** Watches `folder` and reloads `plugin` on changes to its `files`; a failed reload is logged. */
  watch(
    plugin: string,
    folder: URL,
    reload: () => Promise<ReloadReport | undefined>,
    files?: () => Promise<ReadonlySet<string> | undefined>,
  ): void {
    this.unwatch(plugin);
    const watcher = new PluginWatcher({
      folder,
      files,
      driver: this.#driver,
      logger: this.#logger,
      reload: async () => {
        const report = await reload();
        if (report !== undefined && !report.ok) {
          this.#logger.error(
            `Plugin "${plugin}" was not reloaded after a change on disk: ${report.reason}`,
          );
        }
      },
    });
    this.#watchers.set(plugin, watcher);
  }

  /** Stops watching `plugin`'s folder. */
  unwatch(plugin: string): void {
    const watcher = this.#watchers.get(plugin);
    if (watcher === undefined) return;
    watcher.close();
    this.#watchers.delete(plugin);
    this.#closing.push(watcher.settled());
  }

  /**
   * Stops every watcher and the metrics; resolves when no watcher's work
   * (a reload, a read of a plugin's import graph) is left running.
   */
  async dispose(): Promise<void> {
    for (const plugin of [...this.#watchers.keys()]) this.unwatch(plugin);
    this.#metrics.dispose();
    await Promise.all(this.#closing.splice(0));
  }
}
