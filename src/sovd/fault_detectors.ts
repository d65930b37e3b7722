// The fault detectors of the built-in parts: each reads what a part already
// counts (its stats(), the registry's self metrics) and reports conditions.

import type { FaultCondition, FaultDetector } from "./fault_monitor.ts";
import type { EntityType } from "./model.ts";
import { toSovdId } from "./ids.ts";
import type { ExecutorStats } from "../exec/task.ts";
import type { OffloadStats } from "../exec/offload_types.ts";
import type { DataPortStats } from "../data/data_port_stats.ts";
import type { RingStats } from "../data/ring_stats.ts";
import { SampleBuffer } from "../metrics/sample.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import {
  requireInteger,
  requireName,
  requireNonNegative,
  requireOptions,
} from "../internal/validate.ts";

/** The stable code of each fault the built-in detectors raise. */
export interface FaultCodes {
  /** A task missed deadlines over the threshold since the last evaluation (WARN). */
  readonly deadlineMiss: "DEADLINE_MISS";
  /** A task's runs failed since the last evaluation (WARN). */
  readonly taskRunFailures: "TASK_RUN_FAILURES";
  /** A task is at the budget's isolate tier (WARN). */
  readonly taskIsolated: "TASK_ISOLATED";
  /** A task was quarantined by the budget's isolate tier (ERROR). */
  readonly taskQuarantined: "TASK_QUARANTINED";
  /** A task was stopped by its error policy (ERROR). */
  readonly taskFailed: "TASK_FAILED";
  /** Offload workers crashed, ran out of heap or ended themselves (WARN). */
  readonly offloadWorkerCrash: "OFFLOAD_WORKER_CRASH";
  /** Offload workers got stuck and were replaced: zombie threads (ERROR; passive until cleared). */
  readonly offloadWorkerZombie: "OFFLOAD_WORKER_ZOMBIE";
  /** A DataPort's credit is spent and nothing was recycled since the last evaluation (WARN). */
  readonly dataPortCreditStuck: "DATAPORT_CREDIT_STUCK";
  /** A ring is full and its reader consumed nothing since the last evaluation (WARN). */
  readonly ringCreditStuck: "RING_CREDIT_STUCK";
  /** An end of a ring is presumed dead (ERROR). */
  readonly ringPeerDead: "RING_PEER_DEAD";
  /** Metric label sets went to an overflow series (WARN). */
  readonly metricsCardinalityOverflow: "METRICS_CARDINALITY_OVERFLOW";
  /** A metric family is over its soft cardinality limit (INFO). */
  readonly metricsCardinalitySoftLimit: "METRICS_CARDINALITY_SOFT_LIMIT";
}

/** Stable fault codes of the built-in detectors (see {@linkcode FaultCodes}). */
export const FAULT_CODES: FaultCodes = Object.freeze({
  deadlineMiss: "DEADLINE_MISS",
  taskRunFailures: "TASK_RUN_FAILURES",
  taskIsolated: "TASK_ISOLATED",
  taskQuarantined: "TASK_QUARANTINED",
  taskFailed: "TASK_FAILED",
  offloadWorkerCrash: "OFFLOAD_WORKER_CRASH",
  offloadWorkerZombie: "OFFLOAD_WORKER_ZOMBIE",
  dataPortCreditStuck: "DATAPORT_CREDIT_STUCK",
  ringCreditStuck: "RING_CREDIT_STUCK",
  ringPeerDead: "RING_PEER_DEAD",
  metricsCardinalityOverflow: "METRICS_CARDINALITY_OVERFLOW",
  metricsCardinalitySoftLimit: "METRICS_CARDINALITY_SOFT_LIMIT",
});

interface Counts {
  misses: number;
  runs: number;
  failures: number;
}

