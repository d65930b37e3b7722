import type { EventScope } from "../bus/event_scope.ts";
import { requireInteger } from "../internal/validate.ts";
import type { Plugin, PluginStateSnapshot } from "./author.ts";
import type { ResolvedManifest } from "./manifest_types.ts";
import type {
  PluginExit,
  PluginExitCause,
  PluginHost,
  PluginHostEnvironment,
  PluginHostFactory,
  PluginHostStats,
  PluginKillReport,
  PluginLiveness,
  PluginPhaseOptions,
} from "./host.ts";
import { InlineContext } from "./_inline_context.ts";
import { PluginError } from "./plugin_error.ts";
import { enterHook, phaseFailure, phaseOf, type PluginHookName } from "./_hook_guard.ts";
import { describeError } from "./_describe.ts";

/**
 * Counts the fresh imports the inline host makes (hot reloads and, by
 * policy, restarts) and caps them. Deno keeps every module it imported, so
 * each fresh import of an entry leaks the old module instance for the life
 * of the process: about 85 KiB of heap per import of a 16 KB module,
 * never collected (measured on Deno 2.9.6, see TOOLCHAIN.md). The cap bounds
 * that leak; past it a fresh load fails with `E_PLUGIN_RELOAD_CAP`. The
 * first import of an entry and a re-use of the module already imported
 * cost nothing and are not counted.
 *
 * @example Capping fresh imports
 * ```ts
 * import { InlineReloads } from "@chronetix/core";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const reloads = new InlineReloads(1);
 * assertEquals(reloads.take("sampler"), 1);
 * assertThrows(() => reloads.take("sampler"), Error, "maxInlineReloads");
 * assertEquals(reloads.stats(), { max: 1, total: 1, perPlugin: { sampler: 1 }, refused: 1 });
 * ```
 */
export class InlineReloads {
  /** The cap: fresh imports allowed over the process's life (all plugins). */
  readonly max: number;
  #total = 0;
  #refused = 0;
  readonly #perPlugin = new Map<string, number>();

  /**
   * Creates the ledger.
   *
   * @param max The cap, an integer in [0, 1,000,000].
   * @throws {RangeError} when `max` is out of range.
   */
  constructor(max: number) {
    this.max = requireInteger("create InlineReloads", "max", max, 0, 1_000_000);
  }

  /**
   * Counts one fresh import of `plugin`'s entry, or refuses it past the cap.
   *
   * @param plugin The plugin's name.
   * @returns The import's number (1, 2, ...), unique in the process's ledger.
   * @throws {PluginError} (`E_PLUGIN_RELOAD_CAP`) past the cap.
   */
  take(plugin: string): number {
    if (this.#total >= this.max) {
      this.#refused++;
      throw new PluginError(
        "E_PLUGIN_RELOAD_CAP",
        plugin,
        `Cannot load plugin "${plugin}" afresh as the inline host reached maxInlineReloads (${this.max}): each fresh import leaks the old module, restart the process or run the plugin in a worker`,
        { phase: "load" },
      );
    }
    this.#total++;
    this.#perPlugin.set(plugin, (this.#perPlugin.get(plugin) ?? 0) + 1);
    return this.#total;
  }

  /** Fresh imports of one plugin so far. */
  of(plugin: string): number {
    return this.#perPlugin.get(plugin) ?? 0;
  }

