// The seam between the plugin manager and where a plugin runs. Every isolation
// level (inline today; worker and process next) implements PluginHost for ONE
// instance of a plugin: a restart or a reload makes a new host. The manager
// drives the lifecycle through it and learns about an instance that ended on
// its own through `closed`.

import type { Driver } from "../time/driver.ts";
import type { EventScope } from "../bus/event_scope.ts";
import type { EventHandler, SubscribeOptions, Subscription } from "../bus/topic.ts";
import type { Executor } from "../exec/executor.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import type { DataPort } from "../data/data_port.ts";
import type { Logger } from "../logger.ts";
import type { PluginStateSnapshot } from "./author.ts";
import type { PluginIsolation, ResolvedManifest } from "./manifest_types.ts";
import type { ResourceRegistry } from "./resource_registry.ts";

/**
 * One topic of a {@linkcode PluginBus}: what a host uses of a bus topic.
 * The kernel's `Topic` is one; the manager's routed view is another.
 */
export interface PluginBusTopic<T> {
  /** The topic's name. */
  readonly name: string;
  /**
   * Publishes synchronously on the kernel's bus.
   *
   * @param event The event.
   * @returns How many handlers ran.
   */
  publish(event: T): number;
  /**
   * Subscribes a handler of the instance.
   *
   * @param handler Called with each event routed to the instance.
   * @param options Its scope (in-flight counting) and a signal that ends it.
   * @returns The subscription.
   */
  subscribe(handler: EventHandler<T>, options?: SubscribeOptions): Subscription;
}

/**
 * The bus as a host sees it: an `EventBus` satisfies it, and so does the
 * routed view the `PluginManager` hands each instance (its
 * subscriptions get the events routed to that instance, so a hot reload
 * switches them atomically and buffers them while switching).
 */
export interface PluginBus {
  /**
   * The topic `name`.
   *
   * @param name The topic.
   * @returns Its publish and subscribe side.
   */
  topic<T>(name: string): PluginBusTopic<T>;
}

/**
 * Why an instance ended other than by the manager's own stop and shutdown:
 * `exit` (the plugin called `ctx.exit()`: a clean end, the instance is still
 * intact and is stopped and shut down next), `crashed` (a task or handler
 * threw with `onError: "crash"`), `hung` (a heartbeat or task budget
 * missed), `killed` (`kill()`), `out-of-memory`, or `shutdown` (its shutdown
 * phase ran: the end of every instance that was not killed).
 */
export type PluginExitCause = "exit" | "crashed" | "hung" | "killed" | "out-of-memory" | "shutdown";

/** How an instance ended; see {@linkcode PluginHost.closed}. */
export interface PluginExit {
  /** Why. */
  cause: PluginExitCause;
  /** `true` for `exit` and `shutdown`: not a failure. */
  normal: boolean;
  /** Why, in words. */
  reason: string;
  /** The error, for a failure. */
  error?: unknown;
  /** When, ms on the host's clock. */
  atMs: number;
}

/** What a kill did. */
export interface PluginKillReport {
  /**
   * `true` when the host could stop the plugin's code for sure (a process
   * killed); `false` when it could only cut it off (inline: its tasks,
   * subscriptions and signal; a worker that cannot be terminated).
   */
  hard: boolean;
  /**
   * `true` when code of the instance may still be running after the kill: a
   * hook or an async task that had not settled (inline), a thread Deno
   * cannot stop (worker). Counted as a zombie.
   */
  zombie: boolean;
  /** Why it was killed. */
  reason: string;
}

/** Whether an instance is alive, and what it is doing. */
export interface PluginLiveness {
  /** It can still run code for the manager (not ended or killed). */
  alive: boolean;
  /** The hook running now (`init`, `start`, ...), if one is. */
  hook: string | undefined;
  /** When that hook started, ms; `NaN` when none runs. */
  hookSinceMs: number;
  /** When the plugin's code last ended a call (hook, task run, handler), ms; `NaN` before the first. */
  lastActivityMs: number;
}

/** A host's counters for one instance. */
export interface PluginHostStats {
  /** Calls into the plugin's code: hooks, task runs and handler calls. */
  calls: number;
  /** Task runs started. */
  taskRuns: number;
  /** Handler calls (subscriptions). */
  handlerCalls: number;
  /** Task runs and handler calls that threw or rejected. */
  errors: number;
  /** Tasks declared (cancelled ones included). */
  tasks: number;
  /** Live subscriptions. */
  subscriptions: number;
}

/** Options of a lifecycle call on a host. */
export interface PluginPhaseOptions {
  /**
   * How long the hook may take before the call rejects with a
   * `PluginError` (`E_PLUGIN_TIMEOUT`).
   *
   * @default {the manifest's budgets: initTimeoutMs up to start, stopTimeoutMs from stop}
   */
  timeoutMs?: number;
}

/**
 * One instance of a plugin, where it runs. Every call is contained: a hook
 * that throws, rejects or runs past its budget rejects the call with a
 * `PluginError` (`E_PLUGIN_PHASE_FAILED`, `E_PLUGIN_TIMEOUT`); the host never
 * lets a plugin's error escape elsewhere. The manager calls `load`, `init`,
 * `ready`, (`importState`), `start`, `stop`, `shutdown` in lifecycle order,
 * each at most once; `kill` may come at any time and ends the instance.
 */
