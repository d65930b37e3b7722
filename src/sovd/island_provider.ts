// The real-time islands of a kernel as SOVD apps on the kernel component:
// per-task timing read from each island's shared memory (island.stats()),
// faults from crashes, stuck threads, a failed island and quarantined tasks,
// and the restart / shutdown status controls.

import type {
  ControlResult,
  DataItem,
  EntityInfo,
  EntityStatus,
  EntityType,
  Fault,
  StatusControl,
} from "./model.ts";
import type { FaultClearResult, Provider } from "./provider.ts";
import type { FaultDetector, FaultMonitor } from "./fault_monitor.ts";
import { islandFaults, type Seen } from "./_island_faults.ts";
import { SOVD_ID_MAX_LENGTH, toSovdId } from "./ids.ts";
import { LIVENESS_STATES } from "./task_sink.ts";
import { TaskPoller } from "./task_poller.ts";
import { count, HERTZ, measure, MICROSECONDS, object, oneOf, text, us } from "./_schema.ts";
import type {
  IslandCloseOptions,
  IslandCloseReport,
  IslandState,
  IslandStats,
} from "../island/island_types.ts";
import type { ExecutorStats, TaskStats } from "../exec/task.ts";

export { ISLAND_FAULT_CODES, type IslandFaultCodes } from "./_island_faults.ts";
import { TASK_STATES } from "../exec/task.ts";
import { BUDGET_TIERS } from "../exec/budget.ts";
import { type Clock, MONOTONIC_CLOCK, requireClock } from "../time/clock.ts";
import { CONSOLE_LOGGER, type Logger } from "../logger.ts";
import {
  requireLogger,
  requireName,
  requireNonNegative,
  requireOptions,
  show,
} from "../internal/validate.ts";

/** What an {@linkcode IslandProvider} reads and controls: an `Island`, or anything shaped like one. */
export interface IslandSource {
  /** The island's name. */
  readonly name: string;
  /** Where it is. */
  readonly state: IslandState;
  /** Its snapshot, read from shared memory. */
  stats(): IslandStats;
  /** Stops it (the `shutdown` and `force-shutdown` controls). */
  close(options?: IslandCloseOptions): Promise<IslandCloseReport>;
  /**
   * Restarts its thread in place, keeping its shared values and rings (the
   * `restart` control). Left out: `restart` is not offered (`501`).
   */
  restart?(options?: IslandCloseOptions): Promise<unknown>;
}

/** Where an {@linkcode IslandProvider} finds the islands: a `Kernel` (`kernel.islands`), or any list. */
export interface IslandsSource {
  /** The islands running now. */
  readonly islands: readonly IslandSource[];
}

/** Options of an {@linkcode IslandProvider}. */
export interface IslandProviderOptions {
  /** The provider's name (and reporting source). @default {"islands"} */
  name?: string;
  /** The component the island apps are located on. @default {"kernel"} */
  componentId?: string;
  /** A monitor to add the island fault detector to; faults are answered from it. */
  monitor?: FaultMonitor;
  /**
   * The grace period of the `shutdown` and `restart` controls, ms
   * (`force-shutdown` has none).
   *
   * @default {5000}
   */
  graceMs?: number;
  /** The clock the rate of each task is measured on (islands run on real time). @default {MONOTONIC_CLOCK} */
  clock?: Clock;
  /** Where a control that failed is reported. @default {CONSOLE_LOGGER} */
  logger?: Logger;
  /** The area the island apps belong to. */
  belongsTo?: string;
}

const ISLAND_STATES: readonly IslandState[] = [
  "starting",
  "running",
  "restarting",
  "failed",
  "closing",
  "closed",
];

const nullableText = (description: string) => ({ type: ["string", "null"], description });

const ISLAND_SCHEMA = object({
  state: oneOf("Where the island is", ISLAND_STATES),
  lead_us: measure("The least spin lead before each release", MICROSECONDS),
  current_lead_us: measure("The spin lead the island's thread uses now", MICROSECONDS),
  scheduling: oneOf("The OS policy of the island's thread: realtime (SCHED_FIFO) or normal", [
    "realtime",
    "normal",
  ]),
  restarts: count("Threads started after a crash or a restart"),
  crashes: count("Crashes: load failures, uncaught errors, out of memory, hangs"),
  stuck_threads: count("Threads terminated while stuck in synchronous code"),
  runs: count("Runs started, all tasks"),
  failures: count("Runs that threw, all tasks"),
  deadline_misses: count("Runs that ended after their deadline, all tasks"),
  overruns: count("Runs over budget, all tasks"),
  last_error: nullableText("The last crash"),
  last_error_code: nullableText("The code of the last crash (E_ISLAND_*)"),
});

