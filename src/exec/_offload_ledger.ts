// What the offload pool counts and keeps: job outcomes and worker events,
// queue-wait and execution times (in stats and, when a registry is given, in
// metrics), the last error, and rate-limited log lines. The pool decides;
// the ledger records.

import { type ErrorRecord, errorRecord } from "../errors.ts";
import { LogLimiter } from "../internal/log_limiter.ts";
import type { Logger } from "../logger.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import { LatencyHistogram } from "../time/latency_histogram.ts";
import type { OffloadStats } from "./offload_types.ts";
import {
  type OffloadFigures,
  type OffloadMetrics,
  registerOffloadMetrics,
} from "./_offload_metrics.ts";
import type { JobRecord } from "./_offload_slot.ts";

/** Log lines of one kind (a crash, a missing job module) at most once per this, ms. */
const LOG_INTERVAL_MS = 10_000;

/** The pool's counters: every submitted job ends in exactly one outcome. */
export interface OffloadCounts {
  submitted: number;
  completed: number;
  failed: number;
  timedOut: number;
  crashed: number;
  cancelled: number;
  rejected: number;
  replaced: number;
  stuck: number;
  oomKills: number;
}

/** The offload pool's records; see the file comment. */
export class OffloadLedger {
  /** The counters, written by the pool. */
  readonly counts: OffloadCounts = {
    submitted: 0,
    completed: 0,
    failed: 0,
    timedOut: 0,
    crashed: 0,
    cancelled: 0,
    rejected: 0,
    replaced: 0,
    stuck: 0,
    oomKills: 0,
  };
  readonly #queueWait = new LatencyHistogram();
  readonly #execution = new LatencyHistogram();
  readonly #errorLog: LogLimiter;
  readonly #now: () => number;
  #lastError: ErrorRecord | undefined;
  #metrics: OffloadMetrics | undefined;

  /**
   * @param logger Where log lines go.
   * @param now The pool's clock.
   */
  constructor(logger: Logger, now: () => number) {
    this.#errorLog = new LogLimiter(logger, LOG_INTERVAL_MS);
    this.#now = now;
  }

  /** Exports the pool's metrics into `registry`, labelled `pool="<name>"`. */
  exportMetrics(registry: MetricsRegistry, name: string, figures: () => OffloadFigures): void {
    this.#metrics = registerOffloadMetrics(registry, name, figures);
  }

  /** Stops exporting metrics, after a final collect. */
  stopMetrics(): void {
    this.#metrics?.[Symbol.dispose]();
    this.#metrics = undefined;
  }

  /** A job went to a worker at `now`. */
  sent(record: JobRecord, now: number): void {
    this.#queueWait.record(now - record.submittedAt);
    this.#metrics?.queueWait.observe((now - record.submittedAt) / 1000);
  }

  /** A job's result (or error) came back at `now`. */
  returned(record: JobRecord, now: number): void {
    this.#execution.record(now - record.sentAt);
    this.#metrics?.execution.observe((now - record.sentAt) / 1000);
  }

  /** The timings and the last error, for `stats()`. */
  snapshot(): Pick<OffloadStats, "queueWait" | "execution" | "lastError"> {
    return {
      queueWait: this.#queueWait.snapshot(),
      execution: this.#execution.snapshot(),
      lastError: this.#lastError === undefined ? undefined : { ...this.#lastError },
    };
  }

  /**
   * Keeps `error` as the last error (with the worker's stack when there is
   * one) and, when it is of a `logKind`, logs it.
   */
  keep(error: unknown, logKind?: string, stack?: string): void {
    this.#lastError = errorRecord(error, this.#now());
    if (stack !== undefined) this.#lastError.stack = stack;
    if (logKind !== undefined) this.log(logKind, this.#lastError.message);
  }

  /** Logs an error line, at most once per kind per `LOG_INTERVAL_MS` of the pool's clock. */
  log(kind: string, message: string): void {
    this.#errorLog.error(kind, this.#now(), message);
  }
}

/** Settles a job's promise, after removing its abort listener. */
export function settle(record: JobRecord, ok: boolean, value: unknown): void {
  if (record.onAbort !== undefined) {
    record.signal!.removeEventListener("abort", record.onAbort);
    record.onAbort = undefined;
  }
  if (ok) record.resolve(value);
  else record.reject(value);
}
