import { type Clock, isSteppedClock, MONOTONIC_CLOCK } from "./time/clock.ts";
import { Driver } from "./time/driver.ts";
import type { TimerId } from "./time/timer_wheel.ts";
import { EventBus } from "./bus/event_bus.ts";
import { Executor } from "./exec/executor.ts";
import type {
  EventTaskOptions,
  OneShotTaskOptions,
  PeriodicTaskOptions,
  TaskHandle,
} from "./exec/task.ts";
import { OffloadPool } from "./exec/offload_pool.ts";
import { MetricsRegistry } from "./metrics/registry.ts";
import { collectDefaultMetrics, type DefaultMetrics } from "./metrics/default_metrics.ts";
import { type Island, startIsland } from "./island/island.ts";
import { type Channel, channel } from "./chan/channel.ts";
import { at, cron } from "./schedule/schedule.ts";
import type { AtTaskOptions, CronTaskOptions, ScheduleHandle } from "./schedule/schedule_types.ts";
import { PluginManager } from "./plugin/plugin_manager.ts";
import { ClosedError } from "./errors.ts";
import { CONSOLE_LOGGER, type Logger } from "./logger.ts";
import {
  requireLogger,
  requireNonEmptyString,
  requireNonNegative,
  requireOptions,
  show,
} from "./internal/validate.ts";

export type {
  KernelChannelOptions,
  KernelExecutorOptions,
  KernelIslandOptions,
  KernelOffloadOptions,
  KernelOptions,
  KernelPluginOptions,
  KernelStats,
  ShutdownOptions,
  ShutdownReport,
} from "./kernel_types.ts";
import type {
  KernelChannelOptions,
  KernelIslandOptions,
  KernelOffloadOptions,
  KernelOptions,
  KernelStats,
  ShutdownOptions,
  ShutdownReport,
} from "./kernel_types.ts";

/** Drain rounds at the end of a graceful shutdown before queued events count as dropped. */
const FINAL_DRAIN_ROUNDS = 16;

/**
 * The microkernel: one clock, a driver, the event bus, the executor, an
 * optional offload pool and a metrics registry, wired together. Queued bus
 * events are drained on the driver's tick; everything reports into
 * {@linkcode Kernel.metrics}.
 *
 * `shutdown()` drains gracefully (stop releasing, finish what runs, flush
 * queued events, drain the pool) and reports what its grace period cut off;
 * `emergencyStop()` stops at once. Signal handling belongs to the
 * application (see the examples), not to the library.
 *
 * @example A kernel on a virtual clock
 * ```ts
 * import { Kernel } from "@chronetix/core";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * await using kernel = await Kernel.start({ clock });
 * const seen: number[] = [];
 * kernel.periodic({ name: "sampler", periodMs: 10, run: () => void seen.push(clock.now()) });
 * kernel.onEvent<string>({ name: "logger", topic: "log", run: () => void seen.push(-1) });
 * kernel.bus.topic<string>("log").enqueue("hello"); // drained on the next tick
 * clock.advance(20);
 * assertEquals(seen, [-1, 10, 20]);
 * const report = await kernel.shutdown();
 * assertEquals(report.graceful, true);
 * ```
 */
