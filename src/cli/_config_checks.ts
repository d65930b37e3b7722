// What a config needs beyond its schema, checked by validateConfig() (so by
// both `check` and `run`) before anything starts:
//
// - crossCheck(): unique names, data ports naming plugins of the config
//   that have the "dataport" capability, fields that bound each other
//   (minWorkers <= maxWorkers, lowWatermark < credit, leadUs <= maxLeadUs,
//   island task names).
// - rehearse(): the kernel options, each task and the server options handed
//   to the real code on a kernel that runs on a VirtualClock (no thread, no
//   timer, no socket), so that what only the parts know (a cron expression,
//   a time zone, the driver's horizon, a CORS origin) is refused with the
//   field's path instead of half-way through a start.

import { Kernel } from "../kernel.ts";
import type { Logger } from "../logger.ts";
import type { ResolvedManifest } from "../plugin/manifest_types.ts";
import { createServer } from "../server/server.ts";
import { VirtualClock } from "../time/virtual_clock.ts";
import { VirtualWallClock } from "../time/virtual_wall_clock.ts";
import { childPath, isRecord } from "./_schema_check.ts";

const SILENT: Logger = { error() {}, warn() {}, info() {} };

/** A data port's default credit. */
const DEFAULT_CREDIT = 1024;

/** Checks across fields and entries; pushes one problem per finding. */
export function crossCheck(
  config: Record<string, unknown>,
  plugins: readonly (ResolvedManifest | undefined)[],
  resolvePath: (path: string) => URL,
  problems: string[],
): void {
  checkPaths(config, resolvePath, problems);
  unique(config.tasks, "tasks", problems);
  unique(config.islands, "islands", problems);
  unique(config.dataPorts, "dataPorts", problems);
  checkOffload(config.kernel, problems);
  if (Array.isArray(config.islands)) {
    config.islands.forEach((island, i) => checkIsland(island, `islands[${i}]`, problems));
  }
  const byName = new Map<string, number>();
  plugins.forEach((m, i) => {
    if (m === undefined) return;
    const first = byName.get(m.name);
    if (first !== undefined) {
      problems.push(
        `plugins[${i}] must name a plugin not loaded before: "${m.name}" is also plugins[${first}]`,
      );
    } else byName.set(m.name, i);
  });
  if (!Array.isArray(config.dataPorts)) return;
  // A plugin whose manifest is bad is reported there, not again under each port.
  const pluginsReadable = plugins.every((m) => m !== undefined);
  config.dataPorts.forEach((port, i) => {
    if (!isRecord(port)) return;
    for (const side of ["producer", "consumer"] as const) {
      const name = port[side];
      if (typeof name !== "string") continue;
      const at = `dataPorts[${i}].${side}`;
      const index = byName.get(name);
      if (index === undefined) {
        if (pluginsReadable) {
          problems.push(`${at} must name a plugin of the config: current value is "${name}"`);
        }
        continue;
      }
      if (!plugins[index]!.capabilities.includes("dataport")) {
        problems.push(
          `${at} names plugin "${name}", whose manifest lacks the "dataport" capability: add it to plugins[${index}]`,
        );
      }
    }
    if (typeof port.producer === "string" && port.producer === port.consumer) {
      problems.push(
        `dataPorts[${i}].consumer must differ from its producer: current value is "${port.consumer}"`,
      );
    }
    const credit = typeof port.credit === "number" ? port.credit : DEFAULT_CREDIT;
    if (typeof port.lowWatermark === "number" && port.lowWatermark >= credit) {
      problems.push(
        `dataPorts[${i}].lowWatermark must be < the port's credit (${credit}): current value is ${port.lowWatermark}`,
      );
    }
  });
}

