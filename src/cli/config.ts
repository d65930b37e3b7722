// loadConfig() / validateConfig(): a `chronetix run` config read, checked
// against schema/chronetix.config.schema.json, every plugin manifest checked
// by the manifest validator, and the cross-references (unique names, data
// ports naming loaded plugins) checked, all before anything starts. A bad
// config is ONE ConfigError listing every bad field by its path.

import { ChronetixError } from "../errors.ts";
import { parseJsonText } from "../internal/json_position.ts";
import { loadManifest, ManifestError, validateManifest } from "../plugin/manifest.ts";
import type { ResolvedManifest } from "../plugin/manifest_types.ts";
import { checkSchema, childPath, isRecord, type SchemaNode } from "./_schema_check.ts";
import { crossCheck, rehearse } from "./_config_checks.ts";
import type { ChronetixConfig, LoadedConfig } from "./config_types.ts";
import schemaJson from "../../schema/chronetix.config.schema.json" with { type: "json" };

/**
 * The JSON Schema of a config file (`schema/chronetix.config.schema.json`),
 * the one {@linkcode validateConfig} checks against.
 *
 * @example Reading the schema's title
 * ```ts
 * import { CONFIG_SCHEMA } from "@chronetix/core/cli";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(CONFIG_SCHEMA.title, "Chronetix config");
 * ```
 */
export const CONFIG_SCHEMA: Readonly<Record<string, unknown>> = schemaJson;

/** Most problems a ConfigError lists; a last line counts the rest. */
const MAX_PROBLEMS = 200;

/** Largest config file {@linkcode loadConfig} reads, bytes. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** Why a config was refused: {@linkcode ConfigError.code}. */
export type ConfigErrorCode = "E_CONFIG_INVALID" | "E_CONFIG_UNREADABLE";

/**
 * A config that cannot be used: {@linkcode ConfigError.problems} lists every
 * bad field by its path (`tasks[2].periodMs must be a number > 0: current
 * value is "x"`), plugin manifests' problems under their entry
 * (`plugins[1].version must be ...`).
 *
 * @example Reading a config's problems
 * ```ts
 * import { ConfigError, validateConfig } from "@chronetix/core/cli";
 * import { assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
 *
 * const error = await assertRejects(() =>
 *   validateConfig({ shutdown: { graceMs: -1 }, watch: "yes" })
 * );
 * assertInstanceOf(error, ConfigError);
 * assertEquals(error.problems, [
 *   "shutdown.graceMs must be a number from 0 to 3600000: current value is -1",
 *   'watch must be a boolean: current value is "yes"',
 * ]);
 * ```
 */
export class ConfigError extends ChronetixError {
  /** Why. */
  declare readonly code: ConfigErrorCode;
  /** Every problem, `<path> <what is wrong>`. */
  readonly problems: readonly string[];
  /** The config file, when there is one. */
  readonly configUrl: URL | undefined;

