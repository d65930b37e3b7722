// The PluginContext of an inline plugin: tasks on the kernel's executor,
// publish and subscribe on the kernel's bus (scoped to the instance), data
// ports from the kernel, metrics in the kernel's registry. Everything the
// instance creates ends with it (its signal aborts, tasks are cancelled,
// subscriptions end), and capabilities are checked on every call.

import type { TaskHandle } from "../exec/task.ts";
import { MAX_BURST_TICKS } from "../time/timer_wheel.ts";
import { checkKindOptions, checkTaskOptions, TASK_ACTIONS } from "./_task_checks.ts";
import { EventScope } from "../bus/event_scope.ts";
import { ClosedError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import {
  requireFunction,
  requireName,
  requireOneOf,
  requireOptions,
  show,
} from "../internal/validate.ts";
import type {
  PluginContext,
  PluginDataPort,
  PluginEventHandler,
  PluginEventOptions,
  PluginMetrics,
  PluginOnceOptions,
  PluginPeriodicOptions,
  PluginStateSnapshot,
  PluginSubscribeOptions,
  PluginSubscription,
  PluginTask,
  PluginTaskContext,
  PluginTaskOptions,
} from "./author.ts";
import type { PluginCapability, ResolvedManifest } from "./manifest_types.ts";
import type { PluginHostEnvironment } from "./host.ts";
import { pluginMetrics } from "./_plugin_metrics.ts";
import { PluginError } from "./plugin_error.ts";

/** How long a hook may run before `ctx.checkpoint()` yields through a timer, ms. */
export const CHECKPOINT_SLICE_MS = 10;

/** What the context reports back to its host. */
export interface InlineSink {
  /** A task or handler with `onError: "crash"` failed. */
  crashed(error: unknown, where: string): void;
  /** The plugin called `ctx.exit()`. */
  exited(reason: string): void;
  /** A call into the plugin's code starts (`task` or `handler`). */
  callStarted(kind: "task" | "handler"): void;
  /** A call into the plugin's code ended; `failed` when it threw or rejected. */
  callEnded(failed: boolean): void;
  /** When the hook running now started, or `undefined` when none runs. */
  hookSince(): number | undefined;
}

type TaskKind = "periodic" | "once" | "event";

/** One task of the plugin: attached to the executor while the plugin is started. */
class InlineTask implements PluginTask {
  readonly name: string;
  readonly kind: TaskKind;
  readonly options: PluginTaskOptions<unknown> & Record<string, unknown>;
  handle: TaskHandle | undefined;
  /** An event task's routed subscription (instead of an executor task). */
  subscription: PluginSubscription | undefined;
  cancelled = false;
  readonly #released: () => void;
  constructor(
    name: string,
    kind: TaskKind,
    options: PluginTaskOptions<unknown>,
    released: () => void,
  ) {
    this.name = name;
    this.kind = kind;
    this.options = options as PluginTaskOptions<unknown> & Record<string, unknown>;
    this.#released = released;
  }
  detach(): void {
    this.handle?.cancel();
    this.handle = undefined;
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }
  get active(): boolean {
    return !this.cancelled;
  }
  cancel = (): boolean => {
    if (this.cancelled) return false;
    this.cancelled = true;
    this.detach();
    this.#released();
    return true;
  };
  stats = () => this.handle?.stats();
}

/** The context of one inline instance, and the instance's resources. */
export class InlineContext implements PluginContext {
  readonly name: string;
  readonly version: string;
  readonly isolation = "inline" as const;
  readonly capabilities: readonly PluginCapability[];
  readonly log: Logger;
  readonly metrics: PluginMetrics;
  readonly scope: EventScope;
  readonly #env: PluginHostEnvironment;
  readonly #sink: InlineSink;
  #abort = new AbortController();
  readonly #tasks: InlineTask[] = [];
  readonly #subscriptions = new Set<RenewableSubscription>();
  readonly #ports = new Set<string>();
  readonly #owner: string;
  readonly #taskBudgetMs: number;
  #state: PluginStateSnapshot | undefined;
  #running = false;
  #closed = false;

  constructor(manifest: ResolvedManifest, env: PluginHostEnvironment, sink: InlineSink) {
    this.name = manifest.name;
    this.version = manifest.version;
    this.capabilities = manifest.capabilities;
    this.#env = env;
    this.#sink = sink;
    this.#taskBudgetMs = manifest.budgets.taskBudgetMs;
    this.#owner = env.owner ?? manifest.name;
    this.scope = new EventScope(`plugin:${manifest.name}`);
    const prefix = `[plugin ${manifest.name}] `;
    const logger = env.logger;
    this.log = Object.freeze({
      error: (message: string) => logger.error(prefix + message),
      warn: (message: string) => logger.warn(prefix + message),
      info: (message: string) => logger.info(prefix + message),
    });
    this.metrics = pluginMetrics(
      manifest.name,
      env.metrics,
      env.metricLimits,
      env.metricFamilies,
      () => this.capabilities.includes("metrics"),
    );
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get state(): PluginStateSnapshot | undefined {
    return this.#state;
  }

  /** Tasks declared and not cancelled. */
  get taskCount(): number {
    return this.#tasks.length;
  }

  /** Live subscriptions. */
  get subscriptionCount(): number {
    let n = 0;
    for (const s of this.#subscriptions) if (s.active) n++;
    return n;
  }

  now(): number {
    return this.#env.driver.clock.now();
  }

  every(options: PluginPeriodicOptions): PluginTask {
    checkKindOptions("periodic", options);
    return this.#add("periodic", options as unknown as PluginTaskOptions<unknown>);
  }

  after(options: PluginOnceOptions): PluginTask {
    checkKindOptions("once", options);
    return this.#add("once", options as unknown as PluginTaskOptions<unknown>);
  }

  onEvent<E>(options: PluginEventOptions<E>): PluginTask {
    this.#require("subscribe", TASK_ACTIONS.event);
    checkKindOptions("event", options);
    return this.#add("event", options as unknown as PluginTaskOptions<unknown>);
  }

  publish<T>(topic: string, value: T): number {
    const action = "publish an event";
    this.#require("publish", action);
    this.#requireOpen(action);
    return this.#env.bus.topic<T>(topic).publish(value);
  }

  subscribe<T>(
    topic: string,
    handler: PluginEventHandler<T>,
    options: PluginSubscribeOptions = {},
  ): PluginSubscription {
    const action = "subscribe to a topic";
    this.#require("subscribe", action);
    this.#requireOpen(action);
    requireFunction(action, "handler", handler);
    requireOptions(action, "options", options);
    const onError = requireOneOf(action, "onError", options.onError ?? "crash", [
      "crash",
      "continue",
    ]);
    const sink = this.#sink;
    const wrapped = (event: T): void | Promise<void> => {
      sink.callStarted("handler");
      let result: unknown;
      try {
        result = handler(event);
      } catch (error) {
        sink.callEnded(true);
        if (onError === "crash") sink.crashed(error, `a handler of topic "${topic}"`);
        throw error;
      }
      if (result instanceof Promise) {
        return result.then(() => sink.callEnded(false), (error) => {
          sink.callEnded(true);
          if (onError === "crash") sink.crashed(error, `a handler of topic "${topic}"`);
          throw error;
        });
      }
      sink.callEnded(false);
    };
    const bus = this.#env.bus;
    const subscription = new RenewableSubscription(
      (signal) => bus.topic<T>(topic).subscribe(wrapped, { scope: this.scope, signal }),
      this.#abort.signal,
    );
    this.#subscriptions.add(subscription);
    return subscription;
  }

  dataPort(name: string): PluginDataPort {
    const action = `open data port ${show(name)}`;
    this.#require("dataport", action);
    this.#requireOpen(action);
    requireName("open a data port", "name", name);
    const port = this.#env.dataPorts?.(this.name, name);
    if (port === undefined) {
      throw new PluginError(
        "E_PLUGIN_NO_DATAPORT",
        this.name,
        `Cannot open data port "${name}" as the kernel offers no port of that name to plugin "${this.name}"`,
      );
    }
    if (!this.#ports.has(name)) {
      this.#ports.add(name);
      this.#env.resources?.upsert({ owner: this.#owner, kind: "dataport", id: name });
    }
    return port;
  }

  checkpoint(): Promise<void> {
    const since = this.#sink.hookSince();
    const driver = this.#env.driver;
    if (
      this.#abort.signal.aborted || since === undefined ||
      driver.clock.now() - since < CHECKPOINT_SLICE_MS
    ) {
      return Promise.resolve();
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    try {
      driver.after(0, () => resolve(), { latenessClass: "plugin-checkpoint" });
    } catch {
      resolve(); // the driver is closed: nothing to yield to
    }
    return promise;
  }

  exit(reason?: string): void {
    this.#sink.exited(typeof reason === "string" ? reason : "the plugin called ctx.exit()");
  }

  /** Takes over a state handed from a previous instance. */
  setState(state: PluginStateSnapshot): void {
    this.#state = Object.freeze({ version: state.version, value: state.value });
  }

  /**
   * Attaches every task to the executor: the plugin is started (again,
   * after a rollback to a kept instance: with a new signal).
   */
  attachTasks(): void {
    if (this.#abort.signal.aborted && !this.#closed) {
      this.#abort = new AbortController();
      // The stop's abort ended the subscriptions: the plugin gets them back.
      for (const subscription of this.#subscriptions) subscription.renew(this.#abort.signal);
    }
    this.#running = true;
    for (const task of this.#tasks) if (!task.cancelled) this.#attach(task);
  }

  /** Detaches every task (the plugin stops) and aborts the signal. */
  stopRunning(reason: string): void {
    this.#running = false;
    if (!this.#abort.signal.aborted) {
      this.#abort.abort(new ClosedError(`plugin "${this.name}"`, reason));
    }
    for (const task of this.#tasks) task.detach();
  }

  /** Ends everything the instance holds. */
  close(reason: string): void {
    this.stopRunning(reason);
    this.#closed = true;
    this.separate();
  }

  /**
   * Cancels every task, ends every subscription, drops every data port
   * (force-separate; `close()` does it too).
   *
   * @returns How many it cut.
   */
  separate(): number {
    let n = 0;
    for (const task of this.#tasks) if (task.cancel()) n++;
    for (const subscription of this.#subscriptions) {
      if (subscription.active) n++;
      subscription.unsubscribe();
    }
    this.#subscriptions.clear();
    for (const port of this.#ports) {
      this.#env.resources?.remove(this.#owner, "dataport", port);
      n++;
    }
    this.#ports.clear();
    return n;
  }

  #add(kind: TaskKind, options: PluginTaskOptions<unknown>): PluginTask {
    const action = TASK_ACTIONS[kind];
    this.#requireOpen(action);
    const name = checkTaskOptions(action, options, this.#tasks);
    const owner = this.#owner;
    const resources = this.#env.resources;
    const task = new InlineTask(
      name,
      kind,
      { ...options },
      () => resources?.remove(owner, "task", name),
    );
    resources?.upsert({ owner, kind: "task", id: name, detail: kind });
    this.#tasks.push(task);
    if (this.#running) this.#attach(task);
    return task;
  }

  #attach(task: InlineTask): void {
    const o = task.options;
    const sink = this.#sink;
    const body = o.run;
    const crash = o.onError !== "continue";
    const where = `task "${task.name}"`;
    const run = (ctx: PluginTaskContext<unknown>): unknown => {
      sink.callStarted("task");
      let result: unknown;
      try {
        result = body(ctx);
      } catch (error) {
        sink.callEnded(true);
        if (crash) sink.crashed(error, where);
        throw error;
      }
      if (result instanceof Promise) {
        return result.then((value) => {
          sink.callEnded(false);
          return value;
        }, (error) => {
          sink.callEnded(true);
          if (crash) sink.crashed(error, where);
          throw error;
        });
      }
      sink.callEnded(false);
      return result;
    };
    const common = {
      name: `${this.name}/${task.name}`,
      run,
      deadlineMs: o.deadlineMs,
      priority: o.priority,
      budgetMs: o.budgetMs ?? this.#taskBudgetMs,
      onError: "continue" as const,
    };
    const executor = this.#env.executor;
    if (task.kind === "periodic") {
      task.handle = executor.periodic({
        ...common,
        periodMs: o.periodMs as number,
        delayMs: o.delayMs as number | undefined,
        missedTicks: o.missedTicks as never,
        // A burst's releases all run, as in the worker and process runtimes.
        queueCap: o.missedTicks === "burst" ? MAX_BURST_TICKS : undefined,
      });
    } else if (task.kind === "once") {
      task.handle = executor.once({ ...common, delayMs: o.delayMs as number | undefined });
    } else {
      // Through the routed bus, so a hot reload switches it with the
      // subscriptions; run in the handler, counted in the instance's scope.
      const signal = this.#abort.signal;
      const deadlineMs = typeof o.deadlineMs === "number" ? o.deadlineMs : Infinity;
      const clock = this.#env.driver.clock;
      task.subscription = this.#env.bus.topic<unknown>(o.topic as string).subscribe(
        (event: unknown) => {
          const release = clock.now();
          let result: unknown;
          try {
            result = run({
              name: common.name,
              release,
              deadline: release + deadlineMs,
              event,
              attempt: 0,
              signal,
              checkpoint: () => Promise.resolve(),
            });
          } catch {
            return; // counted and, with onError "crash", reported by run()
          }
          if (result instanceof Promise) return result.then(() => {}, () => {});
        },
        { scope: this.scope },
      );
    }
  }

  #require(capability: PluginCapability, action: string): void {
    if (!this.capabilities.includes(capability)) {
      throw new PluginError(
        "E_PLUGIN_CAPABILITY",
        this.name,
        `Cannot ${action} as plugin "${this.name}" lacks the "${capability}" capability: add "${capability}" to the manifest's capabilities`,
      );
    }
  }

  #requireOpen(action: string): void {
    if (this.#closed) throw new ClosedError(`plugin "${this.name}"`, action);
  }
}

/**
 * A plugin's subscription, tied to the instance's signal (a stop ends it);
 * made again when the instance starts again after a stop (a rollback to a
 * kept instance), unless the plugin ended it itself.
 */
class RenewableSubscription implements PluginSubscription {
  readonly #make: (signal: AbortSignal) => PluginSubscription;
  #current: PluginSubscription;
  #ended = false;

  constructor(make: (signal: AbortSignal) => PluginSubscription, signal: AbortSignal) {
    this.#make = make;
    this.#current = make(signal);
  }

  get active(): boolean {
    return !this.#ended && this.#current.active;
  }

  unsubscribe(): void {
    this.#ended = true;
    this.#current.unsubscribe();
  }

  [Symbol.dispose](): void {
    this.unsubscribe();
  }

  /** Subscribes again with `signal` if a stop ended it. */
  renew(signal: AbortSignal): void {
    if (!this.#ended && !this.#current.active) this.#current = this.#make(signal);
  }
}