export class Kernel<Offload extends OffloadPool | undefined = OffloadPool | undefined>
  implements AsyncDisposable {
  /** The kernel's name, the instance label of its metrics. */
  readonly name: string;
  /** The kernel's clock. */
  readonly clock: Clock;
  /** The driver: every timed wake-up goes through it. */
  readonly driver: Driver;
  /** The event bus. */
  readonly bus: EventBus;
  /** The executor. */
  readonly executor: Executor;
  /**
   * The offload pool: present (and typed so) when the kernel was started
   * with `offload` options, `undefined` otherwise.
   */
  readonly offload: Offload;
  /** The registry every part reports into. */
  readonly metrics: MetricsRegistry;
  /** The plugins: `load()`, `unload()`, `restart()`, `list()`, `get()`, supervised. */
  readonly plugins: PluginManager;
  readonly #startedAt: number;
  #state: KernelStats["state"] = "running";
  #drainId: TimerId | undefined;
  #shutdown: Promise<ShutdownReport> | undefined;
  #eventsFlushed = 0;
  readonly #logger: Logger;
  readonly #islands = new Set<Island>();
  readonly #defaultMetrics: DefaultMetrics | undefined;

  private constructor(options: KernelOptions) {
    const action = "start a Kernel";
    requireOptions(action, "options", options);
    this.name = requireNonEmptyString(action, "name", options.name ?? "kernel");
    const name = this.name;
    const logger = requireLogger(action, "logger", options.logger ?? CONSOLE_LOGGER);
    this.#logger = logger;
    this.clock = options.clock ?? MONOTONIC_CLOCK;
    if (options.metrics !== undefined && !(options.metrics instanceof MetricsRegistry)) {
      throw new TypeError(
        `Cannot ${action} as 'metrics' must be a MetricsRegistry: current value is ${
          show(options.metrics)
        }`,
      );
    }
    this.metrics = options.metrics ?? new MetricsRegistry({ logger });
    const defaults = options.defaultMetrics ?? false;
    if (typeof defaults !== "boolean" && (typeof defaults !== "object" || defaults === null)) {
      throw new TypeError(
        `Cannot ${action} as 'defaultMetrics' must be a boolean or options: current value is ${
          show(defaults)
        }`,
      );
    }
    this.#defaultMetrics = defaults === false
      ? undefined
      : collectDefaultMetrics(this.metrics, defaults === true ? {} : defaults);
    this.driver = new Driver({
      clock: this.clock,
      profile: options.profile ?? "balanced",
      metrics: this.metrics,
      name,
      logger,
    });
    this.bus = new EventBus({
      name,
      logger,
      clock: this.clock,
      queueCap: options.busQueueCap,
      metrics: this.metrics,
      onQueued: this.#scheduleDrain,
    });
    const pool = options.offload === undefined ? undefined : new OffloadPool({
      ...options.offload,
      name,
      logger,
      driver: this.driver,
      metrics: this.metrics,
    });
    this.offload = pool as Offload;
    this.executor = new Executor({
      ...options.executor,
      name,
      logger,
      driver: this.driver,
      bus: this.bus,
      offload: pool,
      metrics: this.metrics,
    });
    this.plugins = new PluginManager({
      ...options.pluginOptions,
      name,
      logger,
      driver: this.driver,
      executor: this.executor,
      bus: this.bus,
      metrics: this.metrics,
    });
    this.#startedAt = this.clock.now();
  }

  /**
   * Creates and starts a kernel. On a real clock it warms the driver's
   * waker first (unless the profile is `efficient`), so the first deadlines
   * are not late. Started with `offload` options, the kernel's
   * {@linkcode Kernel.offload} is typed as present.
   *
   * @param options Name, clock, profile, metrics, logger, executor, offload and bus options.
   * @returns The running kernel.
   * @throws {TypeError} when an option has the wrong type.
   * @throws {RangeError} when an option is out of range.
   */
  static start(
    options: KernelOptions & { offload: KernelOffloadOptions },
  ): Promise<Kernel<OffloadPool>>;
  /**
   * Creates and starts a kernel without an offload pool.
   *
   * @param options Name, clock, profile, metrics, logger, executor and bus options.
   * @returns The running kernel.
   */
  static start(options?: KernelOptions): Promise<Kernel<OffloadPool | undefined>>;
  static async start(options: KernelOptions = {}): Promise<Kernel<OffloadPool | undefined>> {
    const kernel = new Kernel<OffloadPool | undefined>(options);
    if (!isSteppedClock(kernel.clock) && kernel.driver.profile !== "efficient") {
      await kernel.driver.warmUp();
    }
    try {
      for (const manifest of options.plugins ?? []) await kernel.plugins.load(manifest);
    } catch (error) {
      await kernel.shutdown({ graceMs: 0 });
      throw error;
    }
    return kernel;
  }

  /**
   * The kernel's islands ({@linkcode Kernel.island}) that have not closed
   * yet, in the order they started: a new array at each read.
   *
   * @example Listing the islands
   * ```ts
   * import { Kernel } from "@chronetix/core";
   * import { assertEquals } from "@std/assert";
   *
   * await using kernel = await Kernel.start();
   * const module = "data:text/javascript,export function loop() {}";
   * const island = await kernel.island({ name: "control", module, tasks: [{ name: "loop", periodMs: 2 }] });
   * assertEquals(kernel.islands.map((i) => i.name), ["control"]);
   * await island.close();
   * assertEquals(kernel.islands, []);
   * ```
   */
  get islands(): readonly Island[] {
    return [...this.#islands];
  }

  /** `running`, `draining` (in `shutdown()`) or `stopped`. */
  get state(): KernelStats["state"] {
    return this.#state;
  }

  /**
   * Adds a periodic task; see {@linkcode Executor.periodic}.
   *
   * @param options The task.
   * @returns Its handle.
   */
  periodic(options: PeriodicTaskOptions): TaskHandle {
    this.#requireRunning("add a task");
    return this.executor.periodic(options);
  }

  /**
   * Adds a one-shot task; see {@linkcode Executor.once}.
   *
   * @param options The task.
   * @returns Its handle.
   */
  once(options: OneShotTaskOptions): TaskHandle {
    this.#requireRunning("add a task");
    return this.executor.once(options);
  }

  /**
   * Adds an event-triggered task; see {@linkcode Executor.onEvent}.
   *
   * @param options The task.
   * @returns Its handle.
   */
  onEvent<E>(options: EventTaskOptions<E>): TaskHandle {
    this.#requireRunning("add a task");
    return this.executor.onEvent(options);
  }

  /**
   * Adds a cron task: an expression (5 or 6 fields, or a nickname such as
   * `@hourly`) in an IANA time zone, DST-correct, fired on the kernel's
   * driver and re-derived from the wall clock after a clock step or a
   * suspend; see {@linkcode cron} and docs/schedules.md.
   *
   * @param options The expression, zone and the task.
   * @returns Its handle (`reschedule()`, `nextDates()` besides the task verbs).
   */
  cron(options: CronTaskOptions): ScheduleHandle {
    this.#requireRunning("add a task");
    return cron(this.executor, options);
  }

  /**
   * Adds a one-shot at a wall-clock date; see {@linkcode at}.
   *
   * @param options The date (a Date, an ISO string, or a local time in `timezone`) and the task.
   * @returns Its handle.
   */
  at(options: AtTaskOptions): ScheduleHandle {
    this.#requireRunning("add a task");
    return at(this.executor, options);
  }

  /**
   * Creates a bounded multi-producer single-consumer channel on the
   * kernel's clock (its timeouts follow a `VirtualClock` in tests), with its
   * metrics in the kernel's registry; see {@linkcode channel}.
   *
   * @example Backpressure between a producer and a consumer
   * ```ts
   * import { Kernel } from "@chronetix/core";
   * import { assertEquals } from "@std/assert";
   *
   * await using kernel = await Kernel.start();
   * const jobs = kernel.channel<number>(2, { name: "jobs" });
   * const sent = (async () => {
   *   for (let i = 0; i < 5; i++) await jobs.send(i);
   * })();
   * const got: number[] = [];
   * for (let i = 0; i < 5; i++) {
   *   const r = await jobs.recv();
   *   if (r.ok) got.push(r.value);
   * }
   * await sent;
   * assertEquals(got, [0, 1, 2, 3, 4]);
   * ```
   *
   * @typeParam T The item type.
   * @param capacity Items it holds before `send()` waits (`Infinity`: unbounded).
   * @param options Its name (metrics label and log name).
   * @returns The channel.
   */
  channel<T>(capacity: number, options: KernelChannelOptions = {}): Channel<T> {
    this.#requireRunning("create a channel");
    requireOptions("create a channel", "options", options);
    return channel<T>(capacity, {
      ...options,
      clock: this.driver.clock,
      metrics: this.metrics,
      logger: this.#logger,
    });
  }

  /**
   * Starts a real-time island: periodic tasks on their own thread, timed by
   * `Atomics.wait` and a short spin there, so they keep their timing while
   * this thread is busy; see {@linkcode Island}. The island uses the
   * kernel's driver (watchdog, restart back-off), metrics and logger; its
   * tasks appear in {@linkcode Kernel.stats} under `islands`, and it is
   * closed on shutdown.
   *
   * @example An island beside the kernel's tasks
   * ```ts
   * import { Kernel } from "@chronetix/core";
   * import { assertEquals } from "@std/assert";
   *
   * await using kernel = await Kernel.start();
   * const module = "data:text/javascript,export function loop() {}";
   * const island = await kernel.island({ name: "control", module, tasks: [{ name: "loop", periodMs: 2 }] });
   * assertEquals(kernel.stats().islands.map((i) => i.name), ["control"]);
   * const report = await kernel.shutdown();
   * assertEquals(report.islands[0]?.graceful, true);
   * assertEquals(island.state, "closed");
   * ```
   *
   * @param options The module, tasks, values, rings, lead and policies.
   * @returns The running island.
   * @throws {TypeError} (as a rejection) when an option has the wrong type,
   * or an island of that name is already running in this kernel.
   * @throws {RangeError} (as a rejection) when an option is out of range.
   * @throws {IslandError} (as a rejection) when the island cannot start.
   * @throws {ClosedError} (as a rejection) when the kernel is shutting down or stopped.
   */
  async island(options: KernelIslandOptions): Promise<Island> {
    this.#requireRunning("start an island");
    requireOptions("start an Island", "options", options);
    if (options === undefined) {
      throw new TypeError(
        "Cannot start an Island as 'options' must be an object: current value is undefined",
      );
    }
    const name = options.name ?? "island";
    for (const island of this.#islands) {
      if (island.name === name) {
        throw new TypeError(
          `Cannot start an Island as 'name' must be unique among the kernel's islands: current value is ${
            show(name)
          }`,
        );
      }
    }
    const island = await startIsland({
      ...options,
      driver: this.driver,
      metrics: this.metrics,
      logger: this.#logger,
    }, { onClosed: (closed) => this.#islands.delete(closed) });
    if (this.#state !== "running") {
      await island.close({ graceMs: 0 });
      throw new ClosedError("Kernel", "start an island");
    }
    this.#islands.add(island);
    return island;
  }

  /**
   * Takes a snapshot of every part.
   *
   * @returns The current figures.
   */
  stats(): KernelStats {
    return {
      state: this.#state,
      uptimeMs: this.clock.now() - this.#startedAt,
      executor: this.executor.stats(),
      bus: this.bus.stats(),
      driver: this.driver.stats(),
      offload: this.offload?.stats(),
      islands: [...this.#islands].map((island) => island.stats()),
      plugins: this.plugins.stats(),
    };
  }

  /**
   * Shuts down gracefully: stops releasing tasks, flushes queued events,
   * lets waiting and running work finish, drains the offload pool, then
   * stops. When the grace period ends, whatever is left is cut off and
   * counted. Calling it again returns the same report.
   *
   * @param options The grace period.
   * @returns What finished and what was cut off.
   * @throws {RangeError} when `graceMs` is negative or not finite.
   */
  shutdown(options: ShutdownOptions = {}): Promise<ShutdownReport> {
    const action = "shut down the Kernel";
    requireOptions(action, "options", options);
    const graceMs = requireNonNegative(action, "graceMs", options.graceMs ?? 5000);
    this.#shutdown ??= this.#drainAndStop(graceMs);
    return this.#shutdown;
  }

  /**
   * Stops at once: cancels every task (running async bodies see their
   * signals abort), drops queued events, rejects offload jobs, closes the driver.
   *
   * @returns What was cut off.
   */
  emergencyStop(): ShutdownReport {
    const start = this.clock.now();
    const eventsDropped = this.bus.clearQueue();
    const running = this.executor.stats().running;
    const releasesDropped = this.executor.close().dropped;
    const offload = this.offload?.stats();
    void this.offload?.close({ graceMs: 0 });
    for (const island of [...this.#islands]) void island.close({ graceMs: 0 });
    void this.plugins.close({ graceMs: 0 });
    this.#stop();
    return {
      graceful: false,
      durationMs: this.clock.now() - start,
      eventsFlushed: 0,
      eventsDropped,
      releasesDropped,
      runsCutOff: running,
      offloadDrained: 0,
      offloadCutOff: (offload?.queued ?? 0) + (offload?.inFlight ?? 0),
      islands: [],
      plugins: undefined,
    };
  }

  /** Same as `shutdown()` with the default grace period. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#state !== "stopped") await this.shutdown();
  }

  async #drainAndStop(graceMs: number): Promise<ShutdownReport> {
    if (this.#state === "stopped") {
      return {
        graceful: true,
        durationMs: 0,
        eventsFlushed: 0,
        eventsDropped: 0,
        releasesDropped: 0,
        runsCutOff: 0,
        offloadDrained: 0,
        offloadCutOff: 0,
        islands: [],
        plugins: undefined,
      };
    }
    const start = this.clock.now();
    this.#state = "draining";
    // Plugins first: their stop hooks still use the executor, bus and driver.
    // (Without plugins, nothing is awaited here, so the drain below starts at once.)
    const closingPlugins = this.plugins.close({ graceMs });
    if (this.plugins.stats().plugins > 0) await closingPlugins;
    let releasesDropped = this.executor.stopReleasing();
    const flushedBefore = this.#eventsFlushed;
    this.#drainBus();
    // Wait for the executor to go idle, or for the grace period to end.
    let timedOut = false;
    const graceEnd = Promise.withResolvers<void>();
    const timer = this.driver.after(Math.max(0, graceMs - (this.clock.now() - start)), () => {
      timedOut = true;
      graceEnd.resolve();
    }, { latenessClass: "kernel-shutdown" });
    await Promise.race([this.executor.whenIdle(), graceEnd.promise]);
    timer.cancel();
    // A drain delivers what was queued when it began; handlers may queue more.
    // A few more rounds flush those; what a handler keeps re-queueing forever
    // is counted as dropped instead of holding the shutdown.
    for (let round = 0; round < FINAL_DRAIN_ROUNDS && this.bus.stats().queued > 0; round++) {
      this.#drainBus();
    }
    const running = this.executor.stats().running;
    releasesDropped += this.executor.close().dropped;
    const remaining = Math.max(0, graceMs - (this.clock.now() - start));
    const offload = this.offload === undefined
      ? { drained: 0, cutOff: 0 }
      : await this.offload.close({ graceMs: remaining });
    const left = Math.max(0, graceMs - (this.clock.now() - start));
    const islands = await Promise.all(
      [...this.#islands].map((island) => island.close({ graceMs: left })),
    );
    const plugins = await closingPlugins;
    const eventsDropped = this.#stop();
    return {
      graceful: !timedOut && running === 0 && offload.cutOff === 0 && eventsDropped === 0 &&
        islands.every((r) => r.graceful) && plugins.graceful,
      durationMs: this.clock.now() - start,
      eventsFlushed: this.#eventsFlushed - flushedBefore,
      eventsDropped,
      releasesDropped,
      runsCutOff: running,
      offloadDrained: offload.drained,
      offloadCutOff: offload.cutOff,
      islands,
      plugins,
    };
  }

  /** Stops every part; returns how many queued events were left and dropped. */
  #stop(): number {
    if (this.#drainId !== undefined) this.driver.wheel.cancel(this.#drainId);
    this.#drainId = undefined;
    this.executor.close();
    const dropped = this.bus.clearQueue();
    this.bus.close();
    this.driver.close();
    this.#defaultMetrics?.close();
    this.#state = "stopped";
    return dropped;
  }

  #scheduleDrain = (): void => {
    if (this.#drainId !== undefined || this.#state === "stopped") return;
    this.#drainId = this.driver.wheel.schedule(this.clock.now(), this.#drainTick);
  };

  #drainTick = (): void => {
    this.#drainId = undefined;
    this.#drainBus();
  };

  #drainBus(): void {
    this.#eventsFlushed += this.bus.drain();
  }

  #requireRunning(action: string): void {
    if (this.#state !== "running") throw new ClosedError("Kernel", action);
  }
}
