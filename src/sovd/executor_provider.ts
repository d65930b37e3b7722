// The executor as an SOVD provider: a component for the executor and an app
// per task, with liveness and timing from a TaskSink (hooks) or a TaskPoller.

import type { DataItem, EntityInfo, EntityStatus, EntityType, Fault } from "./model.ts";
import type { FaultClearResult, Provider } from "./provider.ts";
import { toSovdId } from "./ids.ts";
import { LIVENESS_STATES, type TaskBinding, TaskSink } from "./task_sink.ts";
import { TaskPoller } from "./task_poller.ts";
import type { FaultMonitor } from "./fault_monitor.ts";
import { taskFaultDetector, type TaskFaultDetectorOptions } from "./fault_detectors.ts";
import { count, flag, HERTZ, measure, MICROSECONDS, object, oneOf, text, us } from "./_schema.ts";
import type { ExecutorStats, TaskStats } from "../exec/task.ts";
import { TASK_STATES } from "../exec/task.ts";
import { BUDGET_TIERS } from "../exec/budget.ts";
import { type Clock, MONOTONIC_CLOCK } from "../time/clock.ts";
import { requireInstance, requireName, requireOptions, show } from "../internal/validate.ts";

/** What an {@linkcode ExecutorProvider} reads: an `Executor`, or anything with its `stats()`. */
export interface ExecutorSource {
  /** The executor's snapshot. */
  stats(): ExecutorStats;
  /**
   * Names of the live tasks. An `Executor` has it; without it, listing the
   * tasks takes a whole `stats()` snapshot.
   */
  readonly taskNames?: readonly string[];
  /**
   * One live task, for reading its stats alone. An `Executor` has it;
   * without it, reading one task takes a whole `stats()` snapshot.
   */
  task?(name: string): { stats(): TaskStats } | undefined;
  /** Its driver, whose clock times the polls. */
  readonly driver?: { readonly clock: Clock };
}

/** Options of an {@linkcode ExecutorProvider}. */
export interface ExecutorProviderOptions {
  /** The provider's name (and reporting source). @default {"executor"} */
  name?: string;
  /** The executor component's id. @default {"executor"} */
  componentId?: string;
  /**
   * Where liveness and timing come from: a {@linkcode TaskSink} the
   * executor calls as its hooks. Left out, they are polled from `stats()`.
   */
  sink?: TaskSink;
  /** The clock polls are timed on. @default {the executor's driver clock, else MONOTONIC_CLOCK} */
  clock?: Clock;
  /**
   * A monitor to add the task fault detector to; the provider then answers
   * `faults()` and `clearFault()` from it.
   */
  monitor?: FaultMonitor;
  /** Thresholds of the task fault detector. */
  faults?: Omit<TaskFaultDetectorOptions, "name">;
  /** The area the executor component belongs to. */
  belongsTo?: string;
}

const TIMING_SCHEMA = object({
  executions: count("Runs that ended"),
  last_us: measure("The last run's execution time", MICROSECONDS),
  ewma_us: measure("Execution time, exponentially weighted (1/8)", MICROSECONDS),
  min_us: measure("The shortest execution", MICROSECONDS),
  max_us: measure("The longest execution", MICROSECONDS),
  period_us: measure("Time between run starts", MICROSECONDS),
  rate_hz: measure("Runs per second", HERTZ),
});

const LIVENESS_SCHEMA = object({
  state: oneOf("unknown, running, stopped or error (latched)", LIVENESS_STATES),
  online: flag("Whether the task runs (unknown or running)"),
  starts: count("Lifecycle starts: added, resumed"),
  stops: count("Lifecycle stops"),
  errors: count("Failed runs and stops for an error"),
});

