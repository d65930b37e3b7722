/**
 * The executor: periodic, one-shot and event-triggered tasks run earliest
 * deadline first, with QoS caps, budgets with graduated intervention, and
 * pre-allocated timing slots per task.
 *
 * @module
 */
export {
  BUDGET_TIERS,
  type BudgetPolicy,
  type BudgetTier,
  BudgetTracker,
  resolveBudgetPolicy,
  type ResolvedBudgetPolicy,
} from "./budget.ts";
export {
  BUDGET_TOPIC,
  type BudgetEvent,
  Executor,
  type ExecutorOptions,
  type ExecutorStats,
  type OffloadTarget,
} from "./executor.ts";
export {
  DROP_REASONS,
  type DropReason,
  ERROR_POLICIES,
  type ErrorPolicy,
  type EventTaskOptions,
  type OneShotTaskOptions,
  OVERFLOW_POLICIES,
  type OverflowPolicy,
  type PeriodicTaskOptions,
  TASK_STATES,
  type TaskBody,
  type TaskContext,
  type TaskHandle,
  type TaskOffload,
  type TaskOptions,
  type TaskState,
  type TaskStats,
} from "./task.ts";
export { TimingSlot, type TimingSnapshot } from "./timing_slot.ts";
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