const TASK_SCHEMA = object({
  name: text("The task's name (its function in the island's module)"),
  liveness: oneOf("unknown, running, stopped or error (latched)", LIVENESS_STATES),
  task_state: oneOf("The task's state", TASK_STATES),
  tier: oneOf("The budget tier", BUDGET_TIERS),
  reason: nullableText("Why it was quarantined or failed"),
  executions: count("Runs that ended"),
  last_us: measure("The last run's execution time", MICROSECONDS),
  ewma_us: measure("Execution time, exponentially weighted (1/8)", MICROSECONDS),
  min_us: measure("The shortest execution", MICROSECONDS),
  max_us: measure("The longest execution", MICROSECONDS),
  execution_p99_us: measure("Execution time, 99th percentile", MICROSECONDS),
  period_us: measure("Time between runs, measured between reads", MICROSECONDS),
  rate_hz: measure("Runs per second, measured between reads", HERTZ),
  runs: count("Runs started"),
  failures: count("Runs that threw"),
  deadline_misses: count("Runs that ended after their deadline"),
  overruns: count("Runs over the budget"),
  skipped_ticks: count("Releases skipped after a stall"),
  lateness_p50_us: measure("End minus deadline, median", MICROSECONDS),
  lateness_p99_us: measure("End minus deadline, 99th percentile", MICROSECONDS),
  scheduling_p99_us: measure("Release to start, 99th percentile", MICROSECONDS),
  last_error: nullableText("The last run failure"),
});

const IDENTITY_SCHEMA = object({
  name: text("The island's name"),
  component: text("The component it runs beside"),
  tasks: { type: "array", items: { type: "string" }, description: "Its tasks" },
});

/** The executor of a poller used through `bind()` only: it never polls. */
const NO_EXECUTOR = {
  stats(): ExecutorStats {
    throw new TypeError("Cannot poll an island's tasks through an executor");
  },
};

/** Closed islands kept in the tree (as `notReady`) at most, the oldest forgotten first. */
const MAX_KEPT = 256;

/**
 * The real-time islands as a {@linkcode Provider}: an app per island (id
 * {@linkcode toSovdId} of its name), located on the kernel component. Data:
 * `island` (state, restarts, crashes, totals), one item per task
 * (`task-<name>`: liveness, timing with period and rate, lateness,
 * failures, tier) and `identity`; all read from the island's shared memory,
 * never by a message to it. Status: `ready` while running; controls
 * `shutdown`, `force-shutdown` and, when the island has a `restart()`,
 * `restart` (each accepted at once, run without waiting: `202` on the
 * wire). Islands are read from the source at every read, so an island
 * started later appears by itself; a closed one stays listed as `notReady`
 * until one of its name starts again. With a monitor it raises
 * `ISLAND_CRASH`, `ISLAND_THREAD_STUCK`, `ISLAND_FAILED` and, over the
 * island's tasks, `DEADLINE_MISS`, `TASK_RUN_FAILURES`, `TASK_QUARANTINED`
 * and `TASK_FAILED`.
 *
 * @example A kernel's islands in the tree
 * ```ts
 * import { Kernel } from "@chronetix/core";
 * import { IslandProvider, kernelProvider, ProviderRegistry } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * await using kernel = await Kernel.start();
 * const registry = new ProviderRegistry();
 * registry.register(kernelProvider(kernel));
 * registry.register(new IslandProvider(kernel));
 * const module = "data:text/javascript,export function loop() {}";
 * await kernel.island({ name: "control", module, tasks: [{ name: "loop", periodMs: 2 }] });
 * assertEquals(registry.relations("component", "kernel")?.hosts.map((e) => e.id), ["control"]);
 * assertEquals(registry.status("app", "control")?.controls, ["restart", "shutdown", "force-shutdown"]);
 * assertEquals(registry.data("app", "control")!.map((d) => d.id), ["island", "task-loop", "identity"]);
 * await kernel.shutdown();
 * assertEquals(registry.status("app", "control")?.status, "notReady"); // closed, still listed
 * ```
 */
export class IslandProvider implements Provider, Disposable {
  /** The provider's name. */
  readonly name: string;
  /** The component the island apps are located on. */
  readonly componentId: string;
  readonly #source: IslandsSource;
  readonly #known = new Map<string, IslandSource>();
  readonly #pollers = new WeakMap<IslandSource, TaskPoller>();
  readonly #monitor: FaultMonitor | undefined;
  readonly #detector: Disposable | undefined;
  readonly #graceMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #belongsTo: string | undefined;