  /**
   * Creates the error.
   *
   * @param problems Every problem.
   * @param options The file, the code and the cause.
   */
  constructor(
    problems: readonly string[],
    options: { configUrl?: URL; code?: ConfigErrorCode; cause?: unknown } = {},
  ) {
    const where = options.configUrl === undefined
      ? "the config"
      : `config "${displayPath(options.configUrl)}"`;
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(
      options.code ?? "E_CONFIG_INVALID",
      `Cannot use ${where} as it has ${count}:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "ConfigError";
    this.problems = Object.freeze([...problems]);
    this.configUrl = options.configUrl;
  }
}

/** Options of {@linkcode validateConfig}. */
export interface ValidateConfigOptions {
  /**
   * The config file: relative paths (manifests, modules, scripts) resolve
   * against its folder.
   *
   * @default {a file in the working folder}
   */
  configUrl?: URL;
}

/**
 * Checks a config value (parsed JSON) and resolves its plugin manifests
 * (manifest files are read, relative to the config file): the schema, the
 * cross-checks (unique names, data ports naming plugins of the config,
 * bounds between fields), then the kernel options, each task and the server
 * options handed to the kernel's own checks on a kernel that runs on a
 * `VirtualClock` (a cron expression, a time zone). Nothing starts: no
 * thread, timer or socket. `chronetix check` and `chronetix run` both call it.
 *
 * @example Validating a config
 * ```ts
 * import { validateConfig } from "@chronetix/core/cli";
 * import { assertEquals } from "@std/assert";
 *
 * const loaded = await validateConfig({
 *   plugins: [{ name: "sampler", version: "1.0.0", entry: "./sampler.ts" }],
 *   shutdown: { graceMs: 1000 },
 * }, { configUrl: new URL("file:///opt/demo/chronetix.json") });
 * assertEquals(loaded.plugins[0]?.entryUrl.href, "file:///opt/demo/sampler.ts");
 * ```
 *
 * @param value The config, e.g. parsed JSON.
 * @param options Where relative paths start.
 * @returns The config with its manifests resolved.
 * @throws {ConfigError} (as a rejection) listing every bad field by its path.
 */
export async function validateConfig(
  value: unknown,
  options: ValidateConfigOptions = {},
): Promise<LoadedConfig> {
  const url = options.configUrl ?? new URL("chronetix.json", cwdUrl());
  const problems = checkSchema(value, schemaJson as SchemaNode, {
    external: { "#/$defs/pluginManifest": () => {} },
    // Capped once, below, over every kind of problem.
    maxProblems: Infinity,
  });
  const plugins: (ResolvedManifest | undefined)[] = [];
  if (isRecord(value) && Array.isArray(value.plugins)) {
    for (const [i, entry] of value.plugins.entries()) {
      plugins.push(await resolvePlugin(entry, childPath("plugins", i), url, problems));
    }
  }
  if (isRecord(value)) {
    crossCheck(value, plugins, (path) => resolveConfigPath(url, path), problems);
    await rehearse(value, (path) => resolveConfigPath(url, path).href, problems);
  }
  if (problems.length > 0) {
    const sorted = inConfigOrder(problems);
    const listed = sorted.length <= MAX_PROBLEMS ? sorted : [
      ...sorted.slice(0, MAX_PROBLEMS),
      `... and ${sorted.length - MAX_PROBLEMS} more problems`,
    ];
    throw new ConfigError(listed, { configUrl: options.configUrl });
  }
  return {
    config: value as ChronetixConfig,
    url,
    plugins: plugins as ResolvedManifest[],
  };
}

/**
 * Reads a config file (JSON) and validates it ({@linkcode validateConfig});
 * relative paths start at its folder.
 *
 * @example Loading a config file
 * ```ts
 * import { loadConfig } from "@chronetix/core/cli";
 * import { assertEquals } from "@std/assert";
 *
 * const folder = await Deno.makeTempDir({ dir: "." });
 * try {
 *   await Deno.writeTextFile(`${folder}/chronetix.json`, '{ "watch": true }');
 *   const loaded = await loadConfig(`${folder}/chronetix.json`);
 *   assertEquals(loaded.config.watch, true);
 * } finally {
 *   await Deno.remove(folder, { recursive: true });
 * }
 * ```
 *
 * @param pathOrUrl The file: a path (relative to the working folder) or a `file:` URL.
 * @returns The validated config.
 * @throws {ConfigError} (as a rejection) `E_CONFIG_UNREADABLE` when the file
 * cannot be read, `E_CONFIG_INVALID` for bad JSON (with line and column) or bad fields.
 */
export async function loadConfig(pathOrUrl: string | URL): Promise<LoadedConfig> {
  const url = pathOrUrl instanceof URL ? pathOrUrl : new URL(pathOrUrl, cwdUrl());
  const path = displayPath(url);
  let text: string;
  try {
    const info = await Deno.stat(url);
    if (!info.isFile) throw new Error("it is not a file");
    if (info.size > MAX_CONFIG_BYTES) {
      throw new Error(`it has ${info.size} bytes, more than ${MAX_CONFIG_BYTES}`);
    }
    text = await Deno.readTextFile(url);
  } catch (error) {
    throw new ConfigError([`${path} could not be read: ${errorText(error)}`], {
      configUrl: url,
      code: "E_CONFIG_UNREADABLE",
      cause: error,
    });
  }
  const parsed = parseJsonText(path, text);
  if (!parsed.ok) {
    throw new ConfigError([parsed.problem], { configUrl: url, cause: parsed.error });
  }
  return await validateConfig(parsed.value, { configUrl: url });
}

/**
 * Resolves a path of the config (a module, a script, a job) against the
 * config file's folder; URLs with a scheme are kept.
 *
 * @example Resolving a module path
 * ```ts
 * import { resolveConfigPath } from "@chronetix/core/cli";
 * import { assertEquals } from "@std/assert";
 *
 * const url = resolveConfigPath(new URL("file:///opt/demo/chronetix.json"), "./tasks.ts");
 * assertEquals(url.href, "file:///opt/demo/tasks.ts");
 * ```
 *
 * @param configUrl The config file.
 * @param path The path as written.
 * @returns Its URL.
 */
export function resolveConfigPath(configUrl: URL, path: string): URL {
  return /^[A-Za-z][A-Za-z0-9+.-]+:/.test(path) ? new URL(path) : new URL(path, configUrl);
}

async function resolvePlugin(
  entry: unknown,
  path: string,
  configUrl: URL,
  problems: string[],
): Promise<ResolvedManifest | undefined> {
  try {
    if (typeof entry === "string" && entry.length > 0) {
      return await loadManifest(resolveConfigPath(configUrl, entry));
    }
    if (isRecord(entry)) return validateManifest(entry, { baseUrl: new URL(".", configUrl) });
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    const where = typeof entry === "string" ? `${path} ${JSON.stringify(entry)}:` : path;
    for (const problem of error.problems) problems.push(underPath(where, problem));
  }
  return undefined;
}

/** A manifest problem (`version must be ...`, `manifest must be ...`) under the config path. */
function underPath(where: string, problem: string): string {
  if (where.endsWith(":")) return `${where} ${problem}`;
  if (problem.startsWith("manifest ")) return `${where}${problem.slice("manifest".length)}`;
  return problem.startsWith("[") ? `${where}${problem}` : `${where}.${problem}`;
}

const TOP_KEYS = Object.keys((schemaJson as SchemaNode).properties ?? {});

/**
 * The problems sorted by where they are in the config: top-level key in the
 * schema's order, then the index in its list; the schema's problems before
 * the cross-checks' within one entry (the sort is stable).
 */
function inConfigOrder(problems: readonly string[]): string[] {
  const key = (problem: string): [number, number] => {
    const match = /^([A-Za-z$_][\w$]*)(?:\[(\d+)\])?/.exec(problem);
    if (match === null || problem.startsWith("config ")) return [-1, 0];
    if (problem.startsWith("... and ")) return [Infinity, 0];
    const top = TOP_KEYS.indexOf(match[1]!);
    return [top < 0 ? TOP_KEYS.length : top, match[2] === undefined ? -1 : Number(match[2])];
  };
  return problems
    .map((problem, i) => ({ problem, i, k: key(problem) }))
    .sort((a, b) => a.k[0] - b.k[0] || a.k[1] - b.k[1] || a.i - b.i)
    .map((p) => p.problem);
}

function cwdUrl(): URL {
  let cwd = "/";
  try {
    cwd = Deno.cwd();
  } catch {
    // Without read permission on the working folder: paths start at the root.
  }
  return new URL(`file://${cwd.endsWith("/") ? cwd : `${cwd}/`}`);
}

function displayPath(url: URL): string {
  return url.protocol === "file:" ? decodeURIComponent(url.pathname) : url.href;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
