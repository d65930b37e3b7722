// The public types of a Driver: its options and its stats snapshot.
import type { Logger } from "../logger.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import type { Clock } from "./clock.ts";
import type { DriverHost } from "./driver_host.ts";
import type { PrecisionProfile } from "./precision.ts";
import type { TimerWheelOptions, TimerWheelStats } from "./timer_wheel.ts";

/** Options for the {@linkcode Driver} constructor. */
export interface DriverOptions {
  /**
   * The clock. A stepped clock (`VirtualClock`) drives the timers itself as
   * it advances; any other clock must read the `performance.now()` timeline.
   *
   * @default {MONOTONIC_CLOCK}
   */
  clock?: Clock;
  /**
   * How to trade CPU for lateness.
   *
   * @default {"balanced"}
   */
  profile?: PrecisionProfile;
  /**
   * Options of the underlying {@linkcode TimerWheel}. Its `name` and
   * `logger` are the driver's; `onSchedule` and `origin` are set by the
   * driver.
   */
  wheel?: Omit<TimerWheelOptions, "onSchedule" | "origin" | "name" | "logger">;
  /** Real-time facilities; replace only in tests of the driver itself. */
  host?: DriverHost;
  /**
   * Keep the waker Worker running while idle, until {@linkcode Driver.close}.
   * Deno builds a Worker synchronously, which blocks the main thread for
   * about 10 ms, so a bursty long-running service avoids paying that at the
   * start of every busy period. While kept warm, the worker keeps the process
   * alive: close the driver on shutdown.
   *
   * @default {false}
   */
  keepWarm?: boolean;
  /**
   * Registry to report into: lateness histograms and fires per class, wake-ups
   * by mode, spin time, lead, pending timers, skipped ticks and callback
   * errors (see `docs/metrics.md`). Fires update pre-allocated slots through
   * handles; everything else is read by a collector at scrape time.
   */
  metrics?: MetricsRegistry;
  /**
   * The `driver` label of this driver's metrics and its name in log lines.
   *
   * @default {"driver"}
   */
  name?: string;
  /**
   * Where timer callback errors (throws and rejected promises) are logged
   * with `logger.error`, at most one line a second, unless `wheel.onError`
   * takes them; also where a failed waker Worker is reported.
   *
   * @default {CONSOLE_LOGGER}
   */
  logger?: Logger;
}

/** Wake-up counts of a {@linkcode Driver}, by mode. */
export interface DriverWakeStats {
  /** `setTimeout` waits armed. */
  far: number;
  /** Waker-Worker (or fallback) waits armed. */
  near: number;
  /** Spins on the clock. */
  imminent: number;
  /** Blocks of the main thread in `Atomics.wait` before a deadline (profile `precise`). */
  block: number;
  /** Wake-ups that found nothing due yet (early `setTimeout` fires included). */
  early: number;
  /** Total milliseconds spent spinning. */
  spinMs: number;
  /** Total milliseconds the main thread was blocked before deadlines. */
  blockMs: number;
  /** Waker Worker starts. */
  wakerStarts: number;
  /** Current lead of near wake-ups in milliseconds (adapted to measured latency). */
  leadMs: number;
}

/** A snapshot of a {@linkcode Driver}'s state. */
export interface DriverStats {
  /** The precision profile. */
  profile: PrecisionProfile;
  /** Whether the driver runs on a stepped (virtual) clock. */
  virtual: boolean;
  /** Wake-ups by mode. */
  wakes: DriverWakeStats;
  /** The wheel's counters. */
  wheel: TimerWheelStats;
}
