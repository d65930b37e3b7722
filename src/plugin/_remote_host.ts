// The kernel side shared by the worker and process hosts: lifecycle calls
// with their budgets, the ops a plugin's batches carry (publish on the bus,
// subscriptions forwarded in batches, logs, metrics, crash, exit), the
// watchdog, and how an instance ends. A subclass supplies the transport:
// `spawn` (start the thread or process), `post`, `cutOff` (the kill), and
// `beat` (what the watchdog reads).

import { EventScope } from "../bus/event_scope.ts";
import type { Subscription } from "../bus/topic.ts";
import type { PluginStateSnapshot } from "./author.ts";
import type { ResolvedManifest } from "./manifest_types.ts";
import type {
  PluginExit,
  PluginExitCause,
  PluginHost,
  PluginHostEnvironment,
  PluginHostStats,
  PluginKillReport,
  PluginLiveness,
  PluginPhaseOptions,
} from "./host.ts";
import { PluginError } from "./plugin_error.ts";
import { enterHook, phaseFailure, phaseOf } from "./_hook_guard.ts";
import { describeError } from "./_describe.ts";
import { pluginMetrics } from "./_plugin_metrics.ts";
import { assertWithinKernel } from "./permissions.ts";
import { auditImports } from "./import_audit.ts";
import { PortLinks } from "./_remote_port_link.ts";
import type { RemoteConfig } from "./_remote_config.ts";
export { type RemoteConfig, remoteConfig, type RemoteHostOptions } from "./_remote_config.ts";
import {
  type Counters,
  type ErrorInfo,
  type HostMessage,
  type Op,
  type PluginMessage,
  type RemoteHook,
  toError,
} from "./_remote_protocol.ts";

/** A remote host's figures beyond {@linkcode PluginHostStats}. */
export interface RemoteHostStats extends PluginHostStats {
  /** Publishes and logs the plugin dropped (backpressure). */
  dropped: number;
  /** Events the host dropped because the plugin had not taken earlier ones. */
  eventsDropped: number;
  /** Batches received from the plugin. */
  batches: number;
  /** Ops received. */
  ops: number;
}

/** What a subclass reports on each watch. */
export interface Beat {
  /** A value that changes while the plugin's thread is alive. */
  beat: number;
  /** Index + 1 of a task in a synchronous run, else 0 (or less for a hook). */
  running: number;
  /** Runs started: a run in progress keeps it unchanged. */
  runSeq: number;
  /** Calls so far. */
  calls: number;
}

const audited = new Map<string, Promise<void>>();

/** The shared kernel side of a remote host; see the file comment. */
export abstract class RemoteHost implements PluginHost {
  abstract readonly isolation: "worker" | "process";
  readonly manifest: ResolvedManifest;
  readonly closed: Promise<PluginExit>;
  readonly scope: EventScope;
  protected readonly env: PluginHostEnvironment;
  protected readonly config: RemoteConfig;
  protected ended: PluginExit | undefined;
  protected killReport: PluginKillReport | undefined;
  protected counters: Counters = {
    calls: 0,
    taskRuns: 0,
    handlerCalls: 0,
    errors: 0,
    tasks: 0,
    subscriptions: 0,
    dropped: 0,
  };
  readonly #settle: (exit: PluginExit) => void;
  readonly #pending = new Map<number, PromiseWithResolvers<unknown>>();
  readonly #up = Promise.withResolvers<void>();
  #nextCall = 1;
  #hook: RemoteHook | undefined;
  #hookSince = NaN;
  #lastActivity = NaN;
  #loaded = false;
  readonly #subscriptions = new Map<number, Subscription>();
  readonly #budgets = new Map<number, { name: string; budgetMs: number }>();
  #families = new Map<number, unknown>();
  #events: [number, unknown][] = [];
  #eventTimer: ReturnType<typeof setTimeout> | undefined;
  #eventsInflight = 0;
  #eventsDropped = 0;
  #batches = 0;
  #ops = 0;
  #watch: { cancel(): boolean } | undefined;
  #seen: Beat = { beat: NaN, running: 0, runSeq: NaN, calls: NaN };
  readonly #ports: PortLinks;
  #idleWaiters: (() => void)[] = [];
  #beatAt = NaN;
  #runningSince = NaN;

