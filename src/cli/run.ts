// runConfig(): a kernel started from a validated config: tasks from module
// exports, islands, plugins (with their data ports), the diagnostics server,
// the status table and the scripts; then a graceful shutdown on request.

import { Kernel } from "../kernel.ts";
import type { ShutdownReport } from "../kernel_types.ts";
import type { OffloadPool } from "../exec/offload_pool.ts";
import { DataPort } from "../data/data_port.ts";
import { MetricsRegistry } from "../metrics/registry.ts";
import { CONSOLE_LOGGER, type Logger } from "../logger.ts";
import type { PluginManifest, ResolvedManifest } from "../plugin/manifest_types.ts";
import { serve, type ServeHandle, type ServeOptions } from "../server/serve.ts";
import { ConfigError, resolveConfigPath } from "./config.ts";
import { fieldProblem } from "./_config_checks.ts";
import type { LoadedConfig, TaskConfig } from "./config_types.ts";
import { importConfigModules, type ResolvedTask } from "./_run_modules.ts";
import { startStatusTable } from "./status_table.ts";
import type { ScriptContext, ScriptHooks } from "./script_types.ts";

/** Options of {@linkcode runConfig}. */
export interface RunConfigOptions {
  /** Hot reload of every plugin on file change, whatever the config says. @default {the config's `watch`} */
  watch?: boolean;
  /** Where lines for people go (server address, status, script output). @default {console.log} */
  print?: (line: string) => void;
  /** The kernel's logger. @default {console} */
  logger?: Logger;
}

/** A running config: its kernel, server and data ports, and the way down. */
export interface RunHandle extends AsyncDisposable {
  /** The kernel. */
  readonly kernel: Kernel<OffloadPool | undefined>;
  /** The diagnostics server, when the config has one. */
  readonly server: ServeHandle | undefined;
  /** The config's data ports, by name. */
  readonly dataPorts: ReadonlyMap<string, DataPort>;
  /** Resolves with the reason when a script (or {@linkcode RunHandle.stop}) asked for the shutdown. */
  readonly stopRequested: Promise<string>;
  /**
   * Asks for the graceful shutdown: resolves `stopRequested`.
   *
   * @param reason Why.
   */
  stop(reason?: string): void;
  /**
   * Shuts down gracefully within the config's `shutdown.graceMs`: the
   * scripts' signal aborts and their `beforeShutdown` hooks run, the server
   * stops, the kernel shuts down, the data ports close, then the
   * `afterShutdown` hooks run. Idempotent.
   *
   * @returns The kernel's shutdown report.
   */
  shutdown(): Promise<ShutdownReport>;
  /**
   * The live status table's summary of the run (config `status.table`),
   * taken when the shutdown began; empty without the table.
   *
   * @returns The lines, to print after the shutdown report.
   */
  summary(): string[];
  /**
   * What the scripts' `beforeShutdown`/`afterShutdown` hooks threw, one
   * message each, in order: `chronetix run` exits 1 when there is any (a
   * script's end-of-run check failed).
   */
  readonly scriptFailures: readonly string[];
  /**
   * Stops at once (`kernel.emergencyStop()`): what a second signal does.
   *
   * @returns The kernel's report.
   */
  emergencyStop(): ShutdownReport;
}

/**
 * Starts everything a validated config describes (see docs/cli.md) and
 * returns at once; nothing stops until {@linkcode RunHandle.shutdown}.
 * Task modules and scripts are imported first: a missing export is a
 * `ConfigError` before the kernel starts. A plugin that fails to load shuts
 * the kernel down and rejects.
 *
 * @example Running a config with one task
 * ```ts
 * import { runConfig, validateConfig } from "@chronetix/core/cli";
 * import { assertEquals } from "@std/assert";
 *
 * const folder = await Deno.realPath(await Deno.makeTempDir({ dir: "." }));
 * try {
 *   await Deno.writeTextFile(`${folder}/tasks.ts`, "export function tick() {}\n");
 *   const loaded = await validateConfig(
 *     { tasks: [{ name: "tick", kind: "periodic", periodMs: 50, module: "./tasks.ts" }] },
 *     { configUrl: new URL(`file://${folder}/chronetix.json`) },
 *   );
 *   const run = await runConfig(loaded, { print: () => {} });
 *   assertEquals(run.kernel.stats().executor.tasks, 1);
 *   const report = await run.shutdown();
 *   assertEquals(report.graceful, true);
 * } finally {
 *   await Deno.remove(folder, { recursive: true });
 * }
 * ```
 *
 * @param loaded A config from `loadConfig()` or `validateConfig()`.
 * @param options Watch mode, output and logger.
 * @returns The running config.
 * @throws {ConfigError} (as a rejection) when a module or export the config names is missing.
 */