const SCHEDULING_SCHEMA = object({
  task_state: oneOf("The executor's task state", TASK_STATES),
  tier: oneOf("The budget tier", BUDGET_TIERS),
  reason: { type: ["string", "null"], description: "Why it was quarantined or failed" },
  releases: count("Releases, dropped ones included"),
  runs: count("Runs started"),
  failures: count("Runs that failed"),
  retries: count("Retries run"),
  deadline_misses: count("Runs that finished after their deadline"),
  overruns: count("Runs longer than the budget"),
  skipped_ticks: count("Periodic releases skipped after a stall"),
  dropped: count("Releases dropped, every reason"),
  queued: count("Releases waiting now"),
  lateness_p50_us: measure("End minus deadline, median", MICROSECONDS),
  lateness_p99_us: measure("End minus deadline, 99th percentile", MICROSECONDS),
  scheduling_p99_us: measure("Release to start, 99th percentile", MICROSECONDS),
});

const IDENTITY_SCHEMA = object({
  name: text("The task's name"),
  kind: {
    type: ["string", "null"],
    description: "periodic, once, event or schedule (null once removed)",
  },
  component: text("The component it runs on"),
  source: oneOf("Where liveness and timing come from", ["hooks", "polling"]),
});

const SUMMARY_SCHEMA = object({
  tasks: count("Live tasks"),
  runnable: count("Releases queued plus running"),
  deferred: count("Releases deferred"),
  running: count("Async bodies running"),
  runs: count("Runs started, all tasks"),
  deadline_misses: count("Deadline misses, all tasks"),
  failures: count("Failed runs, all tasks"),
  overruns: count("Runs over budget, all tasks"),
  skipped_ticks: count("Skipped periodic releases, all tasks"),
  dropped: count("Dropped releases, all tasks and reasons"),
  scheduling_p99_us: measure("Release to start, 99th percentile", MICROSECONDS),
  execution_p99_us: measure("Execution time, 99th percentile", MICROSECONDS),
});

const BINDING_SCHEMA = object({
  capacity: count("Task slots allocated"),
  used: count("Task slots taken"),
  refused: count("Tasks refused a slot (every slot taken)"),
  unregistered: count("Hook calls for tasks without a slot"),
});

/**
 * The executor as a {@linkcode Provider}: a component (`executor`) and an
 * app per task located on it, id {@linkcode toSovdId} of the task's name.
 * Each app has data items `liveness`, `timing`, `scheduling` (while the task
 * is live) and `identity`; the component has `summary` and, with a sink,
 * `binding`. Liveness and timing come from a {@linkcode TaskSink} when one
 * is given (the executor's hooks; a stopped task stays listed), else from a
 * {@linkcode TaskPoller}. With a monitor it adds {@linkcode taskFaultDetector}
 * and answers faults from it.
 *
 * @example The executor's tree, polled
 * ```ts
 * import { Executor } from "@chronetix/core";
 * import { ExecutorProvider, ProviderRegistry } from "@chronetix/core/sovd";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * using executor = new Executor({ clock });
 * executor.periodic({ name: "motor/left", periodMs: 5, run: () => {} });
 * const registry = new ProviderRegistry();
 * registry.register(new ExecutorProvider(executor));
 * clock.advance(50);
 * assertEquals(registry.entities().map((e) => `${e.type}:${e.id}`), ["component:executor", "app:motor_left"]);
 * const liveness = registry.data("app", "motor_left")!.find((d) => d.id === "liveness")!;
 * assertEquals((liveness.value as { state: string }).state, "running");
 * ```
 */
export class ExecutorProvider implements Provider, Disposable {
  /** The provider's name. */
  readonly name: string;
  /** The executor component's id. */
  readonly componentId: string;
  readonly #executor: ExecutorSource;
  readonly #sink: TaskSink | undefined;
  readonly #poller: TaskPoller;
  readonly #monitor: FaultMonitor | undefined;
  readonly #detector: Disposable | undefined;
  readonly #belongsTo: string | undefined;