  /**
   * Creates the provider (and adds its detector to the monitor, if given).
   *
   * @param source A `Kernel`, or anything with a list of islands in `islands`.
   * @param options Names, monitor, grace period, clock, logger, area.
   * @throws {TypeError} when `source` has no `islands` list or an option has the wrong type.
   * @throws {RangeError} when `graceMs` is negative or not finite.
   */
  constructor(source: IslandsSource, options: IslandProviderOptions = {}) {
    const action = "create an IslandProvider";
    requireOptions(action, "options", options);
    if (source === null || typeof source !== "object" || !Array.isArray(source.islands)) {
      throw new TypeError(
        `Cannot ${action} as 'source' must have an 'islands' array (a Kernel): current value is ${
          show(source)
        }`,
      );
    }
    this.name = requireName(action, "name", options.name ?? "islands");
    this.componentId = toSovdId(
      requireName(action, "componentId", options.componentId ?? "kernel"),
    );
    this.#belongsTo = options.belongsTo === undefined
      ? undefined
      : toSovdId(requireName(action, "belongsTo", options.belongsTo));
    this.#graceMs = requireNonNegative(action, "graceMs", options.graceMs ?? 5000);
    this.#clock = options.clock === undefined
      ? MONOTONIC_CLOCK
      : requireClock(action, "clock", options.clock);
    this.#logger = requireLogger(action, "logger", options.logger ?? CONSOLE_LOGGER);
    this.#source = source;
    this.#monitor = options.monitor;
    this.#detector = options.monitor?.addDetector(this.#faultDetector());
  }