  /**
   * Takes a snapshot.
   *
   * @returns The cap, the total, per plugin, and how many were refused.
   */
  stats(): { max: number; total: number; perPlugin: Record<string, number>; refused: number } {
    return {
      max: this.max,
      total: this.#total,
      perPlugin: Object.fromEntries(this.#perPlugin),
      refused: this.#refused,
    };
  }
}

/** Entries imported so far in this process (a second plain import re-uses the module). */
const IMPORTED = new Set<string>();

type Hook = PluginHookName;

/**
 * Runs a plugin in the kernel's own isolate: its module is loaded with a
 * dynamic `import()`, its tasks run on the kernel's executor, it publishes
 * and subscribes on the kernel's bus. The fastest host, for TRUSTED code
 * only: the plugin has the kernel's permissions, whatever its manifest says,
 * and a plugin stuck in synchronous code stops the kernel with it.
 *
 * Every hook is contained: a throw, a rejection or a hook past its budget
 * (the manifest's `initTimeoutMs` up to start, `stopTimeoutMs` from stop,
 * timed on the kernel's driver) rejects the call with a `PluginError`. A
 * task or handler that throws with `onError: "crash"` ends the instance
 * (`closed` settles with `crashed`): its signal aborts, its tasks and
 * subscriptions end. A kill cannot stop code that is running (`hard:
 * false`); a hook or async task still pending then is reported as a zombie.
 * Loading afresh (`env.fresh`) re-imports the entry under a new URL and
 * counts against {@linkcode InlineReloads}; otherwise the module imported
 * before is re-used (module-level variables keep their values).
 *
 * @example An inline plugin through its lifecycle, on a virtual clock
 * ```ts
 * import { createInlineHost, EventBus, Executor, InlineReloads, MetricsRegistry, validateManifest } from "@chronetix/core";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * const bus = new EventBus();
 * using executor = new Executor({ clock, bus });
 * // ticker.ts: export default definePlugin({ init(ctx) { ctx.every({ name: "tick", periodMs: 10, run: () => void ctx.publish("ticks", 1) }) } })
 * const manifest = validateManifest({
 *   name: "ticker", version: "1.0.0", entry: "./tests/plugin/_fixtures/ticker.ts",
 *   isolation: "inline", capabilities: ["publish"],
 * });
 * const host = createInlineHost(new InlineReloads(10))(manifest, {
 *   driver: executor.driver, executor, bus, metrics: new MetricsRegistry(), logger: console,
 *   dataPorts: undefined, metricLimits: { maxFamilies: 8, hardLimit: 100, softLimit: 50 },
 *   metricFamilies: new Map(), fresh: false,
 * });
 * let ticks = 0;
 * bus.topic<number>("ticks").subscribe(() => void ticks++);
 * await host.load();
 * await host.init();
 * await host.ready();
 * await host.start();
 * clock.advance(30);
 * assertEquals(ticks, 3);
 * await host.stop();
 * await host.shutdown();
 * assertEquals((await host.closed).cause, "shutdown");
 * ```
 */
export class InlineHost implements PluginHost {
  /** Always `"inline"`. */
  readonly isolation = "inline" as const;
  /** The plugin's manifest. */
  readonly manifest: ResolvedManifest;
  /** Settles once when the instance ends or asks to end. */
  readonly closed: Promise<PluginExit>;
  readonly #env: PluginHostEnvironment;
  readonly #reloads: InlineReloads;
  readonly #ctx: InlineContext;
  readonly #settle: (exit: PluginExit) => void;
  #plugin: Plugin | undefined;
  #ended: PluginExit | undefined;
  #killReport: PluginKillReport | undefined;
  #hook: Hook | undefined;
  #hookSince = NaN;
  #lastActivity = NaN;
  #pendingHooks = 0;
  #asyncCalls = 0;
  readonly #stats: PluginHostStats = {
    calls: 0,
    taskRuns: 0,
    handlerCalls: 0,
    errors: 0,
    tasks: 0,
    subscriptions: 0,
  };