/** Options of {@linkcode taskFaultDetector}. */
export interface TaskFaultDetectorOptions {
  /** The detector's name (the reporting source). @default {"executor"} */
  name?: string;
  /**
   * A task's deadline-miss fault is raised when, since the last evaluation,
   * it missed at least `minMisses` deadlines ...
   *
   * @default {1}
   */
  minMisses?: number;
  /**
   * ... and at least this fraction of its runs, in [0, 1].
   *
   * @default {0}
   */
  minMissRatio?: number;
}

/**
 * Detects task faults from an executor's `stats()`: deadline misses over a
 * threshold, failed runs (both since the last evaluation), the isolate tier,
 * quarantine and a task stopped by its error policy. Faults go to the app
 * whose id is {@linkcode toSovdId} of the task's name.
 *
 * @example A task that misses its deadline
 * ```ts
 * import { Executor } from "@chronetix/core";
 * import { FaultMonitor, taskFaultDetector } from "@chronetix/core/sovd";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * using executor = new Executor({ clock });
 * executor.periodic({ name: "slow", periodMs: 10, deadlineMs: 1, run: () => clock.spend(2) });
 * const monitor = new FaultMonitor({ clock, wallClock: () => 0 });
 * monitor.addDetector(taskFaultDetector(executor));
 * clock.advance(10);
 * monitor.evaluate();
 * assertEquals(monitor.faults("app", "slow").map((f) => f.code), ["DEADLINE_MISS"]);
 * ```
 *
 * @param executor Anything with an executor's `stats()`.
 * @param options Name and thresholds.
 * @returns The detector.
 * @throws {TypeError} when an option has the wrong type.
 * @throws {RangeError} when a threshold is out of range.
 */
export function taskFaultDetector(
  executor: { stats(): ExecutorStats },
  options: TaskFaultDetectorOptions = {},
): FaultDetector {
  const action = "create a task fault detector";
  requireOptions(action, "options", options);
  const name = requireName(action, "name", options.name ?? "executor");
  const minMisses = requireInteger(action, "minMisses", options.minMisses ?? 1, 1, 2 ** 31);
  const minMissRatio = requireNonNegative(action, "minMissRatio", options.minMissRatio ?? 0);
  if (minMissRatio > 1) {
    throw new RangeError(
      `Cannot ${action} as 'minMissRatio' must be <= 1: current value is ${minMissRatio}`,
    );
  }
  // Counters, not the snapshots: a source may hand out objects it updates.
  let previous = new Map<string, Counts>();
  return {
    name,
    detect(report) {
      const next = new Map<string, Counts>();
      for (const t of executor.stats().perTask) {
        next.set(t.name, { misses: t.deadlineMisses, runs: t.runs, failures: t.failures });
        const before = previous.get(t.name);
        const app = (
          code: string,
          severity: FaultCondition["severity"],
          label: string,
          description: string,
          newOccurrences = 0,
        ) =>
          report({
            entityId: toSovdId(t.name),
            entityType: "app",
            code,
            name: label,
            description,
            severity,
            newOccurrences,
            environmentData: {
              task: t.name,
              state: t.state,
              tier: t.tier,
              runs: t.runs,
              deadline_misses: t.deadlineMisses,
              failures: t.failures,
              overruns: t.overruns,
            },
          });
        const misses = t.deadlineMisses - (before?.misses ?? 0);
        const runs = t.runs - (before?.runs ?? 0);
        if (misses >= minMisses && misses >= minMissRatio * Math.max(runs, 1)) {
          app(
            FAULT_CODES.deadlineMiss,
            3,
            "Deadline misses",
            `Task "${t.name}" missed ${misses} deadlines in ${runs} runs`,
            misses,
          );
        }
        const failures = t.failures - (before?.failures ?? 0);
        if (failures > 0 && t.state !== "failed") {
          app(
            FAULT_CODES.taskRunFailures,
            3,
            "Failed runs",
            `Task "${t.name}" failed ${failures} runs: ${t.lastError?.message ?? "no message"}`,
            failures,
          );
        }
        if (t.tier === "isolate" && t.state !== "quarantined") {
          app(
            FAULT_CODES.taskIsolated,
            3,
            "Isolate tier",
            `Task "${t.name}" is at the isolate tier`,
          );
        }
        if (t.state === "quarantined") {
          app(
            FAULT_CODES.taskQuarantined,
            2,
            "Quarantined",
            `Task "${t.name}" ${t.reason ?? "is quarantined"}`,
          );
        }
        if (t.state === "failed") {
          app(FAULT_CODES.taskFailed, 2, "Task failed", `Task "${t.name}" ${t.reason ?? "failed"}`);
        }
      }
      previous = next;
    },
  };
}

