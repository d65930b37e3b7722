// The plugin side of the worker and process hosts: runs a plugin module out of
// the kernel's isolate and implements its PluginContext over a transport
// (a worker's message port, a process's framed stdio). Tasks run on the
// plugin's own thread with an in-thread timer loop; publishes, logs, metric
// samples and subscriptions go to the host in batches (one message per flush
// interval at most, acknowledged, bounded); liveness goes through a shared
// block (worker) or heartbeat ops (process). The plugin module is the same
// one the inline host runs.

import type {
  Plugin,
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
  PluginTaskOptions,
} from "./author.ts";
import type { PluginCapability } from "./manifest_types.ts";
import type { Logger } from "../logger.ts";
import {
  requireFunction,
  requireName,
  requireOneOf,
  requireOptions,
  show,
} from "../internal/validate.ts";
import { checkKindOptions, checkTaskOptions, TASK_ACTIONS } from "./_task_checks.ts";
import { ClosedError } from "../errors.ts";
import { PluginError } from "./plugin_error.ts";
import {
  B_BEAT,
  B_CALLS,
  B_DROPPED,
  B_ERRORS,
  B_HANDLER_CALLS,
  B_RUN_SEQ,
  B_RUNNING,
  B_SUBSCRIPTIONS,
  B_TASK_BASE,
  B_TASK_RUNS,
  B_TASKS,
  type Counters,
  errorInfo,
  HOOK_RUNNING,
  type HostMessage,
  MAX_BLOCK_TASKS,
  type Op,
  type PluginMessage,
  type RemoteHello,
  type RemoteHook,
  TASK_CELLS,
} from "./_remote_protocol.ts";
import { RemoteMetrics } from "./_remote_metrics.ts";
import { RemotePort } from "./_remote_port.ts";
import { waitMs, WaitTimer } from "../time/_wait_timer.ts";

/** How the runtime talks to its host. */
export interface RemoteTransport {
  /** Sends one message to the host. */
  send(message: PluginMessage): void;
  /** Calls `handler` with each message from the host. */
  listen(handler: (message: HostMessage) => void): void;
}

/** How long a hook may run before `ctx.checkpoint()` yields through a timer, ms. */
const CHECKPOINT_SLICE_MS = 10;
/** Most runs one timer turn makes before it yields to the event loop. */
const MAX_RUNS_PER_TURN = 1000;
/** Most missed releases a `burst` catches up after a stall. */
const MAX_BURST = 10_000;

type Kind = "periodic" | "once" | "event";

class RemoteTask implements PluginTask {
  readonly name: string;
  readonly kind: Kind;
  readonly index: number;
  readonly options: PluginTaskOptions<unknown> & Record<string, unknown>;
  readonly runtime: RemoteRuntime;
  cancelled = false;
  done = false;
  next = Infinity;
  first = Infinity;
  k = 0;
  inflight = false;
  abort = new AbortController();
  subscription: PluginSubscription | undefined;
  constructor(
    runtime: RemoteRuntime,
    name: string,
    kind: Kind,
    index: number,
    options: PluginTaskOptions<unknown>,
  ) {
    this.runtime = runtime;
    this.name = name;
    this.kind = kind;
    this.index = index;
    this.options = options as PluginTaskOptions<unknown> & Record<string, unknown>;
  }
  get active(): boolean {
    return !this.cancelled && !this.done;
  }
  get periodMs(): number {
    return this.options.periodMs as number;
  }
  cancel = (): boolean => {
    if (this.cancelled) return false;
    this.cancelled = true;
    this.abort.abort(new ClosedError(`task "${this.name}"`, "run (the task was cancelled)"));
    this.subscription?.unsubscribe();
    this.runtime.rescheduleSoon();
    return true;
  };
  stats = () => undefined;
}