  constructor(manifest: ResolvedManifest, env: PluginHostEnvironment, config: RemoteConfig) {
    this.manifest = manifest;
    this.env = env;
    this.config = config;
    this.scope = new EventScope(`plugin:${manifest.name}`);
    this.#ports = new PortLinks({
      plugin: manifest.name,
      allowed: manifest.capabilities.includes("dataport"),
      text: manifest.isolation === "process",
      lookup: (port) => env.dataPorts?.(manifest.name, port),
      post: (message) => this.#safePost(message),
      later: (ms, fn) => {
        try {
          env.driver.after(ms, fn);
        } catch {
          // The driver is closed: the kernel is going down.
        }
      },
      warn: (message) => env.logger.warn(`[plugin ${manifest.name}] ${message}`),
    });
    const { promise, resolve } = Promise.withResolvers<PluginExit>();
    this.closed = promise;
    this.#settle = resolve;
  }

  /** Starts the thread or process; messages go to `receive`, its end to `lost`. */
  protected abstract spawn(): void;
  /** Sends one message to the plugin. */
  protected abstract post(message: HostMessage): void;
  /** Stops the plugin's code as far as the host can; says whether it may still run. */
  protected abstract cutOff(reason: string): PluginKillReport;
  /** What the watchdog reads now. */
  protected abstract beat(): Beat;

  load(options?: PluginPhaseOptions): Promise<void> {
    return this.#phase("load", options, async () => {
      assertWithinKernel(this.manifest);
      if (this.config.audit !== false) {
        const key = `${this.manifest.entryUrl.href} ${this.manifest.importRoots.join(" ")}`;
        let audit = this.env.fresh ? undefined : audited.get(key);
        if (audit === undefined) {
          audit = auditImports(this.manifest, this.config.audit).then(() => {});
          audited.set(key, audit);
          audit.catch(() => audited.delete(key));
        }
        await audit;
      }
      this.spawn();
      await this.#up.promise;
      const now = this.now();
      this.#beatAt = now;
      this.#seen = this.beat();
      await this.call("load");
      this.#loaded = true;
      try {
        const period = this.manifest.budgets.heartbeatMs;
        this.#watch = this.env.driver.every(period, () => this.#check(), {
          latenessClass: "plugin-watchdog",
        });
      } catch {
        // The driver is closed: no watchdog (the kernel is going down).
      }
    });
  }

  init(options?: PluginPhaseOptions): Promise<void> {
    return this.#phase("init", options, () => this.call("init"));
  }

  ready(options?: PluginPhaseOptions): Promise<void> {
    return this.#phase("ready", options, () => this.call("ready"));
  }

  importState(state: PluginStateSnapshot, options?: PluginPhaseOptions): Promise<void> {
    return this.#phase("importState", options, async () => {
      try {
        await this.call("importState", { version: state?.version, value: state?.value });
      } catch (error) {
        if ((error as { code?: string }).code !== "E_REMOTE_STATE_REFUSED") throw error;
        throw new PluginError(
          "E_PLUGIN_STATE_REFUSED",
          this.manifest.name,
          `Cannot hand state version ${
            String(state?.version)
          } to plugin "${this.manifest.name}" as its importState refused it: ${
            describeError(error)
          }`,
          { phase: "ready", cause: error },
        );
      }
    });
  }

  start(options?: PluginPhaseOptions): Promise<void> {
    return this.#phase("start", options, () => this.call("start"));
  }

  stop(options?: PluginPhaseOptions): Promise<void> {
    return this.#phase("stop", options, () => this.call("stop"));
  }

  async shutdown(options?: PluginPhaseOptions): Promise<void> {
    try {
      await this.#phase("shutdown", options, () => this.call("shutdown"));
    } finally {
      this.#detach();
    }
    this.end("shutdown", true, "shut down", undefined);
    this.release();
  }

  async exportState(options?: PluginPhaseOptions): Promise<PluginStateSnapshot | undefined> {
    let snapshot: PluginStateSnapshot | undefined;
    await this.#phase("exportState", options, async () => {
      const value = await this.call("exportState") as PluginStateSnapshot | undefined;
      if (value !== undefined && value !== null) {
        snapshot = Object.freeze({ version: value.version, value: value.value });
      }
    });
    return snapshot;
  }

  kill(reason: string): PluginKillReport {
    if (this.killReport !== undefined) return this.killReport;
    this.#detach();
    this.killReport = this.cutOff(reason);
    this.end(
      "killed",
      false,
      reason,
      new PluginError(
        "E_PLUGIN_KILLED",
        this.manifest.name,
        `Cannot run plugin "${this.manifest.name}" as it was killed: ${reason}`,
      ),
    );
    return this.killReport;
  }

  liveness(): PluginLiveness {
    return {
      alive: this.ended === undefined || this.ended.cause === "exit",
      hook: this.#hook,
      hookSinceMs: this.#hook === undefined ? NaN : this.#hookSince,
      lastActivityMs: this.#lastActivity,
    };
  }

  stats(): RemoteHostStats {
    const c = this.counters;
    return {
      calls: c.calls,
      taskRuns: c.taskRuns,
      handlerCalls: c.handlerCalls,
      errors: c.errors,
      tasks: c.tasks,
      subscriptions: c.subscriptions,
      dropped: c.dropped,
      eventsDropped: this.#eventsDropped,
      batches: this.#batches,
      ops: this.#ops,
    };
  }

  /** The host's clock, ms. */
  protected now(): number {
    return this.env.driver.clock.now();
  }

  /** How long the thread has not beaten, ms on the host's clock (at watch granularity). */
  protected silentMs(): number {
    const now = this.now();
    const beat = this.beat().beat;
    if (beat !== this.#seen.beat) {
      this.#seen = { ...this.#seen, beat };
      this.#beatAt = now;
    }
    return now - this.#beatAt;
  }

  /** Called after a clean shutdown: let the thread or process go. */
  protected release(): void {}

  /** Handles one message of the plugin. */
  protected receive(message: PluginMessage): void {
    if (message.t === "up") {
      this.#up.resolve();
      return;
    }
    if (message.t === "gone") {
      if (message.oom) {
        this.lost(
          "out-of-memory",
          `it ran out of heap (limits.maxHeapMb ${String(this.manifest.limits.maxHeapMb)})`,
        );
      } else this.lost("crashed", message.message ?? `its thread exited with code ${message.code}`);
      return;
    }
    if (message.t !== "batch" || !Array.isArray(message.ops)) {
      this.lost("crashed", `it sent a message that is not a batch: ${describeMessage(message)}`);
      return;
    }
    this.#batches++;
    this.#ops += message.ops.length;
    for (const op of message.ops) {
      if (this.ended !== undefined && this.ended.cause !== "exit") break;
      this.#op(op);
    }
    if (this.ended === undefined || this.ended.cause === "exit") {
      this.#safePost({ t: "ack", n: message.ops.length });
    }
  }

  /**
   * The thread or process ended, or broke the protocol, while the host did
   * not expect it. Fails a pending call, ends the instance.
   */
  protected lost(cause: PluginExitCause, reason: string, error?: unknown): void {
    if (this.ended !== undefined && this.ended.cause !== "exit") return;
    const name = this.manifest.name;
    const hook = this.#hook;
    const failure = error ?? (hook === undefined
      ? new PluginError(
        cause === "hung" ? "E_PLUGIN_TIMEOUT" : "E_PLUGIN_CRASHED",
        name,
        `Cannot keep plugin "${name}" running as ${reason}`,
        { phase: "run" },
      )
      : new PluginError(
        cause === "hung" ? "E_PLUGIN_TIMEOUT" : "E_PLUGIN_PHASE_FAILED",
        name,
        `Cannot ${hook} plugin "${name}" as ${reason}`,
        { phase: phaseOf(hook) },
      ));
    this.#up.reject(failure);
    this.#up.promise.catch(() => {});
    this.#detach();
    this.end(cause, false, reason, failure);
  }

  /** Records how the instance ended (the first end counts; `exit` may be followed). */
  protected end(cause: PluginExitCause, normal: boolean, reason: string, error: unknown): void {
    if (this.ended !== undefined && !(this.ended.cause === "exit" && cause !== "exit")) return;
    const first = this.ended === undefined;
    this.ended = { cause, normal, reason, error, atMs: this.now() };
    if (!normal) {
      for (const call of this.#pending.values()) call.reject(error);
      this.#pending.clear();
    }
    if (first) this.#settle(this.ended);
    this.#checkIdle();
  }

  /**
   * Resolves once nothing delivered to the instance is queued or in flight:
   * the pending event batch is sent at once, and every event sent was taken
   * by the plugin (its handlers ran); also resolves once the instance ended.
   * The plugin is asked to send its acknowledgements at once rather than at
   * its next flush (`flushMs` later).
   */
  async whenIdle(): Promise<void> {
    if (!this.#idle()) {
      if (this.#events.length > 0) {
        clearTimeout(this.#eventTimer);
        this.#flushEvents();
      }
      if (!this.#idle()) this.#safePost({ t: "flush" });
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#idleWaiters.push(resolve);
      this.#checkIdle();
      await promise;
    }
    await this.scope.whenIdle();
  }

  /**
   * Cuts what the host holds for the instance without ending it: its
   * subscriptions, the events not yet sent to it, its data ports. The tasks
   * on its own thread stop with its `stop` hook or its end.
   *
   * @returns How many resources it cut.
   */
  separate(): number {
    const cut = this.#subscriptions.size + this.#ports.names().length;
    clearTimeout(this.#eventTimer);
    this.#eventTimer = undefined;
    this.#events = [];
    for (const subscription of this.#subscriptions.values()) subscription.unsubscribe();
    this.#subscriptions.clear();
    this.#ports.close();
    this.#checkIdle();
    return cut;
  }

  /** Stops handing the instance frames of the data ports it consumes; see {@linkcode PluginHost.holdPorts}. */
  holdPorts(): void {
    this.#ports.hold();
  }

  /** Hands it frames again; see {@linkcode PluginHost.releasePorts}. */
  releasePorts(): void {
    this.#ports.release();
  }

  #idle(): boolean {
    return this.ended !== undefined ||
      (this.#events.length === 0 && this.#eventsInflight === 0 && this.#ports.idle());
  }

  #checkIdle(): void {
    if (this.#idleWaiters.length === 0 || !this.#idle()) return;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  /** Calls a hook in the plugin; resolves with what it returned. */
  protected call(hook: RemoteHook, arg?: unknown): Promise<unknown> {
    const id = this.#nextCall++;
    const call = Promise.withResolvers<unknown>();
    this.#pending.set(id, call);
    this.post({ t: "call", id, hook, arg });
    return call.promise;
  }

  #op(op: Op): void {
    const name = this.manifest.name;
    switch (op[0]) {
      case "r": {
        const call = this.#pending.get(op[1]);
        this.#pending.delete(op[1]);
        this.#lastActivity = this.now();
        if (op[2]) call?.resolve(op[3]);
        else call?.reject(toError(op[3] as ErrorInfo));
        break;
      }
      case "p":
        try {
          this.env.bus.topic(op[1]).publish(op[2]);
        } catch (error) {
          this.env.logger.warn(
            `[plugin ${name}] could not publish on "${op[1]}": ${describeError(error)}`,
          );
        }
        break;
      case "s":
        this.#subscribe(op[1], op[2]);
        break;
      case "u":
        this.#subscriptions.get(op[1])?.unsubscribe();
        this.#subscriptions.delete(op[1]);
        break;
      case "l":
        this.env.logger[op[1] === "error" ? "error" : op[1] === "warn" ? "warn" : "info"](
          `[plugin ${name}] ${String(op[2])}`,
        );
        break;
      case "md":
        this.#declare(op[1], op[2], op[3]);
        break;
      case "m":
        this.#sample(op[1], op[2], op[3], op[4]);
        break;
      case "c": {
        const info = op[2];
        const cause = toError(info);
        this.lost(
          "crashed",
          `${op[1]} threw: ${info.message}`,
          new PluginError(
            "E_PLUGIN_CRASHED",
            name,
            `Cannot keep plugin "${name}" running as ${op[1]} threw: ${info.message}`,
            { phase: "run", cause },
          ),
        );
        break;
      }
      case "x":
        this.end("exit", true, String(op[1]), undefined);
        break;
      case "t":
        this.#budgets.set(op[1], { name: op[2], budgetMs: op[3] });
        break;
      case "h":
        this.counters = op[1];
        break;
      case "ea":
        this.#eventsInflight = Math.max(0, this.#eventsInflight - op[1]);
        this.#checkIdle();
        break;
      case "do":
        this.#ports.open(op[1], op[2]);
        break;
      case "ds":
        this.#ports.send(op[1], op[2]);
        break;
      case "dc":
        this.#ports.consume(op[1]);
        break;
      case "dr":
        this.#ports.recycle(op[1], op[2]);
        this.#checkIdle();
        break;
      default:
        this.lost("crashed", `it sent an unknown op: ${describeMessage(op)}`);
    }
  }

  #subscribe(id: number, topic: string): void {
    if (!this.manifest.capabilities.includes("subscribe")) return;
    const subscription = this.env.bus.topic(topic).subscribe((event: unknown) => {
      if (this.#eventsInflight + this.#events.length >= this.config.maxInflight) {
        this.#eventsDropped++;
        return;
      }
      this.#events.push([id, event]);
      this.#eventTimer ??= setTimeout(this.#flushEvents, this.config.flushMs);
    }, { scope: this.scope });
    this.#subscriptions.set(id, subscription);
  }

  #flushEvents = (): void => {
    this.#eventTimer = undefined;
    if (this.#events.length === 0 || this.ended !== undefined) return;
    const batch = this.#events;
    this.#events = [];
    this.#eventsInflight += batch.length;
    this.#safePost({ t: "ev", batch });
  };

  #declare(id: number, type: string, spec: Record<string, unknown>): void {
    const metrics = pluginMetrics(
      this.manifest.name,
      this.env.metrics,
      this.env.metricLimits,
      this.env.metricFamilies,
      () => this.manifest.capabilities.includes("metrics"),
    );
    try {
      const make = type === "gauge"
        ? metrics.gauge
        : type === "histogram"
        ? metrics.histogram
        : metrics.counter;
      this.#families.set(id, make(spec as never));
    } catch (error) {
      this.env.logger.warn(
        `[plugin ${this.manifest.name}] metric family ${String(spec.name)} refused: ${
          describeError(error)
        }`,
      );
    }
  }

  #sample(id: number, labels: string[], kind: string, value: number | number[]): void {
    const family = this.#families.get(id) as
      | { labels(...v: string[]): Record<string, (v: number) => void> }
      | undefined;
    if (family === undefined) return;
    try {
      const handle = family.labels(...labels);
      if (kind === "inc") handle.inc!(value as number);
      else if (kind === "set") handle.set!(value as number);
      else for (const v of value as number[]) handle.observe!(v);
    } catch (error) {
      this.env.logger.warn(
        `[plugin ${this.manifest.name}] a metric sample was refused: ${describeError(error)}`,
      );
    }
  }

  #check(): void {
    if (this.ended !== undefined) return;
    const now = this.now();
    const seen = this.beat();
    const last = this.#seen;
    if (seen.beat !== last.beat) this.#beatAt = now;
    if (seen.calls !== last.calls) this.#lastActivity = now;
    if (seen.running > 0) {
      if (seen.runSeq !== last.runSeq || last.running !== seen.running) this.#runningSince = now;
      else {
        const task = this.#budgets.get(seen.running - 1);
        const budget = task?.budgetMs ?? this.manifest.budgets.taskBudgetMs;
        if (now - this.#runningSince > budget) {
          this.#seen = seen;
          this.lost(
            "hung",
            `task "${task?.name ?? "?"}" ran past its budget of ${budget} ms`,
          );
          return;
        }
      }
    }
    this.#seen = seen;
    const hangMs = this.manifest.budgets.hangMs;
    if (now - this.#beatAt > hangMs) {
      this.lost("hung", `it sent no heartbeat for over ${hangMs} ms (budgets.hangMs)`);
    }
  }

  /** Ends what the host holds for the instance: watchdog, subscriptions, event batches. */
  #detach(): void {
    this.#watch?.cancel();
    this.#watch = undefined;
    clearTimeout(this.#eventTimer);
    this.#eventTimer = undefined;
    this.#events = [];
    for (const subscription of this.#subscriptions.values()) subscription.unsubscribe();
    this.#subscriptions.clear();
    const ports = this.#ports.close();
    if (ports.lost > 0) {
      this.env.logger.warn(
        `[plugin ${this.manifest.name}] ${ports.lost} frames it sent could not reach their data port (closed)`,
      );
    }
  }

  #safePost(message: HostMessage): void {
    try {
      this.post(message);
    } catch (error) {
      this.lost("crashed", `a message to it could not be sent: ${describeError(error)}`);
    }
  }

  /** Runs one hook call with its budget on the kernel's driver. */
  async #phase(
    hook: RemoteHook,
    options: PluginPhaseOptions | undefined,
    body: () => Promise<unknown>,
  ): Promise<void> {
    const name = this.manifest.name;
    const phase = phaseOf(hook);
    const timeoutMs = enterHook(this.manifest, hook, {
      ended: this.ended,
      running: this.#hook,
      loaded: this.#loaded,
    }, options);
    this.#hook = hook;
    this.#hookSince = this.now();
    const run = body();
    run.catch(() => {});
    const timedOut = Promise.withResolvers<"timeout">();
    let timer: { cancel(): boolean } | undefined;
    try {
      timer = this.env.driver.after(timeoutMs, () => timedOut.resolve("timeout"), {
        latenessClass: "plugin-phase",
      });
    } catch {
      // The driver is closed: no budget to enforce.
    }
    try {
      const outcome = await Promise.race([run.then(() => "done" as const), timedOut.promise]);
      if (outcome === "timeout") {
        const error = new PluginError(
          "E_PLUGIN_TIMEOUT",
          name,
          `Cannot ${hook} plugin "${name}" as it ran over its ${timeoutMs} ms budget`,
          { phase },
        );
        this.lost("hung", `its hook "${hook}" ran over its ${timeoutMs} ms budget`, error);
        throw error;
      }
    } catch (error) {
      throw phaseFailure(error, name, hook);
    } finally {
      timer?.cancel();
      this.#hook = undefined;
      this.#lastActivity = this.now();
    }
    const ended = this.ended;
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

function describeMessage(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 200) ?? String(value);
  } catch {
    return String(value);
  }
}