/** Where a part's faults go: the entity and the detector's name. */
export interface PartFaultDetectorOptions {
  /** The entity the faults belong to. */
  entityId: string;
  /** Its type. @default {"component"} */
  entityType?: EntityType;
  /** The detector's name (the reporting source). @default {the entity id} */
  name?: string;
}

function part(action: string, options: PartFaultDetectorOptions) {
  requireOptions(action, "options", options);
  if (options === undefined) {
    throw new TypeError(
      `Cannot ${action} as 'options' must be an object: current value is undefined`,
    );
  }
  const entityId = toSovdId(requireName(action, "entityId", options.entityId));
  const entityType = options.entityType ?? "component";
  const name = requireName(action, "name", options.name ?? entityId);
  return { entityId, entityType, name };
}

/**
 * Detects offload pool faults from its `stats()`: workers that crashed, ran
 * out of heap or ended themselves (`OFFLOAD_WORKER_CRASH`, heals), and
 * workers replaced while stuck (`OFFLOAD_WORKER_ZOMBIE`: the thread may run
 * on, so the fault stays passive until a client clears it).
 *
 * @example A zombie worker
 * ```ts
 * import { type OffloadStats } from "@chronetix/core";
 * import { FaultMonitor, offloadFaultDetector } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * const stats = { workersReplaced: 0, stuckWorkers: 0, oomKills: 0, crashed: 0 } as OffloadStats;
 * const monitor = new FaultMonitor({ wallClock: () => 0 });
 * monitor.addDetector(offloadFaultDetector({ stats: () => stats }, { entityId: "offload" }));
 * monitor.evaluate();
 * stats.workersReplaced = 1;
 * stats.stuckWorkers = 1;
 * monitor.evaluate();
 * assertEquals(monitor.faults().map((f) => [f.code, f.severity]), [["OFFLOAD_WORKER_ZOMBIE", 2]]);
 * ```
 *
 * @param pool Anything with an offload pool's `stats()`.
 * @param options The entity the faults belong to.
 * @returns The detector.
 * @throws {TypeError} when an option has the wrong type.
 */
export function offloadFaultDetector(
  pool: { stats(): OffloadStats },
  options: PartFaultDetectorOptions,
): FaultDetector {
  const { entityId, entityType, name } = part("create an offload fault detector", options);
  // Numbers, not the snapshot: a source may hand out one object it updates.
  let crashedBefore = 0;
  let stuckBefore = 0;
  return {
    name,
    detect(report) {
      const s = pool.stats();
      const environmentData = {
        workers_alive: s.workersAlive,
        workers_replaced: s.workersReplaced,
        stuck_workers: s.stuckWorkers,
        oom_kills: s.oomKills,
        crashed_jobs: s.crashed,
      };
      const crashes = s.workersReplaced - s.stuckWorkers - crashedBefore;
      const stuck = s.stuckWorkers - stuckBefore;
      crashedBefore = s.workersReplaced - s.stuckWorkers;
      stuckBefore = s.stuckWorkers;
      const base = { entityId, entityType, environmentData };
      if (crashes > 0) {
        report({
          ...base,
          code: FAULT_CODES.offloadWorkerCrash,
          name: "Worker crash",
          description:
            `${crashes} offload workers crashed and were replaced (${s.oomKills} out of heap in all)`,
          severity: 3,
          newOccurrences: crashes,
        });
      }
      if (stuck > 0) {
        report({
          ...base,
          code: FAULT_CODES.offloadWorkerZombie,
          name: "Zombie worker",
          description:
            `${stuck} offload workers got stuck and were replaced; their threads may still run`,
          severity: 2,
          newOccurrences: stuck,
          healAfterMs: Infinity,
        });
      }
    },
  };
}