  /** An app per island, running or kept after it closed. */
  entities(): EntityInfo[] {
    return this.#islands().map((island) => {
      const id = toSovdId(island.name);
      return {
        id,
        name: island.name,
        type: "app",
        locatedOn: this.componentId,
        description: "A real-time island: periodic tasks on their own thread",
        ...(id === island.name ? {} : { seamId: island.name }),
        ...(this.#belongsTo === undefined ? {} : { belongsTo: this.#belongsTo }),
      };
    });
  }

  /**
   * The data items of an island: `island`, one `task-<name>` per task, `identity`.
   *
   * @param id The entity's id.
   * @param type The entity's type.
   */
  data(id: string, type: EntityType): DataItem[] {
    const island = this.#find(id, type);
    if (island === undefined) return [];
    const s = island.stats();
    const items: DataItem[] = [{
      id: "island",
      name: "Island",
      category: "currentData",
      schema: ISLAND_SCHEMA,
      value: {
        state: s.state,
        lead_us: s.leadUs,
        current_lead_us: s.currentLeadUs,
        scheduling: s.scheduling,
        restarts: s.restarts,
        crashes: s.crashes,
        stuck_threads: s.stuckThreads,
        runs: s.runs,
        failures: s.failures,
        deadline_misses: s.deadlineMisses,
        overruns: s.overruns,
        last_error: s.lastError?.message ?? null,
        last_error_code: s.lastErrorCode ?? null,
      },
    }];
    let poller = this.#pollers.get(island);
    if (poller === undefined) {
      poller = new TaskPoller(NO_EXECUTOR, this.#clock);
      this.#pollers.set(island, poller);
    }
    const bindings = poller.bind(s.perTask);
    const taken = new Set<string>();
    s.perTask.forEach((t, i) => {
      const itemId = `task-${toSovdId(t.name)}`.slice(0, SOVD_ID_MAX_LENGTH);
      if (taken.has(itemId)) return;
      taken.add(itemId);
      items.push(taskItem(itemId, t, bindings[i]!));
    });
    items.push({
      id: "identity",
      name: "Identity",
      category: "identData",
      schema: IDENTITY_SCHEMA,
      value: {
        name: island.name,
        component: this.componentId,
        tasks: s.perTask.map((t) => t.name),
      },
    });
    return items;
  }

  /**
   * The faults of an island, from the monitor.
   *
   * @param id The entity's id.
   * @param type The entity's type.
   */
  faults(id: string, type: EntityType): Fault[] {
    return this.#monitor?.faults(type, id) ?? [];
  }

  /**
   * Clears a passive fault through the monitor.
   *
   * @param id The entity's id.
   * @param type The entity's type.
   * @param code The fault's code.
   */
  clearFault(id: string, type: EntityType, code: string): FaultClearResult {
    return this.#monitor?.clear(type, id, code) ?? "unknown";
  }

  /**
   * `ready` while the island runs, else `notReady` with its state and last
   * crash; the controls it offers now.
   *
   * @param id The entity's id.
   * @param type The entity's type.
   */
  status(id: string, type: EntityType): EntityStatus {
    const island = this.#find(id, type);
    if (island === undefined) return { status: "notReady", controls: [], reason: "no such island" };
    const state = island.state;
    const controls: StatusControl[] = [];
    if (state !== "closing" && state !== "closed") {
      if (typeof island.restart === "function") controls.push("restart");
      controls.push("shutdown", "force-shutdown");
    }
    if (state === "running") return { status: "ready", controls };
    const error = state === "closed" || state === "closing"
      ? undefined
      : island.stats().lastError?.message;
    return {
      status: "notReady",
      controls,
      reason: `the island is ${state}${error === undefined ? "" : `: ${error}`}`,
    };
  }

  /**
   * Runs a control of an island without waiting for it: `restart` (its
   * `restart()`), `shutdown` (`close()` with the grace period),
   * `force-shutdown` (`close()` with none). A failure is logged.
   *
   * @param id The entity's id.
   * @param type The entity's type.
   * @param control The control.
   * @returns `accepted`, or `unsupported` when the island does not offer it now.
   */
  control(id: string, type: EntityType, control: StatusControl): ControlResult {
    const island = this.#find(id, type);
    if (island === undefined || !this.status(id, type).controls.includes(control)) {
      return "unsupported";
    }
    let done: Promise<unknown>;
    try {
      done = control === "restart"
        ? island.restart!({ graceMs: this.#graceMs })
        : island.close({ graceMs: control === "shutdown" ? this.#graceMs : 0 });
    } catch (error) {
      done = Promise.reject(error);
    }
    Promise.resolve(done).catch((error) => {
      try {
        this.#logger.error(
          `Cannot ${control} island "${island.name}": ${
            error instanceof Error ? error.message : show(error)
          }`,
        );
      } catch {
        // A throwing logger loses the line.
      }
    });
    return "accepted";
  }

  /** Removes the fault detector from the monitor. */
  [Symbol.dispose](): void {
    this.#detector?.[Symbol.dispose]();
  }

  /** The islands of the source now, then closed ones still kept, in first-seen order. */
  #islands(): IslandSource[] {
    const known = this.#known;
    for (const island of this.#source.islands) {
      if (known.get(island.name) !== island) known.set(island.name, island);
    }
    if (known.size > MAX_KEPT) {
      const live = new Set(this.#source.islands);
      for (const [name, island] of known) {
        if (known.size <= MAX_KEPT) break;
        if (!live.has(island)) known.delete(name);
      }
    }
    return [...known.values()];
  }

  #find(id: string, type: EntityType): IslandSource | undefined {
    if (type !== "app") return undefined;
    return this.#islands().find((island) => toSovdId(island.name) === id);
  }

  #faultDetector(): FaultDetector {
    const seen = new WeakMap<IslandSource, Seen>();
    return {
      name: this.name,
      detect: (report) => {
        for (const island of this.#islands()) {
          const s = island.stats();
          const before = seen.get(island) ?? { crashes: 0, stuck: 0, misses: 0, failures: 0 };
          seen.set(island, {
            crashes: s.crashes,
            stuck: s.stuckThreads,
            misses: s.deadlineMisses,
            failures: s.failures,
          });
          islandFaults(s, before, report);
        }
      },
    };
  }
}

function taskItem(
  id: string,
  t: TaskStats,
  b: { liveness: { state: string }; timing: { periodMs: number; rateHz: number } },
): DataItem {
  const e = t.execution;
  return {
    id,
    name: `Task ${t.name}`,
    category: "currentData",
    schema: TASK_SCHEMA,
    value: {
      name: t.name,
      liveness: b.liveness.state,
      task_state: t.state,
      tier: t.tier,
      reason: t.reason ?? null,
      executions: e.count,
      last_us: us(e.last),
      ewma_us: us(e.ewma),
      min_us: us(e.min),
      max_us: us(e.max),
      execution_p99_us: us(e.p99),
      period_us: us(b.timing.periodMs),
      rate_hz: b.timing.rateHz,
      runs: t.runs,
      failures: t.failures,
      deadline_misses: t.deadlineMisses,
      overruns: t.overruns,
      skipped_ticks: t.skippedTicks,
      lateness_p50_us: us(t.lateness.p50),
      lateness_p99_us: us(t.lateness.p99),
      scheduling_p99_us: us(t.schedulingLatency.p99),
      last_error: t.lastError?.message ?? null,
    },
  };
}
