import type { ErrorRecord } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import type { Driver } from "../time/driver.ts";
import type { MissedTickPolicy } from "../time/timer_wheel.ts";
import type { BudgetPolicy } from "../exec/budget.ts";
import type { TaskStats } from "../exec/task.ts";
import type { RingReader } from "../data/ring_reader.ts";
import type { RingWriter, SharedRingOptions } from "../data/ring_writer.ts";
import type { SharedValues } from "./shared_values.ts";

/**
 * What an island's `init(ctx)` and `dispose(ctx)` get, and what every task
 * context holds too: the shared blocks and rings, island side.
 */
export interface IslandContext {
  /** The island's name. */
  readonly island: string;
  /** How many times the island was restarted before this run of its thread (0 the first time). */
  readonly restarts: number;
  /** The shared values: `in` is read here (the main thread writes it), `out` is written here. */
  readonly values: {
    readonly in: SharedValues | undefined;
    readonly out: SharedValues | undefined;
  };
  /** The rings: frames in from the main thread (`in`), frames out to it (`out`). */
  readonly rings: { readonly in: RingReader | undefined; readonly out: RingWriter | undefined };
  /**
   * The island's clock, ms: `performance.now()` of the island's thread moved
   * onto the main thread's `performance.now()` time line.
   */
  now(): number;
}

/**
 * What an island task gets on each run. One object per task, reused: read it
 * during the run, do not keep it.
 */
export interface IslandTaskContext extends IslandContext {
  /** The task's name. */
  readonly name: string;
  /** When this run was released, on the island's clock (ms): the ideal time of the tick. */
  readonly release: number;
  /** Its absolute deadline (ms): release plus `deadlineMs`. */
  readonly deadline: number;
}

/** One periodic task of an island: its body is the module's export of the same name. */
export interface IslandTaskOptions {
  /** The task's name: the name of the function the island's module exports for it. */
  name: string;
  /** The period, ms (at least 0.001); releases are drift-free (`first + k * period`). */
  periodMs: number;
  /**
   * Relative deadline, ms, `> 0` (`Infinity` for none).
   *
   * @default {periodMs}
   */
  deadlineMs?: number;
  /**
   * Delay before the first release, ms, counted from the island running.
   *
   * @default {periodMs}
   */
  delayMs?: number;
  /** Execution budget per run, ms: enables the budget tiers (overruns counted, then quarantine). */
  budgetMs?: number;
  /**
   * Releases missed in a stall: see `MissedTickPolicy`.
   *
   * @default {"skip"}
   */
  missedTicks?: MissedTickPolicy;
  /**
   * When a run throws: `continue` (counted, the task keeps running) or
   * `stop` (the task moves to `failed`).
   *
   * @default {"continue"}
   */
  onError?: "continue" | "stop";
}

/** What the island does after a crash (load failure, uncaught error, out of memory, hang). */
export interface IslandRestartOptions {
  /**
   * `never`: the island stays `failed`; `on-failure`: a new thread starts
   * after `backoffMs`, at most `maxRestarts` times.
   *
   * @default {"on-failure"}
   */
  policy?: "never" | "on-failure";
  /**
   * Restarts over the island's life.
   *
   * @default {3}
   */
  maxRestarts?: number;
  /**
   * Wait before a restart, ms, on the driver's clock.
   *
   * @default {1000}
   */
  backoffMs?: number;
}