export interface PluginHost {
  /** The isolation level this host gives. */
  readonly isolation: PluginIsolation;
  /** The manifest of the plugin. */
  readonly manifest: ResolvedManifest;
  /**
   * Settles (never rejects) the first time the instance ends or asks to
   * end: see {@linkcode PluginExitCause}. The manager watches it to learn
   * about crashes, hangs and clean exits.
   */
  readonly closed: Promise<PluginExit>;
  /** The instance's event scope (what it has in flight on the bus), where the host has one. */
  readonly scope: EventScope | undefined;
  /** Imports the entry and checks its default export (phase `load`). */
  load(options?: PluginPhaseOptions): Promise<void>;
  /** Runs `init` (phase `init`). */
  init(options?: PluginPhaseOptions): Promise<void>;
  /** Wires the instance up for running (phase `ready`). */
  ready(options?: PluginPhaseOptions): Promise<void>;
  /** Hands over a previous instance's state: `importState`, then `ctx.state` (phase `ready`). */
  importState(state: PluginStateSnapshot, options?: PluginPhaseOptions): Promise<void>;
  /** Runs `start`; tasks are released from now on (phase `start`). */
  start(options?: PluginPhaseOptions): Promise<void>;
  /** Aborts the signal, stops the tasks, runs `stop` (phase `stop`). */
  stop(options?: PluginPhaseOptions): Promise<void>;
  /** Runs `shutdown` and releases everything (phase `shutdown`). */
  shutdown(options?: PluginPhaseOptions): Promise<void>;
  /** Takes the state to hand to the next instance: `exportState()` with the plugin's `stateVersion`. */
  exportState(options?: PluginPhaseOptions): Promise<PluginStateSnapshot | undefined>;
  /**
   * Ends the instance now, whatever it is doing: its signal aborts, its
   * tasks and subscriptions end; a process is killed. Calling it again
   * returns the first report.
   *
   * @param reason Why.
   * @returns What the kill could do.
   */
  kill(reason: string): PluginKillReport;
  /** Whether the instance is alive and what it is doing. */
  liveness(): PluginLiveness;
  /** The instance's counters. */
  stats(): PluginHostStats;
  /**
   * Resolves once nothing delivered to the instance is queued or in flight
   * (events forwarded and not yet handled, handler runs not finished), or
   * once the instance ended. A hot reload waits for it (with routing
   * gated) before it takes the state, so the state covers every event the
   * instance was given. Optional: without it the manager waits for
   * {@linkcode PluginHost.scope}.
   */
  whenIdle?(): Promise<void>;
  /**
   * Stops handing the instance frames of the data ports it consumes (a hot
   * reload drains it): its consumers let go, the frames wait in the ports,
   * and {@linkcode PluginHost.whenIdle} also waits until every frame it got
   * was recycled. Optional.
   */
  holdPorts?(): void;
  /**
   * Undoes {@linkcode PluginHost.holdPorts}: the reload failed (the old
   * instance), or the new version starts (a new instance is held from its
   * creation, so it gets no frame before the old one's state). Optional.
   */
  releasePorts?(): void;
  /**
   * Force-separates the instance without ending it (a hot reload whose old
   * instance did not quiesce in time): cancels its tasks and timers, ends
   * its subscriptions, drops its data ports. Optional.
   *
   * @returns How many resources it cut.
   */
  separate?(): number;
}

/** Limits on a plugin's own metrics (`ctx.metrics`). */
export interface PluginMetricLimits {
  /** Metric families one plugin may declare. */
  maxFamilies: number;
  /** Series per family past which new label sets go to the overflow series. */
  hardLimit: number;
  /** Series per family past which the registry warns. */
  softLimit: number;
}

/** What the kernel gives a host: its shared parts and the manager's policies. */
export interface PluginHostEnvironment {
  /** The kernel's driver: phase timeouts and checkpoints run on it. */
  driver: Driver;
  /** The kernel's executor (inline plugins' tasks run on it). */
  executor: Executor;
  /**
   * The kernel's bus, as this instance sees it: under a manager, a routed
   * view (see {@linkcode PluginBus}).
   */
  bus: PluginBus;
  /** The registry plugins' own metrics go into. */
  metrics: MetricsRegistry;
  /** The manager's logger (a plugin's `ctx.log` prefixes it). */
  logger: Logger;
  /** Finds the data port `name` offered to `plugin`, if there is one. */
  dataPorts: ((plugin: string, name: string) => DataPort | undefined) | undefined;
  /** Limits on `ctx.metrics`. */
  metricLimits: PluginMetricLimits;
  /** The families each plugin declared so far (across its instances). */
  metricFamilies: Map<string, Set<string>>;
  /**
   * Load the entry afresh (a new module instance) instead of the one
   * imported before: hot reload and, by the manager's policy, restarts.
   */
  fresh: boolean;
  /**
   * The instance replaces one that ended: a supervisor restart,
   * `restart()` or a rollback (not a load or a hot reload). The worker host
   * creates such Workers off the kernel's thread by default.
   * @default {false}
   */
  restart?: boolean;
  /** Where the instance's resources (tasks, data ports) are registered, if anywhere. */
  resources?: ResourceRegistry;
  /** The instance's owner tag in `resources`, e.g. `"sampler#3"`. @default {the plugin's name} */
  owner?: string;
}

/** Makes the host of one instance. */
export type PluginHostFactory = (
  manifest: ResolvedManifest,
  env: PluginHostEnvironment,
) => PluginHost;