export async function runConfig(
  loaded: LoadedConfig,
  options: RunConfigOptions = {},
): Promise<RunHandle> {
  const config = loaded.config;
  const print = options.print ?? ((line: string) => console.log(line));
  const logger = options.logger ?? CONSOLE_LOGGER;
  const modules = await importConfigModules(loaded);
  const metrics = new MetricsRegistry({ logger });
  const ports = new Map<string, DataPort>();
  const portUsers = new Map<string, readonly string[]>();
  for (const port of config.dataPorts ?? []) {
    ports.set(
      port.name,
      new DataPort({
        name: port.name,
        credit: port.credit,
        lowWatermark: port.lowWatermark,
        metrics,
        logger,
      }),
    );
    portUsers.set(port.name, [port.producer, port.consumer]);
  }
  const closePorts = () => {
    for (const port of ports.values()) port.close();
  };
  let kernel: Kernel<OffloadPool | undefined>;
  try {
    const k = config.kernel ?? {};
    const offload = k.offload === undefined ? undefined : {
      ...k.offload,
      jobs: Object.fromEntries(
        Object.entries(k.offload.jobs).map(([job, path]) => [
          job,
          resolveConfigPath(loaded.url, path).href,
        ]),
      ),
    };
    kernel = await part(loaded, "kernel", () =>
      Kernel.start({
        name: k.name,
        profile: k.profile,
        busQueueCap: k.busQueueCap,
        defaultMetrics: k.defaultMetrics,
        executor: k.executor,
        offload,
        metrics,
        logger,
        pluginOptions: {
          dataPorts: (plugin, name) =>
            portUsers.get(name)?.includes(plugin) === true ? ports.get(name) : undefined,
        },
      }));
  } catch (error) {
    closePorts();
    throw error;
  }
  let server: ServeHandle | undefined;
  try {
    for (const task of modules.tasks) {
      await part(loaded, `tasks[${task.index}]`, () => addTask(kernel, task));
    }
    for (const [i, island] of (config.islands ?? []).entries()) {
      await part(
        loaded,
        `islands[${i}]`,
        () => kernel.island({ ...island, module: resolveConfigPath(loaded.url, island.module) }),
      );
    }
    const watch = options.watch === true || config.watch === true;
    for (const [i, manifest] of loaded.plugins.entries()) {
      await part(loaded, `plugins[${i}]`, () => kernel.plugins.load(pluginToLoad(manifest, watch)));
    }
    if (config.server !== undefined) {
      const s = config.server;
      const at = `server (${s.hostname ?? "127.0.0.1"}:${s.port ?? 8080})`;
      server = await part(loaded, at, () => serve(kernel, { ...s, logger } as ServeOptions));
    }
  } catch (error) {
    await server?.shutdown();
    await kernel.shutdown({ graceMs: 0 });
    closePorts();
    throw error;
  }
  return started(loaded, kernel, server, ports, modules.scripts, print, logger);
}