/** Options of {@linkcode Island.start} (and of `Kernel.island()`, which supplies the driver, metrics and logger). */
export interface IslandOptions {
  /**
   * The island's name: the `island` label of its metrics, its thread's name and the name in its log lines.
   *
   * @default {"island"}
   */
  name?: string;
  /**
   * The task module: a `file:` URL (or a `data:` URL) of a module that
   * exports one function per task name, plus optional `init(ctx)` and
   * `dispose(ctx)` (which may be async).
   */
  module: string | URL;
  /** The periodic tasks, one or more, with distinct names. */
  tasks: readonly IslandTaskOptions[];
  /** Fields of the shared values blocks: `in` written by the main thread, `out` by the island. */
  values?: { in?: readonly string[]; out?: readonly string[] };
  /** Rings for frames: `in` main thread to island, `out` island to main thread. */
  rings?: { in?: SharedRingOptions; out?: SharedRingOptions };
  /**
   * The least spin lead, µs: the island's thread sleeps (`Atomics.wait`)
   * until a release minus the lead, then spins to the release. Larger: fewer
   * late wake-ups, more CPU. While wake-ups come later than the lead covers
   * (a busy machine), the lead grows, up to `maxLeadUs`. Left out, it
   * depends on the policy the thread gets (see `scheduling`):
   * {@linkcode DEFAULT_REALTIME_LEAD_US} (100) under SCHED_FIFO, whose
   * wake-ups come on time, else {@linkcode DEFAULT_LEAD_US} (250); at most
   * `maxLeadUs`.
   */
  leadUs?: number;
  /**
   * The most the spin lead may grow to, µs, `>= leadUs`: the lead follows the
   * fourth latest of the last 64 wake-up delays (about their 95th percentile) plus 50 µs. Equal to `leadUs`:
   * a fixed lead.
   *
   * @default {1000, or leadUs when larger}
   */
  maxLeadUs?: number;
  /**
   * The island thread's scheduling priority, a nice value from -20 (highest)
   * to 19, set on that thread alone when it starts. On a machine with few
   * cores, a busy main thread and the threads it wakes (garbage collection,
   * I/O) preempt a spinning island; a negative value keeps the island ahead
   * of them. Raising a priority needs the privilege to (Linux: root,
   * `CAP_SYS_NICE` or an `RLIMIT_NICE` allowance) and `--allow-sys`; when
   * the thread cannot set it, the island runs at the inherited priority and
   * logs a warning. Left out, the priority is not touched.
   */
  priority?: number;
  /**
   * How the OS schedules the island's thread:
   * - `"auto"`: Linux's real-time policy, SCHED_FIFO at `realtimePriority`,
   *   when the thread may use it (two CPUs or more, the `ffi` permission, and
   *   `CAP_SYS_NICE` or an `RLIMIT_RTPRIO` allowance: `deno run -A` as root
   *   is enough); else the normal policy, without a word.
   * - `"realtime"`: SCHED_FIFO (on one CPU too), or a warning and the normal
   *   policy when the thread cannot have it.
   * - `"normal"`: the OS's normal policy (where `priority` applies).
   *
   * A SCHED_FIFO thread that wakes preempts every normal thread at once, so
   * a busy main thread, garbage collection and other processes no longer
   * delay its wake-ups: the island holds its unloaded timing under load. The
   * other side: while it spins or runs, no normal thread gets its core. A
   * task stuck in a loop keeps that core until `hangMs` ends it, with Linux
   * leaving normal threads 5 % of it (`kernel.sched_rt_runtime_us`; with
   * that throttling off, none); the watchdog runs on the main thread, so on
   * one CPU it comes late. Threads and processes the island's thread starts
   * run under the normal policy. `stats().scheduling` says which policy the
   * thread got.
   *
   * @default {"auto"}
   */
  scheduling?: IslandScheduling;
  /**
   * The SCHED_FIFO priority, 1 (lowest) to 99, when the thread runs under
   * the real-time policy.
   *
   * @default {DEFAULT_REALTIME_PRIORITY}
   */
  realtimePriority?: number;
  /**
   * A run in progress for longer than this, ms, declares the island hung: its
   * thread is terminated (it may keep spinning until the process exits) and
   * the island restarts by its policy.
   *
   * @default {1000}
   */
  hangMs?: number;
  /**
   * How long loading the module and `init()` may take, ms.
   *
   * @default {10000}
   */
  startTimeoutMs?: number;
  /** Thresholds and cooldown of the budget tiers (at `isolate`, a task is quarantined). */
  budget?: BudgetPolicy;
  /** What happens after a crash. */
  restart?: IslandRestartOptions;
  /**
   * Heap cap of the island's thread, MB: reaching it kills the island's
   * thread alone, reported as `E_ISLAND_OUT_OF_MEMORY`.
   *
   * @default {256}
   */
  maxHeapMb?: number;
  /** The driver for the watchdog, restart back-off and grace timers. @default {its own, "efficient"} */
  driver?: Driver;
  /** Registry to export `chronetix_island_*` metrics into. */
  metrics?: MetricsRegistry;
  /** Where crashes, failed runs (one line per task per second) and budget tier changes are logged. @default {CONSOLE_LOGGER} */
  logger?: Logger;
}

/** How an island's thread is to be scheduled by the OS; see `IslandOptions.scheduling`. */
export type IslandScheduling = "auto" | "realtime" | "normal";

/** The policy an island's thread runs under: Linux's SCHED_FIFO (`"realtime"`) or the OS's normal one. */
export type IslandSchedulingState = "realtime" | "normal";

/**
 * Where an island is: `starting`, `running`, `restarting` (waiting out the
 * back-off after a crash), `failed` (crashed, no restart left), `closing`, `closed`.
 */
export type IslandState = "starting" | "running" | "restarting" | "failed" | "closing" | "closed";

/** A snapshot of an island, read from shared memory. */
export interface IslandStats {
  /** The island's name. */
  name: string;
  /** Where it is. */
  state: IslandState;
  /** The least spin lead, µs. */
  leadUs: number;
  /** The spin lead the island's thread uses now, µs (between `leadUs` and `maxLeadUs`). */
  currentLeadUs: number;
  /** The policy the OS schedules the island's thread under (see `IslandOptions.scheduling`); `"normal"` until it has started. */
  scheduling: IslandSchedulingState;
  /** Threads started after a crash. */
  restarts: number;
  /** Crashes: load failures, uncaught errors, out of memory, hangs. */
  crashes: number;
  /** Threads terminated while stuck in synchronous code: they keep a core busy until the process exits. */
  stuckThreads: number;
  /** The last crash, with its cause; `undefined` if it never crashed. */
  lastError: ErrorRecord | undefined;
  /** The code of the last crash (`E_ISLAND_*`), `undefined` if none. */
  lastErrorCode: string | undefined;
  /** Runs started, all tasks. */
  runs: number;
  /** Runs that threw, all tasks. */
  failures: number;
  /** Runs that ended after their deadline, all tasks. */
  deadlineMisses: number;
  /** Runs over budget, all tasks. */
  overruns: number;
  /** Every task, in the shape of the main executor's task stats. */
  perTask: TaskStats[];
}

/** Options of {@linkcode Island.close}. */
export interface IslandCloseOptions {
  /**
   * How long the island may take to finish its current run and `dispose()`, ms;
   * past it, its thread is terminated.
   *
   * @default {5000}
   */
  graceMs?: number;
}

/** What closing an island did. */
export interface IslandCloseReport {
  /** The island's name. */
  name: string;
  /** `true` when it stopped within the grace period and `dispose()` did not throw. */
  graceful: boolean;
  /** Whether its thread had to be terminated (grace period over, or it was no longer answering). */
  terminated: boolean;
  /** Runs over the island's life, all tasks and restarts. */
  runs: number;
  /** Runs that threw, all tasks. */
  failures: number;
  /** Threads started after a crash. */
  restarts: number;
  /** What `dispose()` threw, if it did. */
  disposeError: ErrorRecord | undefined;
  /** How long closing took, ms (driver clock). */
  durationMs: number;
}