/** The plugin-side runtime of one instance. */
export class RemoteRuntime implements PluginContext {
  readonly name: string;
  readonly version: string;
  readonly isolation: "worker" | "process";
  readonly capabilities: readonly PluginCapability[];
  readonly log: Logger;
  readonly metrics: PluginMetrics;
  readonly #transport: RemoteTransport;
  readonly #hello: RemoteHello;
  readonly #module: unknown;
  readonly #block: Int32Array | undefined;
  readonly #counters: Counters = {
    calls: 0,
    taskRuns: 0,
    handlerCalls: 0,
    errors: 0,
    tasks: 0,
    subscriptions: 0,
    dropped: 0,
  };
  readonly #remoteMetrics: RemoteMetrics;
  #plugin: Plugin | undefined;
  #abort = new AbortController();
  #state: PluginStateSnapshot | undefined;
  #tasks: RemoteTask[] = [];
  #handlers = new Map<number, (event: unknown) => void>();
  #nextSubscription = 1;
  readonly #ports = new Map<number, RemotePort>();
  #nextPort = 1;
  #running = false;
  #closed = false;
  #hookSince: number | undefined;
  // Outbox.
  #ops: Op[] = [];
  readonly #flushTimer = new WaitTimer(() => this.#flush());
  #inflight = 0;
  #warnedDrop = false;
  // Scheduler.
  readonly #timer = new WaitTimer(() => this.#fire());
  #armedAt = Infinity;

  /**
   * Creates the runtime once the host said hello.
   *
   * @param transport Where messages go.
   * @param hello What the host told.
   * @param module The plugin module (its namespace object).
   */
  constructor(transport: RemoteTransport, hello: RemoteHello, module: unknown) {
    this.#transport = transport;
    this.#hello = hello;
    this.#module = module;
    this.name = hello.name;
    this.version = hello.version;
    this.isolation = hello.isolation;
    this.capabilities = Object.freeze([...hello.capabilities]) as readonly PluginCapability[];
    this.#block = hello.block === undefined ? undefined : new Int32Array(hello.block);
    this.log = Object.freeze({
      error: (message: string) => this.#logOp("error", message),
      warn: (message: string) => this.#logOp("warn", message),
      info: (message: string) => this.#logOp("info", message),
    });
    this.#remoteMetrics = new RemoteMetrics(hello.name, hello.maxFamilies, (op) => this.#push(op), {
      allowed: () => this.capabilities.includes("metrics"),
    });
    this.metrics = this.#remoteMetrics.api;
    const beat = () => {
      if (this.#block !== undefined) Atomics.add(this.#block, B_BEAT, 1);
      else this.#flushOrBeat();
    };
    // Not setInterval: see _wait_timer.ts (the first Node-compatible timer
    // of a thread costs milliseconds, between the host's hello and its calls).
    const heart = new WaitTimer(() => {
      heart.set(hello.heartbeatMs); // first: a beat that throws does not stop the next ones
      beat();
    });
    heart.set(hello.heartbeatMs);
    beat();
  }

  // ---- PluginContext ----

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get state(): PluginStateSnapshot | undefined {
    return this.#state;
  }

  now(): number {
    return performance.now();
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
    const task = this.#add("event", options as unknown as PluginTaskOptions<unknown>);
    task.subscription = this.subscribe(options.topic, (event) => {
      if (this.#running && task.active) this.#runTask(task, this.now(), event);
    }, { onError: "continue" });
    return task;
  }

  publish<T>(topic: string, value: T): number {
    const action = "publish an event";
    this.#require("publish", action);
    this.#requireOpen(action);
    requireName(action, "topic", topic);
    if (!this.#room()) return 0;
    this.#push(["p", topic, value]);
    return 0;
  }

  subscribe<T>(
    topic: string,
    handler: PluginEventHandler<T>,
    options: PluginSubscribeOptions = {},
  ): PluginSubscription {
    const action = "subscribe to a topic";
    this.#require("subscribe", action);
    this.#requireOpen(action);
    requireName(action, "topic", topic);
    requireFunction(action, "handler", handler);
    requireOptions(action, "options", options);
    const onError = requireOneOf(action, "onError", options.onError ?? "crash", [
      "crash",
      "continue",
    ]);
    const id = this.#nextSubscription++;
    const where = `a handler of topic "${topic}"`;
    this.#handlers.set(id, (event) => {
      this.#count(B_CALLS, "calls");
      this.#count(B_HANDLER_CALLS, "handlerCalls");
      const failed = (error: unknown) => {
        this.#count(B_ERRORS, "errors");
        if (onError === "crash") this.#crash(error, where);
      };
      try {
        const result = (handler as PluginEventHandler<unknown>)(event);
        if (result instanceof Promise) result.catch(failed);
      } catch (error) {
        failed(error);
      }
    });
    this.#setCount(B_SUBSCRIPTIONS, "subscriptions", this.#handlers.size);
    this.#push(["s", id, topic]);
    let active = true;
    const unsubscribe = () => {
      if (!active) return;
      active = false;
      if (this.#handlers.delete(id)) {
        this.#setCount(B_SUBSCRIPTIONS, "subscriptions", this.#handlers.size);
        if (!this.#closed) this.#push(["u", id]);
      }
    };
    return {
      get active() {
        return active;
      },
      unsubscribe,
      [Symbol.dispose]: unsubscribe,
    };
  }

  dataPort(name: string): PluginDataPort {
    const action = `open data port ${show(name)}`;
    this.#require("dataport", action);
    this.#requireOpen(action);
    requireName("open a data port", "name", name);
    for (const port of this.#ports.values()) if (port.name === name) return port;
    const id = this.#nextPort++;
    const port = new RemotePort(id, name, {
      plugin: this.name,
      text: this.isolation === "process",
      push: (op) => this.#push(op),
    });
    this.#ports.set(id, port);
    return port;
  }

  checkpoint(): Promise<void> {
    const since = this.#hookSince;
    if (this.#abort.signal.aborted || since === undefined) return Promise.resolve();
    if (performance.now() - since < CHECKPOINT_SLICE_MS) return Promise.resolve();
    return waitMs(0);
  }

  exit(reason?: string): void {
    this.#push(["x", typeof reason === "string" ? reason : "the plugin called ctx.exit()"], true);
  }

  // ---- host side ----

  /**
   * Handles one message of the host.
   *
   * @param message The message.
   */
  receive(message: HostMessage): void {
    switch (message.t) {
      case "call":
        void this.#call(message.id, message.hook, message.arg);
        break;
      case "ev": {
        for (const [id, event] of message.batch) this.#handlers.get(id)?.(event);
        this.#push(["ea", message.batch.length]);
        break;
      }
      case "ack":
        this.#inflight = Math.max(0, this.#inflight - message.n);
        break;
      case "flush":
        // The host waits for this instance to be idle (a hot switch drains
        // it): what it was sent was handled above, its acks go now, not
        // after the flush timer.
        this.#flush();
        break;
      case "port": {
        const port = this.#ports.get(message.id);
        if (message.ok) port?.opened(message.credit);
        else port?.refused(message.error);
        break;
      }
      case "pc":
        this.#ports.get(message.id)?.credited(message.n);
        break;
      case "pf":
        this.#ports.get(message.id)?.frames(message.frames);
        break;
      case "px":
        this.#ports.get(message.id)?.closed();
        break;
      default:
        break;
    }
  }

  /** Reschedules the timer loop on the next turn (a task was cancelled). */
  rescheduleSoon(): void {
    queueMicrotask(() => this.#schedule());
  }

  /** Reports an error no hook, task or handler caught (a stray timer, a lost rejection). */
  uncaught(error: unknown): void {
    this.#crash(error, "code outside any task or hook");
  }

  async #call(id: number, hook: RemoteHook, arg: unknown): Promise<void> {
    const block = this.#block;
    this.#count(B_CALLS, "calls");
    if (block !== undefined) {
      Atomics.store(block, B_RUNNING, HOOK_RUNNING);
      Atomics.add(block, B_RUN_SEQ, 1);
    }
    this.#hookSince = performance.now();
    let value: unknown;
    try {
      const pending = this.#hook(hook, arg);
      if (block !== undefined) Atomics.store(block, B_RUNNING, 0);
      value = await pending;
    } catch (error) {
      if (block !== undefined) Atomics.store(block, B_RUNNING, 0);
      this.#hookSince = undefined;
      const info = errorInfo(error);
      if (hook === "importState" && info.code === undefined) info.code = "E_REMOTE_STATE_REFUSED";
      this.#push(["r", id, false, info], true);
      return;
    }
    this.#hookSince = undefined;
    this.#push(["r", id, true, value], true);
  }

  #hook(hook: RemoteHook, arg: unknown): unknown {
    const plugin = this.#plugin;
    switch (hook) {
      case "load":
        this.#plugin = checkPlugin(this.name, this.#module);
        return undefined;
      case "init":
        return plugin?.init?.(this);
      case "ready":
        return undefined;
      case "importState": {
        const state = arg as PluginStateSnapshot;
        const snapshot = Object.freeze({ version: state?.version, value: state?.value });
        return (async () => {
          await plugin?.importState?.(snapshot, this);
          this.#state = snapshot;
        })();
      }
      case "start":
        // Started again after a stop (a rollback to a kept instance): a new signal.
        if (this.#abort.signal.aborted && !this.#closed) this.#abort = new AbortController();
        this.#running = true;
        this.#arm();
        return plugin?.start?.(this);
      case "stop":
        this.#stopRunning("run (the plugin is stopping)");
        return plugin?.stop?.(this);
      case "shutdown":
        this.#stopRunning("run (the plugin is shutting down)");
        return (async () => {
          try {
            await plugin?.shutdown?.(this);
          } finally {
            this.#close();
          }
        })();
      case "exportState":
        if (plugin?.exportState === undefined) return undefined;
        return (async () => ({
          version: plugin.stateVersion,
          value: await plugin.exportState!(this),
        }))();
    }
  }

  #stopRunning(reason: string): void {
    this.#running = false;
    if (!this.#abort.signal.aborted) {
      this.#abort.abort(new ClosedError(`plugin "${this.name}"`, reason));
    }
    this.#timer.clear();
    this.#armedAt = Infinity;
    for (const task of this.#tasks) task.next = Infinity;
  }

  #close(): void {
    this.#stopRunning("run (the plugin is shut down)");
    for (const task of this.#tasks) task.cancel();
    for (const id of [...this.#handlers.keys()]) this.#push(["u", id]);
    this.#handlers.clear();
    for (const port of this.#ports.values()) port.closed();
    this.#setCount(B_SUBSCRIPTIONS, "subscriptions", 0);
    this.#closed = true;
  }

  #crash(error: unknown, where: string): void {
    if (this.#closed) return;
    this.#push(["c", where, errorInfo(error)], true);
    this.#close();
  }

  // ---- tasks ----

  #add(kind: Kind, options: PluginTaskOptions<unknown>): RemoteTask {
    const action = TASK_ACTIONS[kind];
    this.#requireOpen(action);
    const name = checkTaskOptions(action, options, this.#tasks);
    const task = new RemoteTask(this, name, kind, this.#tasks.length, { ...options });
    this.#tasks.push(task);
    this.#setCount(B_TASKS, "tasks", this.#tasks.length);
    this.#push(["t", task.index, name, options.budgetMs ?? this.#hello.taskBudgetMs]);
    if (this.#running && kind !== "event") {
      this.#armTask(task, this.now());
      this.#schedule();
    }
    return task;
  }

  #arm(): void {
    const now = this.now();
    for (const task of this.#tasks) if (task.kind !== "event") this.#armTask(task, now);
    this.#schedule();
  }

  #armTask(task: RemoteTask, now: number): void {
    if (!task.active) return;
    const delay = (task.options.delayMs as number | undefined) ??
      (task.kind === "periodic" ? task.periodMs : 0);
    task.first = now + delay;
    task.k = 0;
    task.next = task.first;
  }

  #schedule(): void {
    if (!this.#running) return;
    let soonest = Infinity;
    for (const task of this.#tasks) if (task.active && task.next < soonest) soonest = task.next;
    if (soonest === this.#armedAt) return;
    this.#timer.clear();
    this.#armedAt = soonest;
    if (soonest === Infinity) return;
    this.#timer.set(soonest - this.now());
  }

  #fire = (): void => {
    this.#armedAt = Infinity;
    for (let runs = 0; runs < MAX_RUNS_PER_TURN && this.#running; runs++) {
      const now = this.now();
      // Among the tasks due, the earliest deadline first.
      let pick: RemoteTask | undefined;
      let best = Infinity;
      for (const task of this.#tasks) {
        if (!task.active || task.next > now) continue;
        const d = task.next + ((task.options.deadlineMs as number | undefined) ?? 0);
        if (pick === undefined || d < best) {
          pick = task;
          best = d;
        }
      }
      if (pick === undefined) break;
      this.#release(pick, now);
    }
    this.#schedule();
  };

  /** Advances the task's schedule past `now` and runs it once. */
  #release(task: RemoteTask, now: number): void {
    let release = task.next;
    if (task.kind === "once") {
      task.done = true;
      task.next = Infinity;
    } else {
      const period = task.periodMs;
      const behind = now - release;
      if (behind >= period) {
        const missed = Math.floor(behind / period);
        const policy = (task.options.missedTicks as string | undefined) ?? "skip";
        if (policy === "delay") {
          task.first = now;
          task.k = 0;
        } else {
          task.k += policy === "skip" ? missed : Math.max(0, missed - MAX_BURST);
          release = task.first + task.k * period;
        }
      }
      task.k++;
      task.next = task.first + task.k * period;
    }
    // An async run still in flight: this release is skipped, not overlapped.
    if (task.inflight) return;
    this.#runTask(task, release, undefined);
  }

  #runTask(task: RemoteTask, release: number, event: unknown): void {
    const block = this.#block;
    const o = task.options;
    const deadline = release + ((o.deadlineMs as number | undefined) ??
      (task.kind === "periodic" ? task.periodMs : Infinity));
    const ctx = {
      name: task.name,
      release,
      deadline,
      event,
      attempt: 0,
      signal: task.abort.signal,
      checkpoint: () => this.checkpoint(),
    };
    this.#count(B_CALLS, "calls");
    this.#count(B_TASK_RUNS, "taskRuns");
    const cell = task.index < MAX_BLOCK_TASKS ? B_TASK_BASE + task.index * TASK_CELLS : -1;
    if (block !== undefined) {
      Atomics.store(block, B_RUNNING, task.index + 1);
      Atomics.add(block, B_RUN_SEQ, 1);
      if (cell >= 0) Atomics.add(block, cell, 1);
    }
    const crash = o.onError !== "continue";
    const where = `task "${task.name}"`;
    const failed = (error: unknown) => {
      this.#count(B_ERRORS, "errors");
      if (block !== undefined && cell >= 0) Atomics.add(block, cell + 1, 1);
      if (crash) this.#crash(error, where);
    };
    const start = performance.now();
    let result: unknown;
    try {
      result = o.run(ctx as never);
    } catch (error) {
      failed(error);
    }
    if (block !== undefined) {
      Atomics.store(block, B_RUNNING, 0);
      if (cell >= 0) Atomics.store(block, cell + 2, Math.round((performance.now() - start) * 1000));
    }
    if (result instanceof Promise) {
      task.inflight = true;
      result.then(() => {}, failed).finally(() => task.inflight = false);
    }
  }

  // ---- outbox ----

  #push(op: Op, now = false): void {
    this.#ops.push(op);
    if (now || this.#ops.length >= 512) this.#flush();
    else if (!this.#flushTimer.pending) this.#flushTimer.set(this.#hello.flushMs);
  }

  /** A process plugin's heartbeat: a batch (which carries the counters), empty or not. */
  #flushOrBeat(): void {
    if (this.#ops.length === 0) this.#ops.push(["h", { ...this.#counters }]);
    this.#flush();
  }

  #flush = (): void => {
    this.#flushTimer.clear();
    this.#remoteMetrics.drain();
    if (this.#ops.length === 0) return;
    // A process host has no shared block: its counters ride on every batch.
    if (this.#block === undefined) this.#ops.push(["h", { ...this.#counters }]);
    const ops = this.#ops;
    this.#ops = [];
    this.#inflight += ops.length;
    try {
      this.#transport.send({ t: "batch", ops });
    } catch (error) {
      // A value that cannot be cloned or encoded: say which, without it.
      const info = errorInfo(error);
      this.#inflight -= ops.length;
      this.#transport.send({
        t: "batch",
        ops: [["c", "a message to the host", {
          ...info,
          message: `Cannot send ${ops.length} ops to the host: ${info.message}`,
        }]],
      });
      this.#close();
    }
  };

  /** Whether one more droppable op fits under the in-flight bound; counts a drop else. */
  #room(): boolean {
    if (this.#inflight + this.#ops.length < this.#hello.maxInflight) return true;
    this.#count(B_DROPPED, "dropped");
    if (!this.#warnedDrop) {
      this.#warnedDrop = true;
      this.#ops.push([
        "l",
        "warn",
        `dropping publishes and logs: the host has not taken ${this.#hello.maxInflight} ops yet (backpressure)`,
      ]);
    }
    return false;
  }

  #logOp(level: "error" | "warn" | "info", message: string): void {
    if (this.#room()) this.#push(["l", level, String(message)]);
  }

  #count(cell: number, field: keyof Counters): void {
    this.#counters[field]++;
    if (this.#block !== undefined) Atomics.add(this.#block, cell, 1);
  }

  #setCount(cell: number, field: keyof Counters, value: number): void {
    this.#counters[field] = value;
    if (this.#block !== undefined) Atomics.store(this.#block, cell, value);
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
 * Serves one plugin module over a transport: waits for the host's hello,
 * then answers its calls. Uncaught errors and rejections of the plugin's code
 * crash the instance instead of the thread.
 *
 * @param transport The host's transport.
 * @param module The plugin module's namespace.
 */
export function serveRemote(transport: RemoteTransport, module: unknown): void {
  let runtime: RemoteRuntime | undefined;
  const onError = (event: ErrorEvent) => {
    event.preventDefault();
    runtime?.uncaught(event.error ?? event.message);
  };
  const onRejection = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    runtime?.uncaught(event.reason);
  };
  globalThis.addEventListener("error", onError);
  globalThis.addEventListener("unhandledrejection", onRejection);
  transport.listen((message) => {
    if (runtime !== undefined) runtime.receive(message);
    else if (message.t === "hello") runtime = new RemoteRuntime(transport, message, module);
  });
  transport.send({ t: "up" });
}

/** Checks that a module's default export is a plugin. */
function checkPlugin(name: string, module: unknown): Plugin {
  const plugin = (module as { default?: unknown } | null)?.default as Partial<Plugin> | undefined;
  const ok = plugin !== null && typeof plugin === "object" && plugin.kind === "chronetix.plugin" &&
    (["init", "start", "stop", "shutdown", "exportState", "importState"] as const).every((hook) =>
      plugin[hook] === undefined || typeof plugin[hook] === "function"
    ) && Number.isInteger(plugin.stateVersion);
  if (!ok) {
    throw new PluginError(
      "E_PLUGIN_INVALID_MODULE",
      name,
      `Cannot load plugin "${name}" as the default export of its entry is not a definePlugin() result`,
      { phase: "load" },
    );
  }
  return plugin as Plugin;
}