/**
 * Detects a DataPort whose credit is stuck: spent, with nothing recycled
 * since the last evaluation (a consumer holding its frames).
 *
 * @example A consumer that never recycles
 * ```ts
 * import { type DataPortStats } from "@chronetix/core";
 * import { dataPortFaultDetector, FaultMonitor } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * const stats = { credit: 0, creditLimit: 4, framesRecycled: 7 } as DataPortStats;
 * const monitor = new FaultMonitor({ wallClock: () => 0 });
 * monitor.addDetector(dataPortFaultDetector({ stats: () => stats }, { entityId: "camera" }));
 * monitor.evaluate(); // the first look only records the counters
 * monitor.evaluate();
 * assertEquals(monitor.faults("component", "camera").map((f) => f.code), ["DATAPORT_CREDIT_STUCK"]);
 * ```
 *
 * @param port Anything with a DataPort's `stats()`.
 * @param options The entity the faults belong to.
 * @returns The detector.
 * @throws {TypeError} when an option has the wrong type.
 */
export function dataPortFaultDetector(
  port: { stats(): DataPortStats },
  options: PartFaultDetectorOptions,
): FaultDetector {
  const { entityId, entityType, name } = part("create a DataPort fault detector", options);
  let recycled: number | undefined;
  return {
    name,
    detect(report) {
      const s = port.stats();
      if (s.credit <= 0 && s.framesRecycled === recycled) {
        report({
          entityId,
          entityType,
          code: FAULT_CODES.dataPortCreditStuck,
          name: "Credit stuck",
          description:
            `DataPort credit is spent (limit ${s.creditLimit}) and no frame was recycled since the last look`,
          severity: 3,
          environmentData: {
            credit_limit: s.creditLimit,
            unreceived: s.unreceived,
            unrecycled: s.unrecycled,
            would_block_credit: s.wouldBlockCredit,
          },
        });
      }
      recycled = s.framesRecycled;
    },
  };
}

/**
 * Detects ring faults: full with nothing consumed since the last
 * evaluation (`RING_CREDIT_STUCK`), and an end presumed dead (`RING_PEER_DEAD`).
 *
 * @example A dead reader
 * ```ts
 * import { type RingStats } from "@chronetix/core";
 * import { FaultMonitor, ringFaultDetector } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * const stats = { credit: 3, framesReceived: 0, writerState: "attached", readerState: "dead" } as RingStats;
 * const monitor = new FaultMonitor({ wallClock: () => 0 });
 * monitor.addDetector(ringFaultDetector({ stats: () => stats }, { entityId: "frames" }));
 * monitor.evaluate();
 * assertEquals(monitor.faults().map((f) => f.code), ["RING_PEER_DEAD"]);
 * ```
 *
 * @param ring Anything with a ring endpoint's `stats()`.
 * @param options The entity the faults belong to.
 * @returns The detector.
 * @throws {TypeError} when an option has the wrong type.
 */
