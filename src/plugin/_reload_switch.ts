// One hot switch of a plugin from its running instance to a new version,
// in the order of issue 13: the new one to ready; routing gated and the old
// one drained; its state handed over; the new one started and routed (the
// held events go to it, in order); the old one quiesced (stopped, its scope
// drained, resource checks polled, force-separated on timeout), shut down,
// verified against the resource registry and ended. With `keepOld` (a
// probation window, an inline or worker host), an old instance that
// quiesced cleanly is kept stopped instead, to switch back to if the new one
// fails; it is shut down, verified and ended when probation ends.

import type { Driver } from "../time/driver.ts";
import { errorRecord } from "../errors.ts";
import type { PluginHost } from "./host.ts";
import type { ResolvedManifest } from "./manifest_types.ts";
import type { PluginLifecycle, SteppingPhase } from "./lifecycle.ts";
import type { PluginStateSnapshot } from "./author.ts";
import type { ResourceEntry, ResourceRegistry } from "./resource_registry.ts";
import type { PluginRouter } from "./_routing.ts";
import { PluginError } from "./plugin_error.ts";
import { describeError } from "./_describe.ts";
import type {
  HotReloadStats,
  ReloadPhase,
  ReloadPhaseReport,
  ReloadReport,
  ReloadResourceCheck,
} from "./hot_reload_types.ts";

/** One instance taking part in a switch. */
export interface SwitchSide {
  host: PluginHost;
  lifecycle: PluginLifecycle;
  owner: string;
  manifest: ResolvedManifest;
}

/** What a switch needs from the manager. */
export interface SwitchContext {
  plugin: string;
  driver: Driver;
  router: PluginRouter;
  resources: ResourceRegistry;
  stats: HotReloadStats;
  old: SwitchSide;
  /**
   * Makes the new instance's host and lifecycle (not routed). Part of the
   * `prepare` phase: for a worker or process plugin it first fingerprints
   * the plugin's files (whether the import audit must run again).
   */
  makeNew(manifest: ResolvedManifest): Promise<SwitchSide> | SwitchSide;
  /** The new instance becomes the plugin's current one. */
  commit(next: SwitchSide): void;
  /** Kills an instance (counted by the manager). */
  kill(side: SwitchSide, reason: string): void;
}

/** The checked options of one switch. */
export interface SwitchOptions {
  manifest: ResolvedManifest;
  drainPollMs: number;
  quiescentTimeoutMs: number;
  maxBuffered: number;
  checks: readonly ReloadResourceCheck[];
  /** Keep an old instance that quiesced cleanly, stopped, for a rollback. */
  keepOld: boolean;
}

/** An old instance kept stopped through probation. */
export interface KeptInstance {
  side: SwitchSide;
  /** Shuts it down, verifies and ends it (probation is over); never rejects. */
  retire(): Promise<void>;
}

/** What a switch hands back besides its report. */
export interface SwitchOut {
  state: PluginStateSnapshot | undefined;
  kept: KeptInstance | undefined;
}

type Step = <T>(phase: ReloadPhase, body: () => Promise<T> | T) => Promise<T>;

/** Thrown inside a switch to fail it in a phase. */
class SwitchFailed extends Error {
  readonly phase: ReloadPhase;
  constructor(phase: ReloadPhase, cause: unknown) {
    super(describeError(cause), { cause });
    this.phase = phase;
  }
}

