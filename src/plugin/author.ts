// The plugin author's API (`@chronetix/core/plugin`): `definePlugin()` and the
// context every host hands a plugin. Only types are imported here, so a plugin
// module pulls in no kernel code and runs unchanged in any host: the context is
// an interface, and each host (inline, worker, process) implements it.

import type { Logger } from "../logger.ts";
import type { DataPort } from "../data/data_port.ts";
import type { CounterFamily, GaugeFamily, HistogramFamily } from "../metrics/families.ts";
import type { TaskContext, TaskStats } from "../exec/task.ts";
import type { MissedTickPolicy } from "../time/timer_wheel.ts";
import type { PluginCapability, PluginIsolation } from "./manifest_types.ts";
import { requireFunction, requireInteger, show } from "../internal/validate.ts";

// What a plugin that sends on a data port needs, so it imports everything
// from "@chronetix/core/plugin".
export {
  type WaitOptions,
  type WaitResult,
  WOULD_BLOCK,
  type WouldBlock,
} from "../data/backpressure.ts";

/**
 * The mark a host checks on a plugin module's default export: a plain
 * string, so a plugin that imports another copy of this module (another
 * URL, another thread) is still recognised.
 */
const PLUGIN_KIND = "chronetix.plugin";

/**
 * State handed from one instance of a plugin to the next (hot reload), with
 * the version of its shape so the new code can migrate or refuse it.
 */
export interface PluginStateSnapshot {
  /** The `stateVersion` of the plugin that exported it. */
  readonly version: number;
  /** What its `exportState()` returned. */
  readonly value: unknown;
}

/**
 * One lifecycle hook: may be async. It gets the plugin's context, the same
 * object in every hook of one instance.
 */
export type PluginHook = (ctx: PluginContext) => void | Promise<void>;

/** What a plugin module passes to {@linkcode definePlugin}; every hook is optional. */
export interface PluginDefinition {
  /**
   * Set-up before anything runs: create tasks (they are released from
   * `start` on), subscribe, open ports, read `ctx.state`.
   */
  init?: PluginHook;
  /** Called when the plugin starts; its tasks are released from now on. */
  start?: PluginHook;
  /**
   * Called when the plugin stops: `ctx.signal` has aborted and its tasks
   * are no longer released. Finish what is in flight.
   */
  stop?: PluginHook;
  /** Last call before the instance is dropped: release what `init` took. */
  shutdown?: PluginHook;
  /**
   * The state to hand to the next instance (hot reload). Called on a
   * running instance; what it returns is passed as `value` of a
   * {@linkcode PluginStateSnapshot} with this plugin's `stateVersion`.
   */
  exportState?: (ctx: PluginContext) => unknown;
  /**
   * Takes over the state of a previous instance, before `start`. Throw to
   * refuse a shape it cannot migrate (the switch is then abandoned). Without
   * it, the state is still readable as `ctx.state`.
   */
  importState?: (state: PluginStateSnapshot, ctx: PluginContext) => void | Promise<void>;
  /**
   * The version of the shape `exportState()` returns: an integer `>= 0`.
   *
   * @default {0}
   */
  stateVersion?: number;
}

/** A checked, frozen plugin definition: the default export of a plugin module. */
export interface Plugin extends Readonly<PluginDefinition> {
  /** The version of the shape `exportState()` returns. */
  readonly stateVersion: number;
  /** Marks the object as made by {@linkcode definePlugin}: `"chronetix.plugin"`. */
  readonly kind: "chronetix.plugin";
}

/**
 * What a plugin's task body gets on each run: the executor's task context
 * (the run's release and deadline, its event, its signal, a checkpoint).
 */
export type PluginTaskContext<E = undefined> = TaskContext<E>;

/** Options every plugin task takes. */
export interface PluginTaskOptions<E = undefined> {
  /** Unique among the plugin's tasks; the executor sees it as `<plugin>/<name>`. */
  name: string;
  /** The body, sync or async. */
  run: (ctx: PluginTaskContext<E>) => unknown;
  /** Relative deadline, ms. @default {the period for periodic tasks, else Infinity} */
  deadlineMs?: number;
  /** Breaks deadline ties: higher runs first. @default {0} */
  priority?: number;
  /** Execution budget per run, ms (budget tiers). @default {the manifest's budgets.taskBudgetMs} */
  budgetMs?: number;
  /**
   * When a run throws or rejects: `"crash"` ends the plugin instance (the
   * supervisor decides about a restart), `"continue"` counts it and goes on.
   *
   * @default {"crash"}
   */
  onError?: "crash" | "continue";
}

/** Options of {@linkcode PluginContext.every}. */
export interface PluginPeriodicOptions extends PluginTaskOptions {
  /** The period, ms; releases are drift-free. */
  periodMs: number;
  /** Delay of the first release after `start`, ms. @default {periodMs} */
  delayMs?: number;
  /** Releases missed during a stall. @default {"skip"} */
  missedTicks?: MissedTickPolicy;
}