export function ringFaultDetector(
  ring: { stats(): RingStats },
  options: PartFaultDetectorOptions,
): FaultDetector {
  const { entityId, entityType, name } = part("create a ring fault detector", options);
  let received: number | undefined;
  return {
    name,
    detect(report) {
      const s = ring.stats();
      const environmentData = {
        slots: s.slots,
        in_flight: s.inFlight,
        writer_state: s.writerState,
        reader_state: s.readerState,
        would_block: s.wouldBlock,
      };
      if (s.credit <= 0 && s.framesReceived === received) {
        report({
          entityId,
          entityType,
          code: FAULT_CODES.ringCreditStuck,
          name: "Ring full",
          description:
            `The ring is full (${s.slots} slots) and its reader consumed nothing since the last look`,
          severity: 3,
          environmentData,
        });
      }
      received = s.framesReceived;
      const dead = s.writerState === "dead" ? "writer" : s.readerState === "dead" ? "reader" : "";
      if (dead !== "") {
        report({
          entityId,
          entityType,
          code: FAULT_CODES.ringPeerDead,
          name: "Ring end dead",
          description:
            `The ring's ${dead} is presumed dead (no sign of life for ${s.livenessTimeoutMs} ms)`,
          severity: 2,
          environmentData,
        });
      }
    },
  };
}

const OVERFLOW = "chronetix_metrics_overflow_total";
const SOFT = "chronetix_metrics_cardinality_soft_limit_exceeded";

/**
 * Detects metrics cardinality trouble from the registry's self metrics:
 * label sets sent to an overflow series since the last evaluation, and
 * families over their soft limit. A registry made with `selfMetrics: false`
 * reports nothing. It reads through one reused `SampleBuffer`.
 *
 * @example A family past its hard limit
 * ```ts
 * import { MetricsRegistry } from "@chronetix/core";
 * import { FaultMonitor, metricsFaultDetector } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * const registry = new MetricsRegistry({ hardLimit: 1, softLimit: 1 });
 * const family = registry.counter({ name: "chronetix_demo_total", help: "Demo", labelNames: ["k"] });
 * const monitor = new FaultMonitor({ wallClock: () => 0 });
 * monitor.addDetector(metricsFaultDetector(registry, { entityId: "kernel" }));
 * family.labels("a").inc();
 * family.labels("b").inc(); // over the hard limit: the overflow series
 * monitor.evaluate();
 * assertEquals(monitor.faults().map((f) => f.code).includes("METRICS_CARDINALITY_OVERFLOW"), true);
 * ```
 *
 * @param registry The registry.
 * @param options The entity the faults belong to.
 * @returns The detector.
 * @throws {TypeError} when an option has the wrong type.
 */
export function metricsFaultDetector(
  registry: MetricsRegistry,
  options: PartFaultDetectorOptions,
): FaultDetector {
  const { entityId, entityType, name } = part("create a metrics fault detector", options);
  const buffer = new SampleBuffer();
  let before = 0;
  return {
    name,
    detect(report) {
      const n = registry.flattenInto(buffer);
      let overflowed = 0;
      const over: string[] = [];
      const soft: string[] = [];
      for (let i = 0; i < n; i++) {
        const sample = buffer.names[i];
        if (sample === OVERFLOW && buffer.values[i]! > 0) {
          overflowed += buffer.values[i]!;
          over.push(buffer.labels[i]!.family ?? "");
        } else if (sample === SOFT && buffer.values[i]! > 0) {
          soft.push(buffer.labels[i]!.family ?? "");
        }
      }
      const fresh = overflowed - before;
      before = overflowed;
      if (fresh > 0) {
        report({
          entityId,
          entityType,
          code: FAULT_CODES.metricsCardinalityOverflow,
          name: "Cardinality overflow",
          description: `${fresh} label sets went to an overflow series (families: ${
            over.join(", ")
          })`,
          severity: 3,
          newOccurrences: fresh,
          environmentData: { families: over, overflowed_total: overflowed },
        });
      }
      if (soft.length > 0) {
        report({
          entityId,
          entityType,
          code: FAULT_CODES.metricsCardinalitySoftLimit,
          name: "Cardinality soft limit",
          description: `Metric families over their soft cardinality limit: ${soft.join(", ")}`,
          severity: 4,
          environmentData: { families: soft },
        });
      }
    },
  };
}
