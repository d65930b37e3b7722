/**
 * The executor: periodic, one-shot and event-triggered tasks run earliest
 * deadline first, with QoS caps, budgets with graduated intervention, and
 * pre-allocated timing slots per task.
 *
 * @module
 */
export type { BudgetPolicy, BudgetTier } from "./budget.ts";
export {
  BUDGET_TOPIC,
  type BudgetEvent,
  Executor,
  type ExecutorOptions,
  type ExecutorStats,
} from "./executor.ts";
export type {
  DropReason,
  ErrorPolicy,
  EventTaskOptions,
  OneShotTaskOptions,
  OverflowPolicy,
  PeriodicTaskOptions,
  TaskBody,
  TaskContext,
  TaskHandle,
  TaskOffload,
  TaskOptions,
  TaskState,
  TaskStats,
} from "./task.ts";
export {
  type OffloadCloseReport,
  OffloadJobError,
  OffloadPool,
  type OffloadPoolOptions,
  OffloadQueueFullError,
  type OffloadStats,
  OffloadTimeoutError,
  type SubmitOptions,
} from "./offload_pool.ts";