  /**
   * Creates the host of one instance; nothing runs until `load()`.
   *
   * @param manifest The plugin's resolved manifest.
   * @param env The kernel's parts and the manager's policies.
   * @param reloads The ledger of fresh imports.
   */
  constructor(manifest: ResolvedManifest, env: PluginHostEnvironment, reloads: InlineReloads) {
    this.manifest = manifest;
    this.#env = env;
    this.#reloads = reloads;
    const { promise, resolve } = Promise.withResolvers<PluginExit>();
    this.closed = promise;
    this.#settle = resolve;
    this.#ctx = new InlineContext(manifest, env, {
      crashed: (error, where) => this.#crash(error, where),
      exited: (reason) => this.#end("exit", true, reason, undefined),
      callStarted: (kind) => {
        this.#stats.calls++;
        if (kind === "task") this.#stats.taskRuns++;
        else this.#stats.handlerCalls++;
        this.#asyncCalls++;
      },
      callEnded: (failed) => {
        if (failed) this.#stats.errors++;
        this.#asyncCalls--;
        this.#lastActivity = this.#now();
      },
      hookSince: () => (this.#hook === undefined ? undefined : this.#hookSince),
    });
  }

  /** The instance's event scope: its queued events and running handlers. */
  get scope(): EventScope {
    return this.#ctx.scope;
  }

  /**
   * Imports the entry (afresh when the environment says so) and checks its
   * default export.
   *
   * @param options The hook's budget.
   * @returns A promise that resolves once the plugin is loaded.
   */
  load(options?: PluginPhaseOptions): Promise<void> {
    return this.#phase("load", options, async () => {
      const url = this.manifest.entryUrl;
      let href = url.href;
      const reusable = IMPORTED.has(href);
      if (
        reusable && this.#env.fresh && (url.protocol === "file:" || url.protocol.startsWith("http"))
      ) {
        const fresh = new URL(url);
        fresh.searchParams.set("chronetix_reload", String(this.#reloads.take(this.manifest.name)));
        href = fresh.href;
      }
      const module = await import(href);
      IMPORTED.add(url.href);
      this.#plugin = checkPlugin(this.manifest.name, href, module);
    });
  }

  /**
   * Runs the plugin's `init`.
   *
   * @param options The hook's budget.
   * @returns A promise that resolves once `init` finished.
   */
  init(options?: PluginPhaseOptions): Promise<void> {
    return this.#phase("init", options, () => this.#plugin?.init?.(this.#ctx));
  }

  /**
   * Readies the instance (nothing to wire in the kernel's isolate).
   *
   * @param options The hook's budget.
   * @returns A promise that resolves at once.
   */
  ready(options?: PluginPhaseOptions): Promise<void> {
    return this.#phase("ready", options, () => undefined);
  }

  /**
   * Hands over a previous instance's state: the plugin's `importState`
   * (which may refuse it), then `ctx.state`.
   *
   * @param state The state and its version.
   * @param options The hook's budget.
   * @returns A promise that resolves once the state is taken.
   */
  importState(state: PluginStateSnapshot, options?: PluginPhaseOptions): Promise<void> {
    return this.#phase("importState", options, async () => {
      const snapshot: PluginStateSnapshot = Object.freeze({
        version: state?.version,
        value: state?.value,
      });
      try {
        await this.#plugin?.importState?.(snapshot, this.#ctx);
      } catch (error) {
        throw new PluginError(
          "E_PLUGIN_STATE_REFUSED",
          this.manifest.name,
          `Cannot hand state version ${
            String(snapshot.version)
          } to plugin "${this.manifest.name}" as its importState refused it: ${
            describeError(error)
          }`,
          { phase: "ready", cause: error },
        );
      }
      this.#ctx.setState(snapshot);
    });
  }

  /**
   * Releases the plugin's tasks and runs its `start`.
   *
   * @param options The hook's budget.
   * @returns A promise that resolves once `start` finished.
   */
  start(options?: PluginPhaseOptions): Promise<void> {
    return this.#phase("start", options, () => {
      this.#ctx.attachTasks();
      return this.#plugin?.start?.(this.#ctx);
    });
  }

  /**
   * Aborts the signal, stops releasing the tasks, runs the plugin's `stop`.
   *
   * @param options The hook's budget.
   * @returns A promise that resolves once `stop` finished.
   */
  stop(options?: PluginPhaseOptions): Promise<void> {
    return this.#phase("stop", options, () => {
      this.#ctx.stopRunning("run (the plugin is stopping)");
      return this.#plugin?.stop?.(this.#ctx);
    });
  }

  /**
   * Runs the plugin's `shutdown`, then ends its subscriptions and tasks.
   *
   * @param options The hook's budget.
   * @returns A promise that resolves once the instance is shut down.
   */
  async shutdown(options?: PluginPhaseOptions): Promise<void> {
    try {
      await this.#phase("shutdown", options, () => {
        this.#ctx.stopRunning("run (the plugin is shutting down)");
        return this.#plugin?.shutdown?.(this.#ctx);
      });
    } finally {
      this.#ctx.close("run (the plugin is shut down)");
    }
    this.#end("shutdown", true, "shut down", undefined);
  }

  /**
   * Takes the plugin's state for the next instance.
   *
   * @param options The hook's budget.
   * @returns The state with the plugin's `stateVersion`, or `undefined` without `exportState`.
   */
  async exportState(options?: PluginPhaseOptions): Promise<PluginStateSnapshot | undefined> {
    let snapshot: PluginStateSnapshot | undefined;
    await this.#phase("exportState", options, async () => {
      const plugin = this.#plugin;
      if (plugin?.exportState === undefined) return;
      const value = await plugin.exportState(this.#ctx);
      snapshot = Object.freeze({ version: plugin.stateVersion, value });
    });
    return snapshot;
  }

  /**
   * Cuts the instance off: its signal aborts, its tasks and subscriptions
   * end. Code that is running cannot be stopped in the kernel's isolate.
   *
   * @param reason Why.
   * @returns `hard: false`; `zombie` when a hook or async run was pending.
   */
  kill(reason: string): PluginKillReport {
    if (this.#killReport !== undefined) return this.#killReport;
    const zombie = this.#pendingHooks > 0 || this.#asyncCalls > 0;
    this.#ctx.close(`run (the plugin was killed: ${reason})`);
    this.#killReport = { hard: false, zombie, reason };
    this.#end(
      "killed",
      false,
      reason,
      new PluginError(
        "E_PLUGIN_KILLED",
        this.manifest.name,
        `Cannot run plugin "${this.manifest.name}" as it was killed: ${reason}`,
      ),
    );
    return this.#killReport;
  }

  /**
   * Resolves once the instance's scope has nothing queued or in flight
   * (inline events are handed over synchronously, so that is all).
   *
   * @returns A promise that resolves when idle.
   */
  whenIdle(): Promise<void> {
    return this.#ctx.scope.whenIdle();
  }

  /**
   * Force-separates the instance: cancels its tasks, ends its
   * subscriptions, drops its data ports; it is not ended.
   *
   * @returns How many resources it cut.
   */
  separate(): number {
    return this.#ctx.separate();
  }

  /**
   * Whether the instance is alive and what it is doing.
   *
   * @returns The hook running now and the last activity.
   */
  liveness(): PluginLiveness {
    return {
      alive: this.#ended === undefined || this.#ended.cause === "exit",
      hook: this.#hook,
      hookSinceMs: this.#hook === undefined ? NaN : this.#hookSince,
      lastActivityMs: this.#lastActivity,
    };
  }

  /**
   * The instance's counters.
   *
   * @returns Calls, task runs, handler calls, errors, tasks, subscriptions.
   */
  stats(): PluginHostStats {
    return {
      ...this.#stats,
      tasks: this.#ctx.taskCount,
      subscriptions: this.#ctx.subscriptionCount,
    };
  }

  #now(): number {
    return this.#env.driver.clock.now();
  }

  #crash(error: unknown, where: string): void {
    if (this.#ended !== undefined && this.#ended.cause !== "exit") return;
    const name = this.manifest.name;
    const crash = new PluginError(
      "E_PLUGIN_CRASHED",
      name,
      `Cannot keep plugin "${name}" running as ${where} threw: ${describeError(error)}`,
      { phase: "run", cause: error },
    );
    this.#ctx.close("run (the plugin crashed)");
    this.#end("crashed", false, `${where} threw: ${describeError(error)}`, crash);
  }

  #end(cause: PluginExitCause, normal: boolean, reason: string, error: unknown): void {
    if (this.#ended !== undefined && !(this.#ended.cause === "exit" && cause !== "exit")) return;
    const first = this.#ended === undefined;
    this.#ended = { cause, normal, reason, error, atMs: this.#now() };
    if (first) this.#settle(this.#ended);
  }

  /**
   * Runs one hook with its budget on the kernel's driver. A throw, a
   * rejection, a timeout, or a crash of the instance while the hook ran
   * rejects with a PluginError; the hook's promise is never left unhandled.
   */
  async #phase(
    hook: Hook,
    options: PluginPhaseOptions | undefined,
    body: () => unknown,
  ): Promise<void> {
    const name = this.manifest.name;
    const phase = phaseOf(hook);
    const timeoutMs = enterHook(this.manifest, hook, {
      ended: this.#ended,
      running: this.#hook,
      loaded: this.#plugin !== undefined,
    }, options);
    this.#hook = hook;
    this.#hookSince = this.#now();
    this.#stats.calls++;
    this.#pendingHooks++;
    let settled = false;
    const run = (async () => await body())().finally(() => {
      this.#pendingHooks--;
      settled = true;
    });
    const { promise: timedOut, resolve: timeUp } = Promise.withResolvers<"timeout">();
    let timer: { cancel(): boolean } | undefined;
    try {
      timer = this.#env.driver.after(timeoutMs, () => timeUp("timeout"), {
        latenessClass: "plugin-phase",
      });
    } catch {
      // The driver is closed (the kernel is going down): no budget to enforce.
    }
    try {
      const outcome = await Promise.race([run.then(() => "done" as const), timedOut]);
      if (outcome === "timeout" && !settled) {
        run.catch(() => {}); // it may still settle: nobody waits for it any more
        throw new PluginError(
          "E_PLUGIN_TIMEOUT",
          name,
          `Cannot ${hook} plugin "${name}" as it ran over its ${timeoutMs} ms budget`,
          { phase },
        );
      }
    } catch (error) {
      throw phaseFailure(error, name, hook);
    } finally {
      timer?.cancel();
      this.#hook = undefined;
      this.#lastActivity = this.#now();
    }
    const ended = this.#ended;
    if (ended !== undefined && ended.cause !== "exit" && ended.cause !== "shutdown") {
      throw ended.error instanceof PluginError ? ended.error : new PluginError(
        "E_PLUGIN_KILLED",
        name,
        `Cannot ${hook} plugin "${name}" as its instance ended (${ended.cause})`,
        { phase },
      );
    }
  }
}