  /**
   * Creates the provider (and adds its detector to the monitor, if given).
   *
   * @param executor An `Executor`, or anything with its `stats()`.
   * @param options Names, sink, clock, monitor, thresholds.
   * @throws {TypeError} when `executor` has no `stats()` or an option has the wrong type.
   * @throws {RangeError} when a fault threshold is out of range.
   */
  constructor(executor: ExecutorSource, options: ExecutorProviderOptions = {}) {
    const action = "create an ExecutorProvider";
    requireOptions(action, "options", options);
    if (executor === null || typeof executor?.stats !== "function") {
      throw new TypeError(
        `Cannot ${action} as 'executor' must have a stats() method: current value is ${
          show(executor)
        }`,
      );
    }
    this.name = requireName(action, "name", options.name ?? "executor");
    this.componentId = toSovdId(
      requireName(action, "componentId", options.componentId ?? "executor"),
    );
    this.#belongsTo = options.belongsTo === undefined
      ? undefined
      : toSovdId(requireName(action, "belongsTo", options.belongsTo));
    this.#sink = requireInstance(action, "sink", options.sink, TaskSink);
    this.#executor = executor;
    this.#poller = new TaskPoller(
      executor,
      options.clock ?? executor.driver?.clock ?? MONOTONIC_CLOCK,
    );
    this.#monitor = options.monitor;
    this.#detector = options.monitor?.addDetector(
      taskFaultDetector(executor, { ...options.faults, name: this.name }),
    );
  }

  /** Reads liveness and timing of every task: from the sink, else polled. */
  bindings(): TaskBinding[] {
    return this.#merged().map((m) => m.binding);
  }

  /**
   * The sink's bindings, then polled ones for live tasks the sink has no
   * slot for (an executor that does not call the hooks yet, a full sink).
   * The executor's whole snapshot (every task's latency quantiles) is taken
   * only in that second case: a read of the tree stays cheap.
   */
  #merged(): { binding: TaskBinding; hooks: boolean }[] {
    const hooked = this.#sink?.snapshot() ?? [];
    const out = hooked.map((binding) => ({ binding, hooks: true }));
    const known = new Set(hooked.map((b) => b.name));
    if (this.#liveNames().some((name) => !known.has(name))) {
      for (const binding of this.#poller.bind(this.#executor.stats().perTask)) {
        if (!known.has(binding.name)) out.push({ binding, hooks: false });
      }
    }
    return out;
  }

  /** Names of the executor's live tasks, without a snapshot where it can. */
  #liveNames(): readonly string[] {
    return this.#executor.taskNames ?? this.#executor.stats().perTask.map((t) => t.name);
  }

  /** One live task's stats by its SOVD id, without a snapshot where it can. */
  #taskStats(id: string): TaskStats | undefined {
    if (this.#executor.task === undefined || this.#executor.taskNames === undefined) {
      return this.#executor.stats().perTask.find((t) => toSovdId(t.name) === id);
    }
    const name = this.#executor.taskNames.find((n) => toSovdId(n) === id);
    return name === undefined ? undefined : this.#executor.task(name)?.stats();
  }

  /** The executor component and an app per task. */
  entities(): EntityInfo[] {
    const component: EntityInfo = {
      id: this.componentId,
      name: this.componentId,
      type: "component",
      description: "The EDF executor: runs tasks on time",
      ...(this.#belongsTo === undefined ? {} : { belongsTo: this.#belongsTo }),
    };
    const out: EntityInfo[] = [component];
    for (const name of this.#taskNames()) out.push(this.#app(name));
    return out;
  }

  /**
   * The data items of the component or of a task.
   *
   * @param id The entity's id.
   * @param type The entity's type.
   */
  data(id: string, type: EntityType): DataItem[] {
    if (type === "component" && id === this.componentId) {
      return this.#componentData(this.#executor.stats());
    }
    if (type !== "app") return [];
    const task = this.#taskStats(id);
    const found = this.#merged().find((m) => toSovdId(m.binding.name) === id);
    if (found === undefined) return [];
    return taskData(found.binding, task, this.componentId, found.hooks);
  }

  /**
   * The faults of an entity, from the monitor.
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
   * `ready` for the component; for a task, `ready` while its liveness is
   * `unknown` or `running`.
   *
   * @param id The entity's id.
   * @param type The entity's type.
   */
  status(id: string, type: EntityType): EntityStatus {
    if (type !== "app") return { status: "ready", controls: [] };
    const binding = this.bindings().find((b) => toSovdId(b.name) === id);
    const state = binding?.liveness.state ?? "stopped";
    if (state === "unknown" || state === "running") return { status: "ready", controls: [] };
    const task = this.#taskStats(id);
    return { status: "notReady", controls: [], reason: task?.reason ?? `the task is ${state}` };
  }

  /** Removes the fault detector from the monitor. */
  [Symbol.dispose](): void {
    this.#detector?.[Symbol.dispose]();
  }

  #taskNames(): string[] {
    const names = [...this.#liveNames()];
    if (this.#sink !== undefined) {
      const live = new Set(names);
      for (const b of this.#sink.snapshot()) if (!live.has(b.name)) names.push(b.name);
    }
    return names;
  }

  #app(name: string): EntityInfo {
    const id = toSovdId(name);
    return {
      id,
      name,
      type: "app",
      locatedOn: this.componentId,
      ...(id === name ? {} : { seamId: name }),
    };
  }

  #componentData(s: ExecutorStats): DataItem[] {
    const dropped = sum(s.dropped);
    const items: DataItem[] = [{
      id: "summary",
      name: "Executor summary",
      category: "currentData",
      schema: SUMMARY_SCHEMA,
      value: {
        tasks: s.tasks,
        runnable: s.runnable,
        deferred: s.deferred,
        running: s.running,
        runs: s.runs,
        deadline_misses: s.deadlineMisses,
        failures: s.failures,
        overruns: s.overruns,
        skipped_ticks: s.skippedTicks,
        dropped,
        scheduling_p99_us: us(s.schedulingLatency.p99),
        execution_p99_us: us(s.execution.p99),
      },
    }];
    if (this.#sink !== undefined) {
      items.push({
        id: "binding",
        name: "Executor binding",
        category: "sysInfo",
        schema: BINDING_SCHEMA,
        value: this.#sink.stats(),
      });
    }
    return items;
  }
}

