// The code a config names, imported before anything starts: task bodies
// (module exports), scripts (default exports), island and job modules
// (resolved to URLs). A missing module or export is one more ConfigError
// problem, under the field's path.

import { ConfigError, resolveConfigPath } from "./config.ts";
import type { LoadedConfig, TaskConfig } from "./config_types.ts";
import type { ScriptMain } from "./script_types.ts";

/** A task with its body found. */
export interface ResolvedTask {
  /** Its index in `tasks`. */
  index: number;
  config: TaskConfig;
  // deno-lint-ignore no-explicit-any
  run: (ctx: any) => unknown;
}

/** A script with its main found. */
export interface ResolvedScript {
  /** Its index in `scripts`. */
  index: number;
  url: URL;
  main: ScriptMain;
}

/** What the config's modules gave. */
export interface ConfigModules {
  tasks: ResolvedTask[];
  scripts: ResolvedScript[];
}

/** Imports every task module and script; throws one ConfigError for all that fail. */
export async function importConfigModules(loaded: LoadedConfig): Promise<ConfigModules> {
  const problems: string[] = [];
  const modules = new Map<string, Promise<Record<string, unknown>>>();
  const load = (path: string): Promise<Record<string, unknown>> => {
    const href = resolveConfigPath(loaded.url, path).href;
    let module = modules.get(href);
    if (module === undefined) {
      module = import(href) as Promise<Record<string, unknown>>;
      modules.set(href, module);
    }
    return module;
  };
  const tasks: ResolvedTask[] = [];
  for (const [i, task] of (loaded.config.tasks ?? []).entries()) {
    const name = task.export ?? task.name;
    try {
      const module = await load(task.module);
      const run = module[name];
      if (typeof run !== "function") {
        problems.push(
          `tasks[${i}].${
            task.export === undefined ? "name" : "export"
          } must name a function ${task.module} exports${
            task.export === undefined ? " (or set 'export')" : ""
          }: its export "${name}" is ${run === undefined ? "missing" : `a ${typeof run}`}`,
        );
        continue;
      }
      tasks.push({ index: i, config: task, run: run as ResolvedTask["run"] });
    } catch (error) {
      problems.push(`tasks[${i}].module could not be imported: ${errorText(error)}`);
    }
  }
  const scripts: ResolvedScript[] = [];
  for (const [i, path] of (loaded.config.scripts ?? []).entries()) {
    try {
      const module = await load(path);
      if (typeof module.default !== "function") {
        problems.push(
          `scripts[${i}] must be a module whose default export is a function: ${path} has none`,
        );
        continue;
      }
      scripts.push({
        index: i,
        url: resolveConfigPath(loaded.url, path),
        main: module.default as ScriptMain,
      });
    } catch (error) {
      problems.push(`scripts[${i}] could not be imported: ${errorText(error)}`);
    }
  }
  for (const [i, island] of (loaded.config.islands ?? []).entries()) {
    const url = resolveConfigPath(loaded.url, island.module);
    if (!(await requireFile(url, `islands[${i}].module`, problems))) continue;
    // The island's thread imports it too: a missing export is found here,
    // before anything starts, instead of as a failed island start.
    try {
      const module = await load(island.module);
      for (const [j, task] of island.tasks.entries()) {
        const body = module[task.name];
        if (typeof body === "function") continue;
        problems.push(
          `islands[${i}].tasks[${j}].name must name a function ${island.module} exports: its export "${task.name}" is ${
            body === undefined ? "missing" : `a ${typeof body}`
          }`,
        );
      }
    } catch (error) {
      problems.push(`islands[${i}].module could not be imported: ${errorText(error)}`);
    }
  }
  for (const [job, path] of Object.entries(loaded.config.kernel?.offload?.jobs ?? {})) {
    await requireFile(
      resolveConfigPath(loaded.url, path),
      `kernel.offload.jobs[${JSON.stringify(job)}]`,
      problems,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems, { configUrl: loaded.url });
  return { tasks, scripts };
}

async function requireFile(url: URL, path: string, problems: string[]): Promise<boolean> {
  if (url.protocol !== "file:") return true;
  try {
    if (!(await Deno.stat(url)).isFile) throw new Error("it is not a file");
    return true;
  } catch (error) {
    problems.push(
      `${path} must be a module file: ${decodeURIComponent(url.pathname)} ${
        error instanceof Deno.errors.NotFound ? "does not exist" : errorText(error)
      }`,
    );
    return false;
  }
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0] ?? text;
}