/** Every module path must resolve to a URL (`http://[x` does not). */
function checkPaths(
  config: Record<string, unknown>,
  resolvePath: (path: string) => URL,
  problems: string[],
): void {
  const check = (path: string, value: unknown) => {
    if (typeof value !== "string" || value === "") return;
    try {
      resolvePath(value);
    } catch {
      problems.push(`${path} must be a path or URL: current value is ${JSON.stringify(value)}`);
    }
  };
  const list = (key: string) => Array.isArray(config[key]) ? config[key] as unknown[] : [];
  list("tasks").forEach((t, i) => isRecord(t) && check(`tasks[${i}].module`, t.module));
  list("islands").forEach((t, i) => isRecord(t) && check(`islands[${i}].module`, t.module));
  list("scripts").forEach((path, i) => check(`scripts[${i}]`, path));
  const offload = isRecord(config.kernel) ? config.kernel.offload : undefined;
  if (isRecord(offload) && isRecord(offload.jobs)) {
    for (const [job, path] of Object.entries(offload.jobs)) {
      check(childPath("kernel.offload.jobs", job), path);
    }
  }
}

function checkOffload(kernel: unknown, problems: string[]): void {
  const offload = isRecord(kernel) ? kernel.offload : undefined;
  if (!isRecord(offload)) return;
  const { minWorkers, maxWorkers } = offload;
  if (typeof minWorkers === "number" && typeof maxWorkers === "number" && minWorkers > maxWorkers) {
    problems.push(
      `kernel.offload.minWorkers must be <= kernel.offload.maxWorkers (${maxWorkers}): current value is ${minWorkers}`,
    );
  }
}

function checkIsland(island: unknown, path: string, problems: string[]): void {
  if (!isRecord(island)) return;
  // Without leadUs, the island's least lead is its policy's default, at most maxLeadUs.
  const lead = island.leadUs;
  if (typeof lead === "number" && typeof island.maxLeadUs === "number" && island.maxLeadUs < lead) {
    problems.push(
      `${path}.maxLeadUs must be >= ${path}.leadUs (${lead}): current value is ${island.maxLeadUs}`,
    );
  }
  if (Array.isArray(island.tasks)) {
    const seen = new Set<string>();
    island.tasks.forEach((task, j) => {
      if (!isRecord(task) || typeof task.name !== "string") return;
      if (task.name === "init" || task.name === "dispose") {
        problems.push(
          `${path}.tasks[${j}].name must not be "init" or "dispose" (the module's hooks): current value is "${task.name}"`,
        );
      } else if (seen.has(task.name)) {
        problems.push(
          `${path}.tasks[${j}].name must be unique in the island: current value is "${task.name}"`,
        );
      }
      seen.add(task.name);
    });
  }
  for (const side of ["in", "out"] as const) {
    const fields = isRecord(island.values) ? island.values[side] : undefined;
    if (!Array.isArray(fields)) continue;
    const repeated = fields.find((f, k) => typeof f === "string" && fields.indexOf(f) !== k);
    if (repeated !== undefined) {
      problems.push(
        `${path}.values.${side} must hold distinct field names: "${repeated}" is there twice`,
      );
    }
  }
}

function unique(list: unknown, path: string, problems: string[]): void {
  if (!Array.isArray(list)) return;
  const seen = new Map<string, number>();
  list.forEach((item, i) => {
    if (!isRecord(item) || typeof item.name !== "string") return;
    const first = seen.get(item.name);
    if (first === undefined) seen.set(item.name, i);
    else {
      problems.push(
        `${path}[${i}].name must be unique: "${item.name}" is also ${path}[${first}].name`,
      );
    }
  });
}

/**
 * Hands the kernel options, each task and the server options to the real
 * code on a kernel on a VirtualClock; pushes what it refuses under the
 * field's path. Parts that already have problems are left out.
 *
 * @param config The config, already checked against the schema.
 * @param resolveJob Resolves an offload job's path against the config file.
 * @param problems The problems so far; appended to.
 */
