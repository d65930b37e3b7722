// checkConfig() and `chronetix check <config>`: the config and every plugin
// manifest validated, every module the config names found, and every
// plugin's import graph audited, without starting anything.

import { auditImports, ImportAuditError } from "../plugin/import_audit.ts";
import { parseFlags } from "./_args.ts";
import { type CliIo, EXIT } from "./_io.ts";
import { ConfigError, loadConfig, resolveConfigPath } from "./config.ts";
import type { LoadedConfig } from "./config_types.ts";

/** One line of a check: an item of the config and how it fared. */
export interface CheckItem {
  /** What was checked: `plugin sampler (plugins[0])`. */
  item: string;
  /** `true` when it passed. */
  ok: boolean;
  /** What was found: `imports ok: 4 modules`, or the problem. */
  detail: string;
}

/** Options of {@linkcode checkConfig}. */
export interface CheckConfigOptions {
  /** Audit each plugin's import graph (runs `deno info`; needs `--allow-run`). @default {true} */
  audit?: boolean;
}

/**
 * Checks a validated config without starting anything: each module the
 * config names (task modules, island modules, scripts, offload jobs) must be
 * a file, and each plugin's import graph must stay inside its allowed roots
 * (`auditImports`). Nothing is imported.
 *
 * @example Checking a config with one task
 * ```ts
 * import { checkConfig, validateConfig } from "@chronetix/core/cli";
 * import { assertEquals } from "@std/assert";
 *
 * const folder = await Deno.realPath(await Deno.makeTempDir({ dir: "." }));
 * try {
 *   await Deno.writeTextFile(`${folder}/tasks.ts`, "export function tick() {}\n");
 *   const loaded = await validateConfig(
 *     { tasks: [{ name: "tick", kind: "periodic", periodMs: 10, module: "./tasks.ts" }] },
 *     { configUrl: new URL(`file://${folder}/chronetix.json`) },
 *   );
 *   const items = await checkConfig(loaded);
 *   assertEquals(items.map((i) => i.ok), [true]);
 * } finally {
 *   await Deno.remove(folder, { recursive: true });
 * }
 * ```
 *
 * @param loaded A config from `loadConfig()` or `validateConfig()`.
 * @param options Whether to audit imports.
 * @returns One item per task, island, script, job, plugin and data port.
 */
export async function checkConfig(
  loaded: LoadedConfig,
  options: CheckConfigOptions = {},
): Promise<CheckItem[]> {
  const config = loaded.config;
  const items: CheckItem[] = [];
  const file = async (item: string, path: string) => {
    const url = resolveConfigPath(loaded.url, path);
    items.push({ item, ...(await fileResult(url, path)) });
  };
  for (const [i, task] of (config.tasks ?? []).entries()) {
    await file(`task ${task.name} (tasks[${i}], ${task.kind})`, task.module);
  }
  for (const [i, island] of (config.islands ?? []).entries()) {
    await file(`island ${island.name ?? "island"} (islands[${i}])`, island.module);
  }
  for (const [job, path] of Object.entries(config.kernel?.offload?.jobs ?? {})) {
    await file(`offload job ${job}`, path);
  }
  for (const [i, path] of (config.scripts ?? []).entries()) {
    await file(`script scripts[${i}]`, path);
  }
  for (const [i, manifest] of loaded.plugins.entries()) {
    const item = `plugin ${manifest.name} (plugins[${i}], ${manifest.isolation})`;
    if (options.audit === false) {
      items.push({ item, ok: true, detail: "manifest ok; imports not audited" });
      continue;
    }
    try {
      const audit = await auditImports(manifest);
      const unresolved = audit.unresolved.map((u) => `${u.specifier}: ${u.error}`);
      items.push({
        item,
        ok: unresolved.length === 0,
        detail: unresolved.length === 0
          ? `manifest ok; imports ok: ${audit.modules.length} module${
            audit.modules.length === 1 ? "" : "s"
          }${audit.npmPackages.length === 0 ? "" : `, npm ${audit.npmPackages.join(", ")}`}`
          : `imports that do not load: ${unresolved.join("; ")}`,
      });
    } catch (error) {
      if (!(error instanceof ImportAuditError)) throw error;
      items.push({ item, ok: false, detail: error.message });
    }
  }
  for (const port of config.dataPorts ?? []) {
    items.push({
      item: `data port ${port.name}`,
      ok: true,
      detail: `${port.producer} -> ${port.consumer}, credit ${port.credit ?? 1024}`,
    });
  }
  return items;
}

async function fileResult(url: URL, path: string): Promise<{ ok: boolean; detail: string }> {
  if (url.protocol !== "file:") return { ok: true, detail: `${url.href} (not checked: remote)` };
  try {
    const info = await Deno.stat(url);
    if (!info.isFile) return { ok: false, detail: `${path} is not a file` };
    return { ok: true, detail: `${path} found` };
  } catch (error) {
    return {
      ok: false,
      detail: error instanceof Deno.errors.NotFound
        ? `${path} does not exist (${decodeURIComponent(url.pathname)})`
        : `${path} cannot be read: ${error instanceof Error ? error.message : error}`,
    };
  }
}

/** `chronetix check --help`. */
export const CHECK_HELP = `chronetix check: validate a config without starting anything

Usage: chronetix check <config.json> [--no-audit]

Validates the config as 'run' does: against schema/chronetix.config.schema.json,
every plugin manifest with the manifest validator, the cross-checks (names,
data ports), and the kernel's own checks of the kernel options, tasks and
server options on a virtual clock (one error listing every bad field by its
path). Then finds every module the config names, and audits every plugin's
import graph (deno info) against its allowed roots. Prints one line per item.
Nothing is imported or started: a module's missing export shows in 'run'.

Options:
  --no-audit   Skip the import audit (it runs 'deno info' per plugin)
  -h, --help   Show this help

Exit codes:
  0  everything passed
  1  a module is missing or a plugin imports from outside its roots
  2  bad usage or a bad config / manifest

Examples:
  chronetix check chronetix.json
  chronetix check examples/demo/chronetix.json --no-audit`;

/** Runs the `check` command; resolves with the exit code. */
export async function checkCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { flags, positional, unknown, invalid } = parseFlags(args, {
    boolean: ["audit"],
    default: { audit: true },
  });
  if (flags.help === true) {
    io.out(CHECK_HELP);
    return EXIT.ok;
  }
  if (unknown.length > 0 || invalid.length > 0 || positional.length !== 1) {
    io.err(
      `Cannot check as ${
        unknown.length > 0
          ? `'${unknown[0]}' is not a flag of 'check'`
          : invalid.length > 0
          ? invalid[0]
          : positional.length === 0
          ? "the config file is missing"
          : "it takes one config file"
      }`,
    );
    io.err("Usage: chronetix check <config.json> [--no-audit] (see --help)");
    return EXIT.usage;
  }
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig(positional[0]!);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(error.message);
    return EXIT.usage;
  }
  io.out(`ok   config ${decodeURIComponent(loaded.url.pathname)}: schema and manifests valid`);
  const items = await checkConfig(loaded, { audit: flags.audit !== false });
  for (const i of items) io.out(`${i.ok ? "ok  " : "FAIL"} ${i.item}: ${i.detail}`);
  const failed = items.filter((i) => !i.ok).length;
  io.out(
    failed === 0
      ? `${items.length + 1} items checked, all passed`
      : `${items.length + 1} items checked, ${failed} failed`,
  );
  return failed === 0 ? EXIT.ok : EXIT.failed;
}
