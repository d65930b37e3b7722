// The contract between `chronetix run` and the live status table
// (src/cli/status_table.ts): what the table reads and how it prints.

import type { Kernel } from "../kernel.ts";
import type { OffloadPool } from "../exec/offload_pool.ts";
import type { DataPort } from "../data/data_port.ts";
import type { ServeHandle } from "../server/serve.ts";

/** What the status table reads each interval. */
export interface StatusTableSource {
  /** The running kernel. */
  readonly kernel: Kernel<OffloadPool | undefined>;
  /** The diagnostics server, when there is one. */
  readonly server: ServeHandle | undefined;
  /** The config's data ports, by name. */
  readonly dataPorts: ReadonlyMap<string, DataPort>;
}

/** How the status table prints. */
export interface StatusTableOptions {
  /** How often it prints, ms. */
  intervalMs: number;
  /** Prints one line on stdout. */
  print: (line: string) => void;
}

/** A running status table. */
export interface StatusTable {
  /** Stops printing. Idempotent. */
  stop(): void;
}

/** The export `src/cli/status_table.ts` provides: `startStatusTable(source, options)`. */
export type StartStatusTable = (
  source: StatusTableSource,
  options: StatusTableOptions,
) => StatusTable;
