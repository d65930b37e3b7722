// Plugin manifests: validateManifest() checks a manifest object before
// anything loads and resolves it (every default filled, paths absolute);
// loadManifest() reads one from a JSON file. A bad manifest is ONE
// ManifestError listing every bad field by its path.

import { ChronetixError } from "../errors.ts";
import { parseJsonText } from "../internal/json_position.ts";
import { requireOptions, show } from "../internal/validate.ts";
import {
  checkAllowImports,
  checkBoolean,
  checkKnownKeys,
  checkNumber,
  checkOneOf,
  checkPermissions,
  checkString,
  childPath,
  cwdFolderUrl,
  deepFreeze,
  errorText,
  fileUrlToPath,
  hasScheme,
  MAX_TEXT,
  type NumberRange,
  pathToFileUrl,
  Problems,
  readList,
  readRecord,
  resolveUrl,
} from "./_manifest_checks.ts";
import {
  type FailureRecoveryConfig,
  MANIFEST_DEFAULTS,
  PERMISSION_KINDS,
  PLUGIN_CAPABILITIES,
  PLUGIN_ISOLATIONS,
  type PluginBudgets,
  type PluginCapability,
  type ResolvedManifest,
  type ResolvedPermissions,
  SYS_PERMISSION_NAMES,
} from "./manifest_types.ts";

/**
 * What a plugin name must match: safe in a URL path segment and as an SOVD entity id.
 *
 * @example Checking a plugin name
 * ```ts
 * import { PLUGIN_NAME_PATTERN } from "./manifest.ts";
 * import { assert } from "@std/assert";
 *
 * assert(PLUGIN_NAME_PATTERN.test("sampler-2"));
 * assert(!PLUGIN_NAME_PATTERN.test("Sampler"));
 * ```
 */
export const PLUGIN_NAME_PATTERN: RegExp = /^[a-z][a-z0-9-]{0,62}$/;

/** Semantic Versioning 2.0.0 (semver.org's own expression). */
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/**
 * Largest manifest file {@linkcode loadManifest} reads, in bytes.
 *
 * @example Reading the size limit
 * ```ts
 * import { MAX_MANIFEST_BYTES } from "./manifest.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(MAX_MANIFEST_BYTES, 1024 * 1024);
 * ```
 */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

const ENTRY_EXTENSIONS = [".ts", ".mts", ".tsx", ".js", ".mjs", ".jsx"];

const TOP_KEYS = [
  "$schema",
  "name",
  "version",
  "entry",
  "description",
  "isolation",
  "permissions",
  "capabilities",
  "allowImports",
  "restart",
  "budgets",
  "limits",
  "watch",
];

const RESTART_RANGES: Record<string, NumberRange> = {
  maxRetries: { min: 0, max: 1000, integer: true },
  retryWindowMs: { min: 1, max: 86_400_000 },
  backoffInitialMs: { min: 0, max: 3_600_000 },
  backoffMaxMs: { min: 0, max: 3_600_000 },
  backoffMultiplier: { min: 1, max: 100 },
  backoffJitterRatio: { min: 0, max: 1 },
  resetAfterMs: { min: 0, max: 86_400_000 },
};

const BUDGET_RANGES: Record<keyof PluginBudgets, NumberRange> = {
  taskBudgetMs: { min: 0.01, max: 60_000 },
  heartbeatMs: { min: 1, max: 60_000 },
  hangMs: { min: 1, max: 600_000 },
  stopTimeoutMs: { min: 1, max: 600_000 },
  initTimeoutMs: { min: 1, max: 600_000 },
};

const HEAP_RANGE: NumberRange = { min: 16, max: 65_536, integer: true };

/** Why a manifest was refused: {@linkcode ManifestError.code}. */
export type ManifestErrorCode = "E_MANIFEST_INVALID" | "E_MANIFEST_UNREADABLE";

/** Options of {@linkcode ManifestError}. */
export interface ManifestErrorOptions {
  /** The manifest file, when there is one. */
  manifestUrl?: URL;
  /** `"E_MANIFEST_UNREADABLE"` when the file could not be read. @default {"E_MANIFEST_INVALID"} */
  code?: ManifestErrorCode;
  /** The error behind it (a read error). */
  cause?: unknown;
}