/** Runs one switch; never rejects for a plugin's failure (the report says why). */
export async function runSwitch(
  ctx: SwitchContext,
  options: SwitchOptions,
  snapshotOut: SwitchOut,
): Promise<ReloadReport> {
  const clock = ctx.driver.clock;
  const start = clock.now();
  const old = ctx.old;
  const phases: ReloadPhaseReport[] = [];
  const report: ReloadReport = {
    plugin: ctx.plugin,
    ok: false,
    fromVersion: old.manifest.version,
    toVersion: options.manifest.version,
    activeVersion: old.manifest.version,
    failedPhase: undefined,
    reason: undefined,
    error: undefined,
    durationMs: 0,
    phases,
    stateVersion: undefined,
    buffered: 0,
    quiescentTimeout: false,
    forceSeparated: false,
    leaked: [],
    oldKept: false,
  };
  const step: Step = async <T>(phase: ReloadPhase, body: () => Promise<T> | T): Promise<T> => {
    const t0 = clock.now();
    try {
      const value = await body();
      phases.push({ phase, durationMs: clock.now() - t0, ok: true });
      return value;
    } catch (error) {
      phases.push({ phase, durationMs: clock.now() - t0, ok: false });
      throw error instanceof SwitchFailed ? error : new SwitchFailed(phase, error);
    }
  };
  const router = ctx.router;
  const overflowed = (phase: ReloadPhase) => {
    if (!router.abandoned) return;
    ctx.stats.bufferOverflows++;
    throw new SwitchFailed(
      phase,
      new PluginError(
        "E_PLUGIN_PHASE_FAILED",
        ctx.plugin,
        `Cannot switch plugin "${ctx.plugin}" as more than ${options.maxBuffered} events arrived while routing was gated: the old version keeps running`,
      ),
    );
  };
  ctx.stats.switches++;
  let next: SwitchSide | undefined;
  // Up to the switch, a failure leaves the old instance running and routed.
  try {
    next = await step("prepare", async () => {
      const side = await ctx.makeNew(options.manifest);
      next = side;
      // No frame reaches the new version before it has the old one's state:
      // the ports it consumes are handed to it at its start.
      side.host.holdPorts?.();
      await runPhase(side, "load");
      await runPhase(side, "init");
      // The ready phase stays open: the state hand-over is part of it.
      side.lifecycle.begin("ready");
      try {
        await side.host.ready();
      } catch (error) {
        side.lifecycle.fail("ready", error);
        throw error;
      }
      return side;
    });
    const n = next;
    await step("drain", async () => {
      router.gate(options.maxBuffered);
      old.host.holdPorts?.();
      const idle = await within(ctx.driver, idleOf(old.host), options.quiescentTimeoutMs);
      overflowed("drain");
      if (!idle) {
        throw new PluginError(
          "E_PLUGIN_TIMEOUT",
          ctx.plugin,
          `Cannot switch plugin "${ctx.plugin}" as its running instance did not finish its events within ${options.quiescentTimeoutMs} ms`,
        );
      }
    });
    await step("handover", async () => {
      const state = await old.host.exportState();
      overflowed("handover");
      report.stateVersion = state?.version;
      snapshotOut.state = state;
      try {
        if (state !== undefined) await n.host.importState(state);
      } catch (error) {
        if (n.lifecycle.phase === "ready") n.lifecycle.fail("ready", error);
        throw error;
      }
      n.lifecycle.complete();
      overflowed("handover");
    });
    await step("start", async () => {
      n.host.releasePorts?.();
      await runPhase(n, "start");
      overflowed("start");
      if (!n.host.liveness().alive) {
        throw new PluginError(
          "E_PLUGIN_CRASHED",
          ctx.plugin,
          `Cannot switch plugin "${ctx.plugin}" as its new version ended right after start`,
        );
      }
    });
  } catch (error) {
    const failed = error instanceof SwitchFailed ? error : new SwitchFailed("prepare", error);
    router.open(); // what was held goes to the old instance, in order
    old.host.releasePorts?.();
    if (next !== undefined) {
      const open = next.lifecycle.phase;
      if (open !== undefined) next.lifecycle.fail(open, failed.cause ?? failed);
      ctx.kill(next, `its reload failed in ${failed.phase}`);
    }
    ctx.stats.failed++;
    return finish(ctx, report, start, failed);
  }
  const n = next!;
  await step("switch", () => {
    router.route(n.owner);
    report.buffered = router.open();
    ctx.commit(n);
    report.activeVersion = n.manifest.version;
  });
  // From here the new version runs whatever the old one does.
  const deactivateStart = clock.now();
  let problem: SwitchFailed | undefined;
  const quiet = await step("quiesce", async () => {
    try {
      await runPhase(old, "stop");
    } catch (error) {
      problem ??= new SwitchFailed("quiesce", error);
    }
    return await pollChecks(ctx, options);
  }).catch((error: SwitchFailed) => {
    problem ??= error;
    return false;
  });
  if (!quiet) {
    report.quiescentTimeout = true;
    report.forceSeparated = true;
    ctx.stats.quiescentTimeouts++;
    ctx.stats.forceSeparateInvoked++;
    await step("force_separate", async () => {
      ctx.router.detach(old.owner);
      old.host.separate?.();
      if (!(await checksPass(ctx, options))) {
        throw new PluginError(
          "E_PLUGIN_TIMEOUT",
          ctx.plugin,
          `Cannot quiesce the old instance of plugin "${ctx.plugin}": its resource checks still fail after it was force-separated`,
        );
      }
    }).catch((error: SwitchFailed) => {
      ctx.stats.forceSeparateFailed++;
      problem ??= error;
    });
  }
  if (
    options.keepOld && quiet && problem === undefined && old.lifecycle.state === "stopped" &&
    old.host.liveness().alive
  ) {
    // Kept for probation: ended later, outside this report (see `retire`).
    report.oldKept = true;
    snapshotOut.kept = {
      side: old,
      retire: async () => {
        await endOld(ctx, old, bareStep).catch(() => {});
      },
    };
  } else {
    const ended = await endOld(ctx, old, step);
    report.leaked = ended.leaked;
    problem ??= ended.problem;
  }
  if (clock.now() - deactivateStart > options.quiescentTimeoutMs) ctx.stats.deactivateSlow++;
  report.ok = true;
  ctx.stats.success++;
  const done = finish(ctx, report, start, undefined);
  if (problem !== undefined) {
    report.reason = `the new version runs; the old one did not end cleanly: ${problem.message}`;
  }
  return done;
}

