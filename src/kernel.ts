import { type Clock, isSteppedClock, MONOTONIC_CLOCK } from "./time/clock.ts";
import { Driver, type DriverStats } from "./time/driver.ts";
import type { PrecisionProfile } from "./time/precision.ts";
import type { TimerId } from "./time/timer_wheel.ts";
import { EventBus, type EventBusStats } from "./bus/event_bus.ts";
import { Executor, type ExecutorOptions, type ExecutorStats } from "./exec/executor.ts";
import type {
  EventTaskOptions,
  OneShotTaskOptions,
  PeriodicTaskOptions,
  TaskHandle,
} from "./exec/task.ts";
import { OffloadPool, type OffloadPoolOptions, type OffloadStats } from "./exec/offload_pool.ts";
import { MetricsRegistry } from "./metrics/registry.ts";
import { ClosedError } from "./errors.ts";
import { requireNonNegative } from "./internal/validate.ts";

/** Options of {@linkcode Kernel.start}. */
export interface KernelOptions {
  /** The clock; pass a `VirtualClock` to run the kernel in tests. @default {MONOTONIC_CLOCK} */
  clock?: Clock;
  /** The driver's precision profile. @default {"balanced"} */
  profile?: PrecisionProfile;
  /** The registry every part reports into. @default {a new MetricsRegistry} */
  metrics?: MetricsRegistry;
  /** Executor options: caps, tick, budget policy, logger. */
  executor?: Omit<ExecutorOptions, "driver" | "clock" | "profile" | "bus" | "offload" | "metrics">;
  /** Offload pool options; the kernel starts a pool only when given. */
  offload?: Omit<OffloadPoolOptions, "driver" | "metrics">;
  /** The bus queue cap. @default {65536} */
  busQueueCap?: number;
  /** Where handler errors and warnings go. @default {console.error / console.warn} */
  logger?: (line: string) => void;
}

/** Options of {@linkcode Kernel.shutdown}. */
export interface ShutdownOptions {
  /**
   * How long waiting runs, running async bodies, queued events and offload
   * jobs get to finish, in ms; what is left is cut off and reported.
   *
   * @default {5000}
   */
  deadlineMs?: number;
}

/** What a shutdown cut off. */
export interface ShutdownReport {
  /** `true` when everything finished before the deadline. */
  graceful: boolean;
  /** How long the shutdown took, ms (kernel clock). */
  durationMs: number;
  /** Queued bus events delivered during the drain. */
  eventsFlushed: number;
  /** Queued bus events dropped (emergency stop only). */
  eventsDropped: number;
  /** Task releases dropped: deferred ones at once, waiting ones at the deadline. */
  releasesDropped: number;
  /** Async task bodies still running at the deadline (their signals aborted). */
  runsCutOff: number;
  /** Offload jobs that finished during the drain. */
  offloadDrained: number;
  /** Offload jobs rejected at the deadline. */
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
 * queued events, drain the pool) and reports what the deadline cut off;
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
export class Kernel implements AsyncDisposable {
  /** The kernel's clock. */
  readonly clock: Clock;
  /** The driver: every timed wake-up goes through it. */
  readonly driver: Driver;
  /** The event bus. */
  readonly bus: EventBus;
  /** The executor. */
  readonly executor: Executor;
  /** The offload pool, when configured. */
  readonly offload: OffloadPool | undefined;
  /** The registry every part reports into. */
  readonly metrics: MetricsRegistry;
  readonly #startedAt: number;
  #state: KernelStats["state"] = "running";
  #drainId: TimerId | undefined;
  #shutdown: Promise<ShutdownReport> | undefined;
  #eventsFlushed = 0;

  private constructor(options: KernelOptions) {
    this.clock = options.clock ?? MONOTONIC_CLOCK;
    this.metrics = options.metrics ?? new MetricsRegistry();
    this.driver = new Driver({
      clock: this.clock,
      profile: options.profile ?? "balanced",
      metrics: this.metrics,
      name: "kernel",
    });
    const logger = options.logger;
    this.bus = new EventBus({
      queueCap: options.busQueueCap,
      metrics: this.metrics,
      onQueued: this.#scheduleDrain,
      onHandlerError: logger === undefined ? undefined : (error, topic) =>
        logger(
          `Event handler on topic "${topic}" failed: ${
            error instanceof Error ? error.message : error
          }`,
        ),
    });
    this.offload = options.offload === undefined
      ? undefined
      : new OffloadPool({ ...options.offload, driver: this.driver, metrics: this.metrics, logger });
    this.executor = new Executor({
      ...options.executor,
      logger: options.executor?.logger ?? logger,
      driver: this.driver,
      bus: this.bus,
      offload: this.offload,
      metrics: this.metrics,
    });
    this.#startedAt = this.clock.now();
  }

  /**
   * Creates and starts a kernel. On a real clock with a precise profile it
   * warms the driver's waker first, so the first deadlines are not late.
   *
   * @param options Clock, profile, metrics, executor, offload and bus options.
   * @returns The running kernel.
   */
  static async start(options: KernelOptions = {}): Promise<Kernel> {
    const kernel = new Kernel(options);
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
   * stops. At the deadline whatever is left is cut off and counted.
   * Calling it again returns the same report.
   *
   * @param options The deadline.
   * @returns What finished and what was cut off.
   */
  shutdown(options: ShutdownOptions = {}): Promise<ShutdownReport> {
    const deadlineMs = requireNonNegative(
      "shut down the kernel",
      "deadlineMs",
      options.deadlineMs ?? 5000,
    );
    this.#shutdown ??= this.#drainAndStop(deadlineMs);
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
    const releasesDropped = this.executor.close();
    const offload = this.offload?.stats();
    void this.offload?.close({ deadlineMs: 0 });
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

  /** Same as `shutdown()` with the default deadline. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#state !== "stopped") await this.shutdown();
  }

  async #drainAndStop(deadlineMs: number): Promise<ShutdownReport> {
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
    // Wait for the executor to go idle, or for the deadline.
    let timedOut = false;
    const deadline = Promise.withResolvers<void>();
    const timer = this.driver.after(deadlineMs, () => {
      timedOut = true;
      deadline.resolve();
    }, { latenessClass: "kernel-shutdown" });
    await Promise.race([this.executor.whenIdle(), deadline.promise]);
    timer.cancel();
    this.#drainBus();
    const running = this.executor.stats().running;
    releasesDropped += this.executor.close();
    const remaining = Math.max(0, deadlineMs - (this.clock.now() - start));
    const offload = this.offload === undefined
      ? { drained: 0, cutOff: 0 }
      : await this.offload.close({ deadlineMs: remaining });
    this.#stop();
    return {
      graceful: !timedOut && running === 0 && offload.cutOff === 0,
      durationMs: this.clock.now() - start,
      eventsFlushed: this.#eventsFlushed - flushedBefore,
      eventsDropped: 0,
      releasesDropped,
      runsCutOff: running,
      offloadDrained: offload.drained,
      offloadCutOff: offload.cutOff,
    };
  }

  #stop(): void {
    if (this.#drainId !== undefined) this.driver.wheel.cancel(this.#drainId);
    this.#drainId = undefined;
    this.executor.close();
    this.bus[Symbol.dispose]();
    this.driver.close();
    this.#state = "stopped";
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