export async function rehearse(
  config: Record<string, unknown>,
  resolveJob: (path: string) => string,
  problems: string[],
): Promise<void> {
  // A list cut short ("... and 9 more problems") hides which parts are flawed.
  if (problems.some((p) => p.startsWith("... and "))) return;
  const flawedParts = new Set(problems.map((p) => /^[\w$]+(?:\[\d+\])?/.exec(p)?.[0]));
  const flawed = (path: string) => flawedParts.has(path);
  const clock = new VirtualClock();
  const kernelOptions = isRecord(config.kernel) && !flawed("kernel") ? config.kernel : {};
  let kernel: Kernel;
  try {
    kernel = await Kernel.start(
      {
        clock,
        logger: SILENT,
        ...pick(kernelOptions, ["name", "profile", "busQueueCap", "executor"]),
        ...rehearsalOffload(kernelOptions.offload, resolveJob),
      } as Parameters<typeof Kernel.start>[0],
    );
  } catch (error) {
    // Anything else (scoped job permissions without --unstable-worker-options)
    // is the start's to report, with the flags `run` is given.
    if (refusal(error)) problems.push(kernelProblem(error));
    kernel = await Kernel.start({ clock, logger: SILENT });
  }
  try {
    const wallClock = new VirtualWallClock(clock);
    const tasks = Array.isArray(config.tasks) ? config.tasks : [];
    for (const [i, task] of tasks.entries()) {
      const path = `tasks[${i}]`;
      if (!isRecord(task) || flawed(path)) continue;
      const { kind, module: _module, export: _export, ...options } = task;
      // deno-lint-ignore no-explicit-any
      const body: any = { ...options, run: () => {} };
      try {
        if (kind === "periodic") kernel.periodic(body);
        else if (kind === "event") kernel.onEvent(body);
        else kernel.cron({ ...body, wallClock });
      } catch (error) {
        if (!refusal(error)) throw error;
        problems.push(fieldProblem(path, error.message));
      }
    }
    if (isRecord(config.server) && !flawed("server")) {
      const { hostname: _hostname, port: _port, ...options } = config.server;
      try {
        await createServer(kernel, { ...options, logger: SILENT }).close();
      } catch (error) {
        if (!refusal(error)) throw error;
        problems.push(fieldProblem("server", error.message));
      }
    }
  } finally {
    await kernel.shutdown({ graceMs: 0 });
  }
}

/** The pool's options with no worker started (`minWorkers: 0`), jobs as URLs. */
function rehearsalOffload(
  offload: unknown,
  resolveJob: (path: string) => string,
): { offload?: Record<string, unknown> } {
  if (!isRecord(offload) || !isRecord(offload.jobs)) return {};
  const jobs = Object.fromEntries(
    Object.entries(offload.jobs).map(([job, path]) => [job, resolveJob(String(path))]),
  );
  const max = typeof offload.maxWorkers === "number" ? offload.maxWorkers : undefined;
  if (typeof offload.minWorkers === "number" && max !== undefined && offload.minWorkers > max) {
    return {};
  }
  // Left out, the pool sizes itself by the machine's cores; 0 starts no worker.
  return { offload: { ...offload, jobs, minWorkers: 0, maxWorkers: max } };
}

function pick(from: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => from[k] !== undefined).map((k) => [k, from[k]]));
}

function refusal(error: unknown): error is TypeError | RangeError {
  return error instanceof TypeError || error instanceof RangeError;
}

/** Which config field a kernel part's option is: by the part that refused it. */
function kernelProblem(error: Error): string {
  const part = /^Cannot create an? (\w+)/.exec(error.message)?.[1];
  const field = /^Cannot [^']*? as '([^']+)'/.exec(error.message)?.[1];
  if (part === "EventBus" && field === "queueCap") {
    return fieldProblem("kernel", error.message.replace("'queueCap'", "'busQueueCap'"));
  }
  if (part === "OffloadPool") return fieldProblem("kernel.offload", error.message);
  if (part === "Executor" && field !== "name" && field !== "profile") {
    return fieldProblem("kernel.executor", error.message);
  }
  return fieldProblem("kernel", error.message);
}

/**
 * `Cannot add a cron task as 'cron' must be ...: current value is "x"` under
 * `tasks[0]` becomes `tasks[0].cron must be ...: current value is "x"`.
 */
export function fieldProblem(path: string, message: string): string {
  const match = /^Cannot [^']*? as '([^']+)' ([\s\S]*)$/.exec(message);
  if (match === null) return `${path} is refused: ${message}`;
  const field = match[1]!;
  const at = field.split(".").reduce(
    (p, key) => {
      const index = /^(.*?)((?:\[\d+\])*)$/.exec(key)!;
      return (index[1] === "" ? p : childPath(p, index[1]!)) + index[2];
    },
    path,
  );
  return `${at} ${match[2]}`;
}