/** Options of {@linkcode PluginContext.after}. */
export interface PluginOnceOptions extends PluginTaskOptions {
  /** Delay after `start` (or after now, once started), ms. @default {0} */
  delayMs?: number;
}

/** Options of {@linkcode PluginContext.onEvent}. */
export interface PluginEventOptions<E> extends PluginTaskOptions<E> {
  /** The bus topic whose events release the task, one run per event. */
  topic: string;
}

/** A plugin's handle on one of its tasks. */
export interface PluginTask {
  /** The task's name, as the plugin gave it. */
  readonly name: string;
  /** Whether it is still going to be released (false once cancelled or the plugin stopped). */
  readonly active: boolean;
  /**
   * Stops the task for good.
   *
   * @returns `false` when it was already cancelled.
   */
  cancel(): boolean;
  /** The executor's figures of the task; `undefined` before `start` or where the host has none. */
  stats(): TaskStats | undefined;
}

/** A subscriber of a plugin; may return a promise. */
export type PluginEventHandler<T> = (event: T) => void | Promise<void>;

/** Options of {@linkcode PluginContext.subscribe}. */
export interface PluginSubscribeOptions {
  /**
   * When the handler throws or rejects: `"crash"` ends the plugin instance,
   * `"continue"` counts it (the bus logs it) and goes on.
   *
   * @default {"crash"}
   */
  onError?: "crash" | "continue";
}

/** A plugin's handle on one subscription. */
export interface PluginSubscription extends Disposable {
  /** Whether the handler still receives events. */
  readonly active: boolean;
  /** Stops delivery; calling it again does nothing. */
  unsubscribe(): void;
}

/** What a plugin sees of a data port: send and receive frames with credit backpressure. */
export type PluginDataPort = Pick<
  DataPort,
  | "send"
  | "receive"
  | "recycle"
  | "view"
  | "onFrame"
  | "whenWritable"
  | "credit"
  | "writable"
  | "stats"
>;

/** Options of a plugin's own metric family. */
export interface PluginMetricOptions {
  /**
   * The name after the plugin's prefix `chronetix_plugin_<name>_` (a `-` in
   * the plugin's name becomes `_`): `readings_total` gives
   * `chronetix_plugin_sampler_readings_total`.
   */
  name: string;
  /** What it measures: required, no trailing period. */
  help: string;
  /** A base unit (`seconds`, `bytes`) the name ends with. */
  unit?: string;
  /** Label names. @default {[]} */
  labelNames?: readonly string[];
}

/** Options of a plugin's histogram family. */
export interface PluginHistogramOptions extends PluginMetricOptions {
  /** Bucket upper bounds, ascending. @default {latency buckets in seconds} */
  buckets?: readonly number[];
}

/**
 * A plugin's own metrics, named `chronetix_plugin_<name>_*`. Cardinality is
 * limited: each family has a hard series limit (past it, new label sets go to
 * one overflow series) and a plugin has a limit on its number of families.
 * The same declaration again returns the same family (so a restarted
 * instance continues its series).
 */
export interface PluginMetrics {
  /** The name prefix every family gets: `chronetix_plugin_<name>_`. */
  readonly prefix: string;
  /** A counter family. */
  counter(options: PluginMetricOptions): CounterFamily;
  /** A gauge family. */
  gauge(options: PluginMetricOptions): GaugeFamily;
  /** A histogram family. */
  histogram(options: PluginHistogramOptions): HistogramFamily;
}

/**
 * What a plugin gets from its host, in every hook. The host implements it:
 * in the kernel's isolate (inline) tasks run on the kernel's executor; in a
 * worker or a process, on the plugin's own thread. Capabilities gate the
 * kernel's shared parts: `publish` for `publish()`, `subscribe` for
 * `subscribe()` and `onEvent()`, `dataport` for `dataPort()`, `metrics` for
 * `metrics`; a call without its capability throws a `PluginError`
 * (`E_PLUGIN_CAPABILITY`) naming the capability to add to the manifest.
 */
