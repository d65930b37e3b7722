// The shared part of the reload fixtures: a consumer of topic "seq" that
// counts what it receives and records it in a log the test reads. The log
// lives on globalThis, so fresh imports of a fixture (new module instances)
// share it.
import { definePlugin, type Plugin } from "../../../../src/plugin/author.ts";

/** One delivery: which version of the plugin got which event. */
export interface Delivery {
  version: string;
  /** Which instance (1, 2, ... over the process). */
  instance: number;
  event: number;
}

let instances = 0;

/** What the fixtures record, by plugin name. */
export interface ReloadLog {
  deliveries: Delivery[];
  /** Counters each instance ended with (exportState). */
  exported: number[];
  /** Resolved by the test to let a pending exportState finish. */
  holdExport: Promise<void> | undefined;
}

const LOGS = ((globalThis as Record<string, unknown>).__chronetixReloadLogs ??= new Map()) as Map<
  string,
  ReloadLog
>;

/** The log of plugin `name`. */
export function reloadLog(name: string): ReloadLog {
  let log = LOGS.get(name);
  if (log === undefined) {
    LOGS.set(name, log = { deliveries: [], exported: [], holdExport: undefined });
  }
  return log;
}

/** Options of a consumer fixture. */
export interface ConsumerOptions {
  stateVersion: number;
  /** Turns a handed-over state into a count, or throws to refuse it. */
  accept?: (version: number, value: unknown) => number;
  /** Extra work in init (a data port, a failing init ...). */
  init?: (ctx: Parameters<NonNullable<Plugin["init"]>>[0]) => void;
}

/** A consumer plugin of topic "seq". */
export function consumer(options: ConsumerOptions): Plugin {
  let count = 0;
  return definePlugin({
    stateVersion: options.stateVersion,
    init(ctx) {
      count = 0;
      const instance = ++instances;
      const log = reloadLog(ctx.name);
      ctx.subscribe<number>("seq", (event) => {
        count++;
        log.deliveries.push({ version: ctx.version, instance, event });
      });
      options.init?.(ctx);
    },
    async exportState(ctx) {
      const log = reloadLog(ctx.name);
      if (log.holdExport !== undefined) await log.holdExport;
      log.exported.push(count);
      return { count };
    },
    importState(state) {
      count = options.accept
        ? options.accept(state.version ?? 0, state.value)
        : (state.value as { count: number }).count;
    },
  });
}