async function started(
  loaded: LoadedConfig,
  kernel: Kernel<OffloadPool | undefined>,
  server: ServeHandle | undefined,
  ports: Map<string, DataPort>,
  scripts: Awaited<ReturnType<typeof importConfigModules>>["scripts"],
  print: (line: string) => void,
  logger: Logger,
): Promise<RunHandle> {
  const config = loaded.config;
  const aborter = new AbortController();
  let requestStop: (reason: string) => void = () => {};
  const stopRequested = new Promise<string>((resolve) => requestStop = resolve);
  const stop = (reason = "stop requested") => requestStop(reason);
  const status = config.status?.table === true
    ? startStatusTable({ kernel, server, dataPorts: ports }, {
      intervalMs: config.status.intervalMs ?? 1000,
      print,
    })
    : undefined;
  const hooks: ScriptHooks[] = [];
  const scriptFailures: string[] = [];
  let shutdown: Promise<ShutdownReport> | undefined;
  let forced: ShutdownReport | undefined;
  const handle: RunHandle = {
    kernel,
    server,
    dataPorts: ports,
    stopRequested,
    stop,
    summary: () => status?.summary() ?? [],
    scriptFailures,
    shutdown: () =>
      shutdown ??= (async () => {
        aborter.abort();
        status?.stop();
        for (const hook of hooks) {
          await guarded(logger, scriptFailures, "beforeShutdown", () => hook.beforeShutdown?.());
        }
        await server?.shutdown();
        const report = await kernel.shutdown({ graceMs: config.shutdown?.graceMs ?? 5000 });
        for (const port of ports.values()) port.close();
        for (const hook of hooks) {
          await guarded(
            logger,
            scriptFailures,
            "afterShutdown",
            () => hook.afterShutdown?.(report),
          );
        }
        return report;
      })(),
    emergencyStop: () => {
      aborter.abort();
      status?.stop();
      forced ??= kernel.emergencyStop();
      return forced;
    },
    [Symbol.asyncDispose]: async () => void await handle.shutdown(),
  };
  const stats = kernel.stats();
  print(
    `Chronetix kernel "${kernel.name}" running: ${count(stats.executor.tasks, "task")}, ${
      count(stats.islands.length, "island")
    }, ${count(stats.plugins.plugins, "plugin")}, ${count(ports.size, "data port")}`,
  );
  if (server !== undefined) {
    const { hostname, port } = server.addr;
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    const base = `http://${host}:${port}${config.server?.basePath ?? ""}`;
    print(`Server listening on ${base}/ (metrics at ${base}/metrics)`);
    // The server serves the dashboard unless told not to.
    if (config.server?.dashboard !== false) print(`Dashboard: ${base}/`);
  }
  for (const script of scripts) {
    const ctx: ScriptContext = {
      kernel,
      server,
      dataPorts: ports,
      configUrl: loaded.url,
      signal: aborter.signal,
      print,
      stop,
    };
    try {
      const result = await script.main(ctx);
      if (result !== undefined && result !== null) hooks.push(result);
    } catch (error) {
      await handle.shutdown();
      throw new Error(`scripts[${script.index}] threw at its start: ${text(error)}`, {
        cause: error,
      });
    }
  }
  return handle;
}

function addTask(kernel: Kernel<OffloadPool | undefined>, task: ResolvedTask): void {
  const { kind: _kind, module: _module, export: _export, ...options } = task.config as
    & TaskConfig
    & Record<string, unknown>;
  const c = task.config;
  if (c.kind === "periodic") kernel.periodic({ ...options, periodMs: c.periodMs, run: task.run });
  else if (c.kind === "event") kernel.onEvent({ ...options, topic: c.topic, run: task.run });
  else kernel.cron({ ...options, cron: c.cron, run: task.run });
}

function pluginToLoad(manifest: ResolvedManifest, watch: boolean): PluginManifest {
  // A resolved manifest loads as is; the manager tells one by its URLs.
  return (watch && !manifest.watch
    ? { ...manifest, watch: true }
    : manifest) as unknown as PluginManifest;
}

/**
 * Starts one part of the config; what it refuses is a ConfigError under the
 * part's path (`islands[0].maxLeadUs must be ...`), any other failure an
 * Error that names the part (`plugins[1] failed to start: ...`).
 */
async function part<T>(
  loaded: LoadedConfig,
  path: string,
  start: () => T | Promise<T>,
): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) {
      throw new ConfigError([fieldProblem(path.split(" ")[0]!, error.message)], {
        configUrl: loaded.url,
        cause: error,
      });
    }
    throw new Error(`${path} failed to start: ${text(error)}`, { cause: error });
  }
}

async function guarded(
  logger: Logger,
  failures: string[],
  hook: string,
  call: () => unknown,
): Promise<void> {
  try {
    await call();
  } catch (error) {
    failures.push(`Script hook ${hook} failed: ${text(error)}`);
    try {
      logger.error(failures.at(-1)!);
    } catch {
      // A throwing logger does not stop the shutdown.
    }
  }
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function text(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