export interface PluginContext {
  /** The plugin's name (from its manifest). */
  readonly name: string;
  /** Its version (from its manifest). */
  readonly version: string;
  /** Where it runs. */
  readonly isolation: PluginIsolation;
  /** What its manifest grants it. */
  readonly capabilities: readonly PluginCapability[];
  /**
   * Aborts when this instance stops, fails or is killed: loops and pending
   * work should end then.
   */
  readonly signal: AbortSignal;
  /**
   * The state a previous instance handed over (hot reload), once
   * {@linkcode PluginDefinition.importState} took it; `undefined` otherwise.
   */
  readonly state: PluginStateSnapshot | undefined;
  /** A logger whose lines start with `[plugin <name>] `. */
  readonly log: Logger;
  /** Its own `chronetix_plugin_<name>_*` metrics (capability `metrics`). */
  readonly metrics: PluginMetrics;
  /** The host's clock, ms (the kernel's clock for inline plugins). */
  now(): number;
  /**
   * Adds a periodic task, released from `start` on (at once when already started).
   *
   * @param options Name, body, period and timing options.
   * @returns Its handle.
   */
  every(options: PluginPeriodicOptions): PluginTask;
  /**
   * Adds a one-shot task, released `delayMs` after `start` (or after now).
   *
   * @param options Name, body, delay and timing options.
   * @returns Its handle.
   */
  after(options: PluginOnceOptions): PluginTask;
  /**
   * Adds an event task: one run per event on `topic` (capability `subscribe`).
   *
   * @param options Name, body, topic and timing options.
   * @returns Its handle.
   */
  onEvent<E>(options: PluginEventOptions<E>): PluginTask;
  /**
   * Publishes on the kernel's bus, synchronously (capability `publish`).
   *
   * @param topic The topic's name.
   * @param value The event.
   * @returns How many handlers were called.
   */
  publish<T>(topic: string, value: T): number;
  /**
   * Subscribes to a bus topic (capability `subscribe`); ends with the instance.
   *
   * @param topic The topic's name.
   * @param handler Called with each event.
   * @param options What a throwing handler does.
   * @returns The subscription.
   */
  subscribe<T>(
    topic: string,
    handler: PluginEventHandler<T>,
    options?: PluginSubscribeOptions,
  ): PluginSubscription;
  /**
   * A data port the kernel offers under `name` (capability `dataport`).
   *
   * @param name The port's name.
   * @returns The port.
   */
  dataPort(name: string): PluginDataPort;
  /**
   * A cooperative preemption point for long async hook code: resolves at
   * once, unless the current hook has run for longer than the host's slice,
   * then it yields through a timer. Once `signal` aborted it resolves at
   * once: loop on `while (!ctx.signal.aborted) await ctx.checkpoint()`.
   *
   * @returns A promise that resolves when the code may go on.
   */
  checkpoint(): Promise<void>;
  /**
   * Ends this instance normally (not a failure): the host stops and shuts
   * it down. A `permanent` plugin is restarted; `transient` and `temporary`
   * are not.
   *
   * @param reason Why, for the logs and the telemetry ring.
   */
  exit(reason?: string): void;
}

const HOOKS = ["init", "start", "stop", "shutdown", "exportState", "importState"] as const;
const KEYS: readonly string[] = [...HOOKS, "stateVersion"];

/**
 * Defines a plugin: the default export of a plugin module. Every hook is
 * optional and may be async; the host calls them in the lifecycle order
 * `init → (importState) → start → stop → shutdown`, each with the plugin's
 * {@linkcode PluginContext}. The definition is checked (unknown keys are a
 * typo, a hook must be a function) and frozen.
 *
 * @example A sampler that publishes every 10 ms
 * ```ts
 * import { definePlugin } from "@chronetix/core/plugin";
 * import { assertEquals } from "@std/assert";
 *
 * const plugin = definePlugin({
 *   init(ctx) {
 *     let n = 0;
 *     ctx.every({ name: "sample", periodMs: 10, run: () => void ctx.publish("readings", n++) });
 *   },
 *   exportState: () => ({ n: 0 }),
 *   stateVersion: 1,
 * });
 * assertEquals(plugin.stateVersion, 1);
 * assertEquals(typeof plugin.init, "function");
 * assertEquals(Object.isFrozen(plugin), true);
 * // export default plugin;
 * ```
 *
 * @param definition The hooks and the state version.
 * @returns The checked, frozen plugin.
 * @throws {TypeError} when `definition` is not an object, has a key that is
 * not a hook (or `stateVersion`), or a hook is not a function.
 * @throws {RangeError} when `stateVersion` is not an integer in [0, 2^31).
 */
export function definePlugin(definition: PluginDefinition): Plugin {
  const action = "define a plugin";
  if (definition === null || typeof definition !== "object") {
    throw new TypeError(
      `Cannot ${action} as 'definition' must be an object: current value is ${show(definition)}`,
    );
  }
  for (const key of Object.keys(definition)) {
    if (!KEYS.includes(key)) {
      throw new TypeError(
        `Cannot ${action} as 'definition.${key}' is not a plugin hook: use one of ${
          KEYS.join(", ")
        }`,
      );
    }
  }
  const plugin: Record<string, unknown> = {};
  for (const hook of HOOKS) {
    const value = definition[hook];
    if (value !== undefined) plugin[hook] = requireFunction(action, `definition.${hook}`, value);
  }
  plugin.stateVersion = definition.stateVersion === undefined
    ? 0
    : requireInteger(action, "definition.stateVersion", definition.stateVersion, 0, 2 ** 31 - 1);
  plugin.kind = PLUGIN_KIND;
  return Object.freeze(plugin) as unknown as Plugin;
}