/**
 * Makes the factory of inline hosts that share one ledger of fresh imports
 * (what a `PluginManager` uses for `isolation: "inline"`).
 *
 * @example A factory and its ledger
 * ```ts
 * import { createInlineHost, InlineReloads } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const reloads = new InlineReloads(100);
 * const factory = createInlineHost(reloads);
 * assertEquals(typeof factory, "function");
 * assertEquals(reloads.stats().total, 0);
 * ```
 *
 * @param reloads The ledger that counts and caps fresh imports.
 * @returns A host factory.
 */
export function createInlineHost(reloads: InlineReloads): PluginHostFactory {
  return (manifest, env) => new InlineHost(manifest, env, reloads);
}

/** Checks that a module's default export is a plugin. */
function checkPlugin(name: string, href: string, module: unknown): Plugin {
  const plugin = (module as { default?: unknown } | null)?.default as Partial<Plugin> | undefined;
  const ok = plugin !== null && typeof plugin === "object" && plugin.kind === "chronetix.plugin" &&
    (["init", "start", "stop", "shutdown", "exportState", "importState"] as const).every((hook) =>
      plugin[hook] === undefined || typeof plugin[hook] === "function"
    ) && Number.isInteger(plugin.stateVersion);
  if (!ok) {
    const where = href.startsWith("data:") ? "its data: URL" : href;
    throw new PluginError(
      "E_PLUGIN_INVALID_MODULE",
      name,
      `Cannot load plugin "${name}" as the default export of ${where} is not a definePlugin() result`,
      { phase: "load" },
    );
  }
  return plugin as Plugin;
}