function taskData(
  b: TaskBinding,
  t: TaskStats | undefined,
  component: string,
  hooks: boolean,
): DataItem[] {
  const l = b.liveness;
  const m = b.timing;
  const items: DataItem[] = [
    {
      id: "liveness",
      name: "Liveness",
      category: "currentData",
      schema: LIVENESS_SCHEMA,
      value: {
        state: l.state,
        online: l.state === "unknown" || l.state === "running",
        starts: l.starts,
        stops: l.stops,
        errors: l.errors,
      },
    },
    {
      id: "timing",
      name: "Timing",
      category: "currentData",
      schema: TIMING_SCHEMA,
      value: {
        executions: m.executions,
        last_us: us(m.lastMs),
        ewma_us: us(m.ewmaMs),
        min_us: us(m.minMs),
        max_us: us(m.maxMs),
        period_us: us(m.periodMs),
        rate_hz: m.rateHz,
      },
    },
  ];
  if (t !== undefined) {
    items.push({
      id: "scheduling",
      name: "Scheduling",
      category: "currentData",
      schema: SCHEDULING_SCHEMA,
      value: {
        task_state: t.state,
        tier: t.tier,
        reason: t.reason ?? null,
        releases: t.releases,
        runs: t.runs,
        failures: t.failures,
        retries: t.retries,
        deadline_misses: t.deadlineMisses,
        overruns: t.overruns,
        skipped_ticks: t.skippedTicks,
        dropped: sum(t.dropped),
        queued: t.queued,
        lateness_p50_us: us(t.lateness.p50),
        lateness_p99_us: us(t.lateness.p99),
        scheduling_p99_us: us(t.schedulingLatency.p99),
      },
    });
  }
  items.push({
    id: "identity",
    name: "Identity",
    category: "identData",
    schema: IDENTITY_SCHEMA,
    value: { name: b.name, kind: t?.kind ?? null, component, source: hooks ? "hooks" : "polling" },
  });
  return items;
}

function sum(record: Readonly<Record<string, number>>): number {
  let total = 0;
  for (const value of Object.values(record)) total += value;
  return total;
}
