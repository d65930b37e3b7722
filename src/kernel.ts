import { type Clock, isSteppedClock, MONOTONIC_CLOCK } from "./time/clock.ts";
import { Driver } from "./time/driver.ts";
import type { DriverStats } from "./time/driver_types.ts";
import type { PrecisionProfile } from "./time/precision.ts";
import type { TimerId } from "./time/timer_wheel.ts";
import { EventBus, type EventBusStats } from "./bus/event_bus.ts";
import { Executor, type ExecutorOptions } from "./exec/executor.ts";
import type {
  EventTaskOptions,
  ExecutorStats,
  OneShotTaskOptions,
  PeriodicTaskOptions,
  TaskHandle,
} from "./exec/task.ts";
import { OffloadPool } from "./exec/offload_pool.ts";
import type { OffloadPoolOptions, OffloadStats } from "./exec/offload_types.ts";
import { MetricsRegistry } from "./metrics/registry.ts";
import { ClosedError } from "./errors.ts";
import { CONSOLE_LOGGER, type Logger } from "./logger.ts";
import {
  requireLogger,
  requireNonEmptyString,
  requireNonNegative,
  requireOptions,
  show,
} from "./internal/validate.ts";

/** Drain rounds at the end of a graceful shutdown before queued events count as dropped. */
const FINAL_DRAIN_ROUNDS = 16;

/** Options of {@linkcode Kernel.start}. */
export interface KernelOptions {
  /**
   * The kernel's name: the `driver`, `executor`, `bus` and `pool` label of
   * its metrics, so two kernels can share one registry.
   *
   * @default {"kernel"}
   */
  name?: string;
  /** The clock; pass a `VirtualClock` to run the kernel in tests. @default {MONOTONIC_CLOCK} */
  clock?: Clock;
  /** The driver's precision profile. @default {"balanced"} */
  profile?: PrecisionProfile;
  /** The registry every part reports into. @default {a new MetricsRegistry} */
  metrics?: MetricsRegistry;
  /** Executor options: caps, tick, budget policy. */
  executor?: KernelExecutorOptions;
  /**
   * Offload pool options; the kernel starts a pool only when given, and then
   * {@linkcode Kernel.offload} is typed as present.
   */
  offload?: KernelOffloadOptions;
  /** The bus queue cap. @default {65536} */
  busQueueCap?: number;
  /**
   * Where every part the kernel builds reports failed tasks and handlers,
   * replaced workers and warnings. `console` is one.
   *
   * @default {console}
   */
  logger?: Logger;
}

/** The executor options a kernel takes (the kernel supplies the rest). */
export type KernelExecutorOptions = Omit<
  ExecutorOptions,
  "driver" | "clock" | "profile" | "bus" | "offload" | "metrics" | "name" | "logger"
>;

/** The offload pool options a kernel takes (the kernel supplies the rest). */
export type KernelOffloadOptions = Omit<
  OffloadPoolOptions,
  "driver" | "metrics" | "name" | "logger"
>;

/** Options of {@linkcode Kernel.shutdown}. */
export interface ShutdownOptions {
  /**
   * The grace period: how long waiting runs, running async bodies, queued
   * events and offload jobs get to finish, in ms; what is left is cut off
   * and reported.
   *
   * @default {5000}
   */
  graceMs?: number;
}

/** What a shutdown cut off. */
export interface ShutdownReport {
  /** `true` when everything finished within the grace period. */
  graceful: boolean;
  /** How long the shutdown took, ms (kernel clock). */
  durationMs: number;
  /** Queued bus events delivered during the drain. */
  eventsFlushed: number;
  /** Queued bus events dropped: all of them in an emergency stop; in a graceful one, what handlers kept queueing past the final drain. */
  eventsDropped: number;
  /** Task releases dropped: deferred ones at once, waiting ones when the grace period ends. */
  releasesDropped: number;
  /** Async task bodies still running when the grace period ended (their signals aborted). */
  runsCutOff: number;
  /** Offload jobs that finished during the drain. */
  offloadDrained: number;
  /** Offload jobs rejected when the grace period ended. */
  offloadCutOff: number;
}

/** A snapshot of the whole kernel. */
export interface KernelStats {
  /** `running`, `draining` or `stopped`. */
  state: "running" | "draining" | "stopped";
  /** Time since start, ms (kernel clock). */
  uptimeMs: number;
  /** The executor and its tasks. */
  executor: ExecutorStats;
  /** The bus and its topics. */
  bus: EventBusStats;
  /** The driver's wake-ups and wheel. */
  driver: DriverStats;
  /** The offload pool, when there is one. */
  offload: OffloadStats | undefined;
}

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
  readonly #startedAt: number;
  #state: KernelStats["state"] = "running";
  #drainId: TimerId | undefined;
  #shutdown: Promise<ShutdownReport> | undefined;
  #eventsFlushed = 0;

  private constructor(options: KernelOptions) {
    const action = "start a Kernel";
    requireOptions(action, "options", options);
    this.name = requireNonEmptyString(action, "name", options.name ?? "kernel");
    const name = this.name;
    const logger = requireLogger(action, "logger", options.logger ?? CONSOLE_LOGGER);
    this.clock = options.clock ?? MONOTONIC_CLOCK;
    if (options.metrics !== undefined && !(options.metrics instanceof MetricsRegistry)) {
      throw new TypeError(
        `Cannot ${action} as 'metrics' must be a MetricsRegistry: current value is ${
          show(options.metrics)
        }`,
      );
    }
    this.metrics = options.metrics ?? new MetricsRegistry({ logger });
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
    return kernel;
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
      };
    }
    const start = this.clock.now();
    this.#state = "draining";
    let releasesDropped = this.executor.stopReleasing();
    const flushedBefore = this.#eventsFlushed;
    this.#drainBus();
    // Wait for the executor to go idle, or for the grace period to end.
    let timedOut = false;
    const graceEnd = Promise.withResolvers<void>();
    const timer = this.driver.after(graceMs, () => {
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
    const eventsDropped = this.#stop();
    return {
      graceful: !timedOut && running === 0 && offload.cutOff === 0 && eventsDropped === 0,
      durationMs: this.clock.now() - start,
      eventsFlushed: this.#eventsFlushed - flushedBefore,
      eventsDropped,
      releasesDropped,
      runsCutOff: running,
      offloadDrained: offload.drained,
      offloadCutOff: offload.cutOff,
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
