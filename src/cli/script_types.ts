// What a config's `scripts` get: the ScriptContext their default export is
// called with once everything started, and the hooks they may return.

import type { Kernel } from "../kernel.ts";
import type { ShutdownReport } from "../kernel_types.ts";
import type { OffloadPool } from "../exec/offload_pool.ts";
import type { DataPort } from "../data/data_port.ts";
import type { ServeHandle } from "../server/serve.ts";

/** What a script's default export gets: the running system and a way to end it. */
export interface ScriptContext {
  /** The running kernel. */
  readonly kernel: Kernel<OffloadPool | undefined>;
  /** The diagnostics server, when the config has one. */
  readonly server: ServeHandle | undefined;
  /** The data ports of the config's `dataPorts`, by name. */
  readonly dataPorts: ReadonlyMap<string, DataPort>;
  /** The config file. */
  readonly configUrl: URL;
  /** Aborted when the shutdown begins. */
  readonly signal: AbortSignal;
  /**
   * Prints a line on stdout.
   *
   * @param line The line.
   */
  print(line: string): void;
  /**
   * Asks for the graceful shutdown, as SIGTERM does.
   *
   * @param reason Why, printed with the shutdown.
   */
  stop(reason?: string): void;
}

/** What a script may return: called around the shutdown. */
export interface ScriptHooks {
  /** Called when the shutdown begins, before the server and the kernel stop. */
  beforeShutdown?(): void | Promise<void>;
  /**
   * Called after the kernel stopped, with its report. A hook that throws
   * (here or in `beforeShutdown`) is logged and makes `chronetix run` exit 1
   * after the report: the way a script fails the run when its end-of-run
   * checks do not hold.
   *
   * @param report What the shutdown cut off.
   */
  afterShutdown?(report: ShutdownReport): void | Promise<void>;
}

/** The default export of a script module. */
export type ScriptMain = (
  ctx: ScriptContext,
) => void | ScriptHooks | Promise<void | ScriptHooks>;