/**
 * A manifest that cannot be used: {@linkcode ManifestError.problems} lists
 * every bad field by its path, Deno style
 * (`permissions.read[2] must be a string: current value is 7`).
 * `code` is `E_MANIFEST_INVALID` (a bad field, bad JSON) or
 * `E_MANIFEST_UNREADABLE` (the file could not be read).
 *
 * @example Reading the problems of a manifest
 * ```ts
 * import { ManifestError, validateManifest } from "@chronetix/core";
 * import { assertEquals, assertInstanceOf } from "@std/assert";
 *
 * try {
 *   validateManifest({ name: "Sampler", version: "1.0", entry: "./mod.ts" });
 * } catch (error) {
 *   assertInstanceOf(error, ManifestError);
 *   assertEquals(error.code, "E_MANIFEST_INVALID");
 *   assertEquals(error.problems.length, 2);
 *   assertEquals(error.problems[1], 'version must be a semantic version such as "1.2.3": current value is "1.0"');
 * }
 * ```
 */
export class ManifestError extends ChronetixError {
  /** Every problem, `<path> <what is wrong>`. */
  readonly problems: readonly string[];
  /** The manifest file, when there is one. */
  readonly manifestUrl?: URL;

  /**
   * Creates the error.
   *
   * @param problems Every problem, `<path> <what is wrong>`.
   * @param options The file, the code and the cause.
   */
  constructor(problems: readonly string[], options: ManifestErrorOptions = {}) {
    const where = options.manifestUrl === undefined
      ? "the plugin manifest"
      : `plugin manifest "${displayUrl(options.manifestUrl)}"`;
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(
      options.code ?? "E_MANIFEST_INVALID",
      `Cannot load ${where} as it has ${count}:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "ManifestError";
    this.problems = Object.freeze([...problems]);
    if (options.manifestUrl !== undefined) this.manifestUrl = options.manifestUrl;
  }
}

/** Options of {@linkcode validateManifest}. */
export interface ValidateManifestOptions {
  /**
   * What relative paths (`entry`, `allowImports`, permission paths) are
   * resolved against, with URL rules: a folder URL ends with `/`; a file
   * URL stands for its folder.
   *
   * @default {the folder of `manifestUrl`, else the working folder}
   */
  baseUrl?: URL;
  /** The manifest file, recorded in the result and named in errors. */
  manifestUrl?: URL;
}

/**
 * Checks a plugin manifest before anything loads and resolves it: every
 * default filled (see {@linkcode MANIFEST_DEFAULTS}), `entry` and relative
 * paths resolved against the manifest's folder, the result deeply frozen.
 * Unknown keys are problems too, with a "did you mean" for a close one.
 * The value is read without running any of its code (getters are refused).
 *
 * @param value The manifest, e.g. parsed JSON.
 * @param options Where relative paths start.
 * @returns The resolved manifest.
 * @throws {ManifestError} listing every bad field by its path.
 * @throws {TypeError} when `options` is malformed.
 *
 * @example Resolving a manifest
 * ```ts
 * import { validateManifest } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const manifest = validateManifest(
 *   { name: "sampler", version: "1.0.0", entry: "./mod.ts", permissions: { read: ["data"] } },
 *   { baseUrl: new URL("file:///opt/plugins/sampler/") },
 * );
 * assertEquals(manifest.entryUrl.href, "file:///opt/plugins/sampler/mod.ts");
 * assertEquals(manifest.isolation, "worker");
 * assertEquals(manifest.permissions.read, ["/opt/plugins/sampler/data"]);
 * assertEquals(manifest.permissions.net, false);
 * assertEquals(manifest.restart.maxRetries, 5);
 * ```
 */
export function validateManifest(
  value: unknown,
  options: ValidateManifestOptions = {},
): ResolvedManifest {
  requireOptions("validate plugin manifest", "options", options);
  const manifestUrl = urlOption("manifestUrl", options.manifestUrl);
  const given = urlOption("baseUrl", options.baseUrl);
  const base = given !== undefined
    ? new URL(".", given)
    : manifestUrl !== undefined
    ? new URL(".", manifestUrl)
    : cwdFolderUrl();
  const problems = new Problems();
  const fields = readRecord(value, "", "an object", problems);
  if (fields === undefined) {
    throw new ManifestError(problems.report(), manifestUrl && { manifestUrl });
  }
  checkKnownKeys(fields, TOP_KEYS, "", "field", problems);
  if (fields.has("$schema")) checkString(fields.get("$schema"), "$schema", MAX_TEXT, problems);

  const name = checkRequired(fields, "name", problems);
  if (name !== undefined && !PLUGIN_NAME_PATTERN.test(name)) {
    problems.must(
      "name",
      `${PLUGIN_NAME_PATTERN} (a lowercase letter, then lowercase letters, digits or "-", at most 63 characters)`,
      name,
    );
  }
  const version = checkRequired(fields, "version", problems);
  if (version !== undefined && (version.length > 256 || !SEMVER.test(version))) {
    problems.must("version", 'a semantic version such as "1.2.3"', version);
  }
  const entry = checkRequired(fields, "entry", problems);
  const entryUrl = entry === undefined ? undefined : checkEntry(entry, base, problems);

  let description: string = MANIFEST_DEFAULTS.description;
  const rawDescription = fields.get("description");
  if (rawDescription !== undefined) {
    if (typeof rawDescription !== "string" || rawDescription.length > 500) {
      problems.must("description", "a string of at most 500 characters", rawDescription);
    } else description = rawDescription;
  }
  const isolation = checkOneOf(
    fields.get("isolation"),
    "isolation",
    PLUGIN_ISOLATIONS,
    MANIFEST_DEFAULTS.isolation,
    problems,
  );
  const permissions = checkPermissions(
    fields.get("permissions"),
    PERMISSION_KINDS,
    SYS_PERMISSION_NAMES,
    base,
    problems,
  ) as ResolvedPermissions;
  const capabilities = checkCapabilities(fields.get("capabilities"), problems);
  if (capabilities.includes("net-server") && permissions.net === false) {
    problems.add(
      "capabilities",
      'asks for "net-server" but permissions.net is false: grant "net" (a list of hosts or true)',
    );
  }
  const imports = checkAllowImports(fields.get("allowImports"), base, problems);
  const restart = checkRestart(fields.get("restart"), problems);
  const budgets = checkBudgets(fields.get("budgets"), problems);
  const limits = checkLimits(fields.get("limits"), isolation, problems);
  const watch = checkBoolean(fields.get("watch"), "watch", MANIFEST_DEFAULTS.watch, problems);

  if (problems.count > 0 || name === undefined || version === undefined || entry === undefined) {
    throw new ManifestError(problems.report(), manifestUrl && { manifestUrl });
  }
  if (entryUrl === undefined || base === undefined) {
    throw new ManifestError(["entry could not be resolved"], manifestUrl && { manifestUrl });
  }
  const resolved = {
    name,
    version,
    entry,
    entryUrl,
    baseUrl: base,
    ...(manifestUrl === undefined ? {} : { manifestUrl: new URL(manifestUrl.href) }),
    description,
    isolation,
    permissions,
    capabilities,
    importRoots: [new URL(".", entryUrl).href, ...imports.roots],
    allowImports: imports.written,
    restart,
    budgets,
    limits,
    watch,
  };
  return deepFreeze(resolved);
}

/**
 * Reads a plugin manifest from a JSON file and validates it
 * ({@linkcode validateManifest}); relative paths start at the file's folder.
 * Needs read permission for the file.
 *
 * @param pathOrUrl The file: a path (relative to the working folder) or a `file:` URL.
 * @returns The resolved manifest, with `manifestUrl` set.
 * @throws {ManifestError} `E_MANIFEST_UNREADABLE` when the file cannot be
 * read (missing, a folder, over {@linkcode MAX_MANIFEST_BYTES}), or
 * `E_MANIFEST_INVALID` for bad JSON (naming the file, line and column) or
 * bad fields.
 * @throws {TypeError} when `pathOrUrl` is neither a path nor a `file:` URL.
 *
 * @example Loading a manifest file
 * ```ts
 * import { loadManifest } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const folder = await Deno.realPath(await Deno.makeTempDir({ dir: "." }));
 * try {
 *   await Deno.writeTextFile(
 *     `${folder}/plugin.json`,
 *     JSON.stringify({ name: "sampler", version: "0.1.0", entry: "./mod.ts" }),
 *   );
 *   const manifest = await loadManifest(`${folder}/plugin.json`);
 *   assertEquals(manifest.entryUrl.pathname, `${folder}/mod.ts`);
 *   assertEquals(manifest.manifestUrl?.pathname, `${folder}/plugin.json`);
 * } finally {
 *   await Deno.remove(folder, { recursive: true });
 * }
 * ```
 */
export async function loadManifest(pathOrUrl: string | URL): Promise<ResolvedManifest> {
  const url = manifestFileUrl(pathOrUrl);
  const path = fileUrlToPath(url);
  let text: string;
  try {
    const info = await Deno.stat(url);
    if (!info.isFile) throw new Error("it is not a file");
    if (info.size > MAX_MANIFEST_BYTES) {
      throw new Error(`it has ${info.size} bytes, more than ${MAX_MANIFEST_BYTES}`);
    }
    text = await Deno.readTextFile(url);
  } catch (error) {
    throw new ManifestError([`${path} could not be read: ${errorText(error)}`], {
      manifestUrl: url,
      code: "E_MANIFEST_UNREADABLE",
      cause: error,
    });
  }
  const parsed = parseJsonText(path, text);
  if (!parsed.ok) {
    throw new ManifestError([parsed.problem], { manifestUrl: url, cause: parsed.error });
  }
  return validateManifest(parsed.value, { manifestUrl: url });
}

function manifestFileUrl(pathOrUrl: string | URL): URL {
  const bad = () =>
    new TypeError(
      `Cannot load plugin manifest as 'pathOrUrl' must be a file path or a file: URL: current value is ${
        show(pathOrUrl)
      }`,
    );
  if (pathOrUrl instanceof URL) {
    if (pathOrUrl.protocol !== "file:") throw bad();
    return new URL(pathOrUrl.href);
  }
  if (typeof pathOrUrl !== "string" || pathOrUrl === "" || pathOrUrl.includes("\0")) throw bad();
  if (hasScheme(pathOrUrl)) {
    const url = resolveUrl(pathOrUrl, undefined);
    if (url === undefined || url.protocol !== "file:") throw bad();
    return url;
  }
  if (pathOrUrl.startsWith("/")) return pathToFileUrl(pathOrUrl);
  const cwd = cwdFolderUrl();
  const url = cwd === undefined ? undefined : resolveUrl(pathOrUrl, cwd);
  if (url === undefined) throw bad();
  return url;
}

function urlOption(name: string, value: unknown): URL | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof URL)) {
    throw new TypeError(
      `Cannot validate plugin manifest as '${name}' must be a URL: current value is ${show(value)}`,
    );
  }
  return value;
}

function displayUrl(url: URL): string {
  return url.protocol === "file:" ? fileUrlToPath(url) : url.href;
}

function checkRequired(
  fields: Map<string, unknown>,
  key: string,
  problems: Problems,
): string | undefined {
  if (!fields.has(key) || fields.get(key) === undefined) {
    problems.add(key, "is required: it is missing");
    return undefined;
  }
  return checkString(fields.get(key), key, MAX_TEXT, problems);
}

function checkEntry(entry: string, base: URL | undefined, problems: Problems): URL | undefined {
  const url = resolveUrl(entry, base);
  if (url === undefined) {
    problems.must(
      "entry",
      hasScheme(entry) || entry.startsWith("/") || base !== undefined
        ? "a module path or URL"
        : "an absolute path or URL, as the working folder cannot be read",
      entry,
    );
    return undefined;
  }
  if (url.protocol !== "file:" && url.protocol !== "https:") {
    problems.must("entry", "a path, a file: URL or an https: URL", entry);
    return undefined;
  }
  if (url.protocol === "file:" && !ENTRY_EXTENSIONS.some((e) => url.pathname.endsWith(e))) {
    problems.must("entry", `a module ending with ${ENTRY_EXTENSIONS.join(", ")}`, entry);
    return undefined;
  }
  return url;
}

function checkCapabilities(value: unknown, problems: Problems): PluginCapability[] {
  const capabilities: PluginCapability[] = [];
  if (value === undefined) return capabilities;
  const items = readList(value, "capabilities", "a list of capabilities", 64, problems);
  items?.forEach((item, i) => {
    const path = childPath("capabilities", i);
    if (typeof item !== "string" || !(PLUGIN_CAPABILITIES as readonly string[]).includes(item)) {
      problems.must(
        path,
        `one of ${PLUGIN_CAPABILITIES.map((c) => JSON.stringify(c)).join(", ")}`,
        item,
      );
      return;
    }
    if (capabilities.includes(item as PluginCapability)) {
      problems.add(path, `repeats ${JSON.stringify(item)}`);
      return;
    }
    capabilities.push(item as PluginCapability);
  });
  return capabilities;
}

function checkRestart(value: unknown, problems: Problems): Required<FailureRecoveryConfig> {
  const defaults = MANIFEST_DEFAULTS.restart;
  const restart: Required<FailureRecoveryConfig> = { ...defaults };
  if (value === undefined) return restart;
  const fields = readRecord(value, "restart", "an object", problems);
  if (fields === undefined) return restart;
  checkKnownKeys(fields, Object.keys(defaults), "restart", "restart field", problems);
  for (const key of ["restartEnabled", "autoUnloadFailed", "escalate"] as const) {
    restart[key] = checkBoolean(fields.get(key), `restart.${key}`, defaults[key], problems);
  }
  restart.restartType = checkOneOf(
    fields.get("restartType"),
    "restart.restartType",
    ["permanent", "transient", "temporary"] as const,
    defaults.restartType,
    problems,
  );
  for (const [key, range] of Object.entries(RESTART_RANGES)) {
    const k = key as keyof typeof RESTART_RANGES & keyof FailureRecoveryConfig;
    (restart as Record<string, unknown>)[k] = checkNumber(
      fields.get(k),
      `restart.${k}`,
      range,
      defaults[k] as number,
      problems,
    );
  }
  if (!fields.has("backoffMaxMs")) {
    restart.backoffMaxMs = Math.max(restart.backoffMaxMs, restart.backoffInitialMs);
  }
  if (restart.backoffMaxMs < restart.backoffInitialMs) {
    problems.add(
      "restart.backoffMaxMs",
      `must be >= restart.backoffInitialMs (${restart.backoffInitialMs}): current value is ${restart.backoffMaxMs}`,
    );
  }
  return restart;
}

function checkBudgets(value: unknown, problems: Problems): Required<PluginBudgets> {
  const defaults = MANIFEST_DEFAULTS.budgets;
  const budgets: Required<PluginBudgets> = { ...defaults };
  if (value === undefined) return budgets;
  const fields = readRecord(value, "budgets", "an object", problems);
  if (fields === undefined) return budgets;
  checkKnownKeys(fields, Object.keys(defaults), "budgets", "budget", problems);
  for (const [key, range] of Object.entries(BUDGET_RANGES)) {
    const k = key as keyof PluginBudgets;
    budgets[k] = checkNumber(fields.get(k), `budgets.${k}`, range, defaults[k], problems);
  }
  if (!fields.has("hangMs")) {
    budgets.hangMs = Math.min(600_000, Math.max(budgets.hangMs, budgets.heartbeatMs * 10));
  }
  if (budgets.hangMs <= budgets.heartbeatMs) {
    problems.add(
      "budgets.hangMs",
      `must be > budgets.heartbeatMs (${budgets.heartbeatMs}): current value is ${budgets.hangMs}`,
    );
  }
  return budgets;
}

function checkLimits(
  value: unknown,
  isolation: string,
  problems: Problems,
): { maxHeapMb: number | null } {
  const limits = { maxHeapMb: MANIFEST_DEFAULTS.limits.maxHeapMb };
  if (value === undefined) return limits;
  const fields = readRecord(value, "limits", "an object", problems);
  if (fields === undefined) return limits;
  checkKnownKeys(fields, ["maxHeapMb"], "limits", "limit", problems);
  const heap = fields.get("maxHeapMb");
  if (heap === undefined || heap === null) return limits;
  limits.maxHeapMb = checkNumber(heap, "limits.maxHeapMb", HEAP_RANGE, 0, problems) || null;
  if (limits.maxHeapMb !== null && isolation === "inline") {
    problems.add(
      "limits.maxHeapMb",
      'cannot be set for isolation "inline": an inline plugin shares the kernel\'s heap',
    );
  }
  return limits;
}
