/**
 * The executor: periodic, one-shot and event-triggered tasks run earliest
 * deadline first, with QoS caps, budgets with graduated intervention, and
 * pre-allocated latency histograms per task; the offload pool for CPU-heavy
 * jobs on Workers.
 *
 * @module
 */
export { BUDGET_TOPIC, type BudgetEvent, type BudgetPolicy, type BudgetTier } from "./budget.ts";
export { Executor, type ExecutorCloseReport, type ExecutorOptions } from "./executor.ts";
export type { ExecutorHooks } from "./hooks.ts";
export type {
  DropReason,
  ErrorPolicy,
  EventTaskOptions,
  ExecutorStats,
  OneShotTaskOptions,
  OverflowPolicy,
  PeriodicTaskOptions,
  PlanStep,
  ReleasePlan,
  ScheduleTaskOptions,
  TaskBody,
  TaskContext,
  TaskHandle,
  TaskOffload,
  TaskOptions,
  TaskState,
  TaskStats,
} from "./task.ts";
export { OffloadPool } from "./offload_pool.ts";
export type {
  OffloadCloseOptions,
  OffloadCloseReport,
  OffloadPoolOptions,
  OffloadStats,
  SubmitOptions,
} from "./offload_types.ts";
