/**
 * `@chronetix/core/cli`: what `chronetix run` and `chronetix check` are made
 * of, for embedding: load and validate a config file, start everything it
 * describes, check it without starting anything, and the types a config's
 * scripts use.
 *
 * @example Validating a config and reading its problems
 * ```ts
 * import { ConfigError, validateConfig } from "@chronetix/core/cli";
 * import { assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
 *
 * const error = await assertRejects(() =>
 *   validateConfig({
 *     tasks: [{ name: "tick", kind: "periodic", periodMs: "x", module: "./tasks.ts" }],
 *   })
 * );
 * assertInstanceOf(error, ConfigError);
 * assertEquals(error.problems, [
 *   'tasks[0].periodMs must be a number >= 0.001: current value is "x"',
 * ]);
 * ```
 *
 * @module
 */
export {
  CONFIG_SCHEMA,
  ConfigError,
  type ConfigErrorCode,
  loadConfig,
  resolveConfigPath,
  validateConfig,
  type ValidateConfigOptions,
} from "./config.ts";
export type {
  ChronetixConfig,
  CronTaskConfig,
  DataPortConfig,
  EventTaskConfig,
  ExecutorConfig,
  IslandConfig,
  IslandTaskConfig,
  KernelConfig,
  LoadedConfig,
  OffloadConfig,
  PeriodicTaskConfig,
  ServerConfig,
  TaskConfig,
  TaskConfigBase,
} from "./config_types.ts";
export { runConfig, type RunConfigOptions, type RunHandle } from "./run.ts";
export { checkConfig, type CheckConfigOptions, type CheckItem } from "./check.ts";
export { formatShutdownReport } from "./shutdown_report.ts";
export type { ScriptContext, ScriptHooks, ScriptMain } from "./script_types.ts";
export type {
  StartStatusTable,
  StatusTable,
  StatusTableOptions,
  StatusTableSource,
} from "./status_types.ts";
export {
  createStatusTable,
  type CreateStatusTableOptions,
  type LiveStatusTable,
  type RunStatusTable,
  startStatusTable,
  type StatusFaultSource,
} from "./status_table.ts";