/**
 * The end of an old instance: shut down (killed if that fails), verified
 * against the resource registry, killed where its host can, its resources
 * forgotten.
 */
async function endOld(
  ctx: SwitchContext,
  old: SwitchSide,
  step: Step,
): Promise<{ problem: SwitchFailed | undefined; leaked: ResourceEntry[] }> {
  let problem: SwitchFailed | undefined;
  let leaked: ResourceEntry[] = [];
  // An instance that already ended (failed, or its thread gone) is not shut down or killed.
  if (old.lifecycle.state !== "failed" && old.host.liveness().alive) {
    await step("shutdown", () => runPhase(old, "shutdown")).catch((error: SwitchFailed) => {
      problem = error;
      ctx.kill(old, `its shutdown after a reload failed: ${error.message}`);
    });
  }
  await step("verify", () => {
    leaked = ctx.resources.list(old.owner).filter((e) =>
      e.kind !== "worker" && e.kind !== "subprocess"
    );
    if (leaked.length > 0) {
      ctx.stats.verifyFailed++;
      ctx.stats.deactivateLeaks += leaked.length;
    }
  });
  await step("kill", () => {
    if (old.host.isolation !== "inline" && old.host.liveness().alive) {
      ctx.kill(old, "replaced by a hot reload");
    }
    ctx.resources.removeOwner(old.owner);
  });
  return { problem, leaked };
}

/** A step outside a report (a kept instance's end): failures keep their phase. */
const bareStep: Step = async <T>(phase: ReloadPhase, body: () => Promise<T> | T): Promise<T> => {
  try {
    return await body();
  } catch (error) {
    throw error instanceof SwitchFailed ? error : new SwitchFailed(phase, error);
  }
};

function finish(
  ctx: SwitchContext,
  report: ReloadReport,
  start: number,
  failed: SwitchFailed | undefined,
): ReloadReport {
  const now = ctx.driver.clock.now();
  report.durationMs = now - start;
  ctx.stats.lastSwitchMs = report.durationMs;
  if (failed !== undefined) {
    report.failedPhase = failed.phase;
    report.reason = failed.message;
    report.error = errorRecord(failed.cause ?? failed, now);
  }
  return report;
}

/** One lifecycle phase of an instance through its host, timed on its lifecycle. */
export async function runPhase(side: SwitchSide, phase: SteppingPhase): Promise<void> {
  const lifecycle = side.lifecycle;
  lifecycle.begin(phase);
  try {
    const host = side.host;
    if (phase === "load") await host.load();
    else if (phase === "init") await host.init();
    else if (phase === "ready") await host.ready();
    else if (phase === "start") await host.start();
    else if (phase === "stop") await host.stop();
    else await host.shutdown();
  } catch (error) {
    if (lifecycle.phase === phase) lifecycle.fail(phase, error);
    throw error;
  }
  lifecycle.complete();
}

function idleOf(host: PluginHost): Promise<void> {
  if (typeof host.whenIdle === "function") return host.whenIdle();
  return host.scope?.whenIdle() ?? Promise.resolve();
}

/** Whether every check passes now. */
async function checksPass(ctx: SwitchContext, options: SwitchOptions): Promise<boolean> {
  const host = ctx.old.host;
  if ((host.scope?.inFlight ?? 0) > 0 || host.liveness().hook !== undefined) return false;
  for (const check of options.checks) {
    try {
      if (!(await check(ctx.old.owner))) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** Polls the checks every `drainPollMs` until they pass (`true`) or the timeout (`false`). */
async function pollChecks(ctx: SwitchContext, options: SwitchOptions): Promise<boolean> {
  const clock = ctx.driver.clock;
  const deadline = clock.now() + options.quiescentTimeoutMs;
  for (;;) {
    if (await checksPass(ctx, options)) return true;
    ctx.stats.resourceCheckFailed++;
    const left = deadline - clock.now();
    if (left <= 0) return false;
    await sleep(ctx.driver, Math.min(options.drainPollMs, left));
  }
}

function sleep(driver: Driver, ms: number): Promise<void> {
  const { promise, resolve } = Promise.withResolvers<void>();
  try {
    driver.after(ms, () => resolve(), { latenessClass: "plugin-reload" });
  } catch {
    resolve(); // the driver is closed
  }
  return promise;
}

/** `true` when `promise` settles within `ms` on the driver. */
async function within(driver: Driver, promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: { cancel(): boolean } | undefined;
  const { promise: expired, resolve } = Promise.withResolvers<false>();
  try {
    timer = driver.after(ms, () => resolve(false), { latenessClass: "plugin-reload" });
  } catch {
    // The driver is closed: wait without a bound.
  }
  try {
    return await Promise.race([promise.then(() => true, () => true), expired]);
  } finally {
    timer?.cancel();
  }
}
