// The import audit: a Worker's permissions do not cover its own module graph
// (static imports and string-literal import() load with the kernel's
// permissions, text and JSON imports included), so before a plugin loads,
// its graph (`deno info --json <entry>`) is walked and every module must lie
// under the entry's folder or an `allowImports` root.

import { ChronetixError } from "../errors.ts";
import { requireOptions, show } from "../internal/validate.ts";
import type { ResolvedManifest } from "./manifest_types.ts";

/** Options of {@linkcode auditImports}. */
export interface AuditImportsOptions {
  /**
   * The Deno configuration `deno info` resolves bare specifiers with (the
   * same import map the kernel loads plugins with): a path or `file:` URL,
   * or `false` for none.
   *
   * @default {discovered from `cwd`, as `deno run` does}
   */
  config?: string | URL | false;
  /** Working folder of `deno info`. @default {the kernel's working folder} */
  cwd?: string | URL;
  /**
   * Roots whose modules are trusted and not walked into, besides the
   * manifest's: Chronetix's own source, which `@chronetix/core/plugin`
   * resolves to.
   *
   * @default {[the `src/` folder of this package]}
   */
  trustedRoots?: readonly (string | URL)[];
  /** The `deno` binary. @default {Deno.execPath()} */
  denoPath?: string;
  /** Kills `deno info` after this long (1 ms - 10 min). @default {60000} */
  timeoutMs?: number;
}

/** A module the audit found but `deno info` could not load (inside the allowed roots). */
export interface UnresolvedModule {
  /** The specifier. */
  specifier: string;
  /** What `deno info` said. */
  error: string;
}

/** One import that leaves the allowed roots. */
export interface ImportViolation {
  /** The offending specifier, resolved (`file:///etc/passwd`, `npm:left-pad`). */
  specifier: string;
  /** The import chain from the entry to it, each a specifier; the last is `specifier`. */
  chain: readonly string[];
}

/** What {@linkcode auditImports} found in a clean graph. */
export interface ImportAudit {
  /** The entry, as `deno info` resolved it. */
  entry: string;
  /** Every module walked (local and remote code, JSON and text files), sorted. */
  modules: readonly string[];
  /** npm packages reached, `name@version`, sorted. */
  npmPackages: readonly string[];
  /** `node:` built-ins imported (runtime APIs, under the permission system), sorted. */
  builtins: readonly string[];
  /** Modules inside the roots that `deno info` could not load (loading will fail too). */
  unresolved: readonly UnresolvedModule[];
}

/** Why an audit refused a plugin: {@linkcode ImportAuditError.code}. */
export type ImportAuditErrorCode = "E_IMPORT_OUTSIDE_ROOTS" | "E_IMPORT_AUDIT_FAILED";

/**
 * A plugin's module graph leaves its allowed roots (`E_IMPORT_OUTSIDE_ROOTS`:
 * {@linkcode ImportAuditError.specifier} and the import
 * {@linkcode ImportAuditError.chain} that reached it, the first of
 * {@linkcode ImportAuditError.violations}), or the graph could not be read
 * (`E_IMPORT_AUDIT_FAILED`: `deno info` failed, the entry does not load).
 *
 * @example Reading an audit refusal
 * ```ts
 * import { ImportAuditError } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const error = new ImportAuditError("E_IMPORT_OUTSIDE_ROOTS", "greedy", [{
 *   specifier: "file:///etc/passwd",
 *   chain: ["file:///opt/greedy/mod.ts", "file:///opt/greedy/a.ts", "file:///etc/passwd"],
 * }]);
 * assertEquals(error.specifier, "file:///etc/passwd");
 * assertEquals(
 *   error.message,
 *   'Cannot load plugin "greedy" as it imports "file:///etc/passwd" from outside its allowed roots: mod.ts -> a.ts -> /etc/passwd',
 * );
 * ```
 */
export class ImportAuditError extends ChronetixError {
  /** Why. */
  declare readonly code: ImportAuditErrorCode;
  /** The plugin's name. */
  readonly plugin: string;
  /** The (first) offending specifier; the entry when the audit itself failed. */
  readonly specifier: string;
  /** The import chain that reached it, entry first. */
  readonly chain: readonly string[];
  /** Every import that leaves the roots (at most 100). */
  readonly violations: readonly ImportViolation[];

  /**
   * Creates the error.
   *
   * @param code Why.
   * @param plugin The plugin's name.
   * @param violations The imports outside the roots; for `E_IMPORT_AUDIT_FAILED`, one with the entry.
   * @param options `detail` (what failed, for `E_IMPORT_AUDIT_FAILED`) and the `cause`.
   */
  constructor(
    code: ImportAuditErrorCode,
    plugin: string,
    violations: readonly ImportViolation[],
    options: { detail?: string; cause?: unknown } = {},
  ) {
    const first = violations[0] ?? { specifier: "", chain: [] };
    const more = violations.length > 1 ? ` (and ${violations.length - 1} more)` : "";
    super(
      code,
      code === "E_IMPORT_OUTSIDE_ROOTS"
        ? `Cannot load plugin "${plugin}" as it imports "${first.specifier}" from outside its allowed roots${more}: ${
          displayChain(first.chain)
        }`
        : `Cannot audit the imports of plugin "${plugin}" as ${options.detail ?? "it failed"}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "ImportAuditError";
    this.plugin = plugin;
    this.specifier = first.specifier;
    this.chain = Object.freeze([...first.chain]);
    this.violations = Object.freeze(
      violations.slice(0, 100).map((v) =>
        Object.freeze({ ...v, chain: Object.freeze([...v.chain]) })
      ),
    );
  }
}

/** The chain for people: files in the entry's folder relative to it, other files as paths. */
function displayChain(chain: readonly string[]): string {
  const folder = chain[0]?.startsWith("file:")
    ? chain[0].slice(0, chain[0].lastIndexOf("/") + 1)
    : "";
  return chain.map((specifier) => {
    if (folder !== "" && specifier.startsWith(folder)) {
      return decodeURIComponent(specifier.slice(folder.length));
    }
    return specifier.startsWith("file://") ? decodeURIComponent(specifier.slice(7)) : specifier;
  }).join(" -> ");
}

/** What `deno info --json` prints, the parts the audit reads. */
interface InfoModule {
  specifier?: string;
  kind?: string;
  local?: string;
  error?: string;
  npmPackage?: string;
  dependencies?: {
    specifier?: string;
    code?: { specifier?: string; error?: string };
  }[];
}
interface InfoOutput {
  roots?: string[];
  modules?: InfoModule[];
  redirects?: Record<string, string>;
  npmPackages?: Record<string, unknown>;
}

/**
 * Audits a plugin's module graph before it loads: runs `deno info --json
 * <entry>` and walks every module it reaches (static imports, `import()`
 * with a string literal, JSON / text / bytes imports). Each must lie under
 * the entry's folder, an `allowImports` root or a trusted root (Chronetix's
 * own source); `node:` built-ins are allowed (they are runtime APIs under
 * the permission system). `npm:` and `jsr:` packages are allowed only when
 * `allowImports` lists them (`"npm:zod"`, or `"npm:"` for all) and are then
 * trusted whole; remote modules only under a listed URL prefix. `deno info`
 * runs with `--no-npm` / `--no-remote` unless the manifest allows such
 * imports, so nothing unlisted is downloaded, and with `--no-lock`. A file
 * reached through a symbolic link counts where the link points.
 *
 * Computed `import()` specifiers are not in the graph: a Worker checks
 * them against its read / import permissions at run time. Needs
 * `--allow-run` (the `deno` binary) and read access to the plugin's files.
 *
 * @param manifest A resolved manifest.
 * @param options The configuration, trusted roots, timeout.
 * @returns What the graph holds.
 * @throws {ImportAuditError} `E_IMPORT_OUTSIDE_ROOTS` with the offending
 * specifier and its import chain, or `E_IMPORT_AUDIT_FAILED`.
 *
 * @example Auditing a plugin that stays in its folder
 * ```ts
 * import { auditImports, validateManifest } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const folder = await Deno.realPath(await Deno.makeTempDir({ dir: "." }));
 * try {
 *   await Deno.writeTextFile(`${folder}/mod.ts`, 'import { x } from "./util.ts";\nexport default x;\n');
 *   await Deno.writeTextFile(`${folder}/util.ts`, "export const x = 1;\n");
 *   const manifest = validateManifest(
 *     { name: "tidy", version: "1.0.0", entry: "mod.ts" },
 *     { baseUrl: new URL(`file://${folder}/`) },
 *   );
 *   const audit = await auditImports(manifest, { config: false });
 *   assertEquals(audit.modules.length, 2);
 * } finally {
 *   await Deno.remove(folder, { recursive: true });
 * }
 * ```
 */
export async function auditImports(
  manifest: ResolvedManifest,
  options: AuditImportsOptions = {},
): Promise<ImportAudit> {
  const action = "audit plugin imports";
  if (!(manifest?.entryUrl instanceof URL) || !Array.isArray(manifest.importRoots)) {
    throw new TypeError(
      `Cannot ${action} as 'manifest' must be a resolved manifest (from validateManifest): current value is ${
        show(manifest)
      }`,
    );
  }
  requireOptions(action, "options", options);
  const timeoutMs = options.timeoutMs ?? 60_000;
  if (typeof timeoutMs !== "number" || !(timeoutMs >= 1 && timeoutMs <= 600_000)) {
    throw new RangeError(
      `Cannot ${action} as 'timeoutMs' must be from 1 to 600000: current value is ${
        show(timeoutMs)
      }`,
    );
  }
  const trusted = (options.trustedRoots ?? [new URL("../", import.meta.url)]).map((r) =>
    r instanceof URL ? r.href : toUrl(r).href
  );
  const roots = new Roots(manifest.importRoots, trusted);
  const info = await runInfo(manifest, roots, options, timeoutMs);
  await roots.resolveLinks();
  return await walk(manifest, info, roots);
}

/** The allowed roots, with symbolic links resolved for local ones. */
class Roots {
  readonly allowed: string[];
  readonly trusted: string[];
  #real = new Map<string, string>();

  constructor(allowed: readonly string[], trusted: readonly string[]) {
    this.allowed = [...allowed];
    this.trusted = [...trusted];
  }

  /** Packages and hosts the manifest lists. */
  has(scheme: "npm:" | "jsr:" | "remote"): boolean {
    return this.allowed.some((r) =>
      scheme === "remote" ? /^https?:/.test(r) || r.startsWith("jsr:") : r.startsWith(scheme)
    );
  }

  /** `host:port` of every remote root, for `--allow-import`. */
  importHosts(): string[] {
    const hosts = new Set<string>();
    for (const root of this.allowed) {
      if (root.startsWith("jsr:")) hosts.add("jsr.io:443");
      else if (/^https?:/.test(root)) {
        const url = new URL(root);
        hosts.add(`${url.hostname}:${url.port || (url.protocol === "https:" ? "443" : "80")}`);
      }
    }
    return [...hosts];
  }

  async resolveLinks(): Promise<void> {
    for (const root of [...this.allowed, ...this.trusted]) {
      if (root.startsWith("file:")) {
        const real = await realPath(decodeURIComponent(new URL(root).pathname));
        if (real !== undefined) this.#real.set(root, real);
      }
    }
  }

  /** `"trusted"` (not walked into), `"allowed"`, or `undefined` (outside). */
  classify(specifier: string, local?: string): "trusted" | "allowed" | undefined {
    if (specifier.startsWith("node:") || specifier.startsWith("data:")) return "allowed";
    const pkg = /^(npm|jsr):\/?((?:@[^/@]+\/)?[^/@]+)/.exec(specifier);
    const jsrUrl = /^https:\/\/jsr\.io\/(@[^/]+\/[^/]+)\//.exec(specifier);
    if (pkg !== null || jsrUrl !== null) {
      const scheme = pkg === null ? "jsr" : pkg[1];
      const name = pkg === null ? jsrUrl![1] : pkg[2];
      if (this.allowed.includes(`${scheme}:`) || this.allowed.includes(`${scheme}:${name}`)) {
        return "trusted";
      }
      if (pkg !== null) return undefined;
    }
    for (const root of this.trusted) if (under(specifier, root)) return "trusted";
    const match = this.allowed.find((root) => under(specifier, root));
    if (match === undefined) return undefined;
    if (local === undefined || !specifier.startsWith("file:")) return "allowed";
    // Inside by name: also inside once links are followed?
    const roots = [...this.allowed, ...this.trusted].filter((r) => r.startsWith("file:"));
    return roots.some((r) => underPath(local, this.#real.get(r))) ? "allowed" : undefined;
  }
}

function under(specifier: string, root: string): boolean {
  if (specifier === root) return true;
  if (!specifier.startsWith(root)) return false;
  return root.endsWith("/") || specifier[root.length] === "/";
}

function underPath(path: string, root: string | undefined): boolean {
  if (root === undefined) return false;
  return path === root || path.startsWith(root.endsWith("/") ? root : `${root}/`);
}

async function realPath(path: string): Promise<string | undefined> {
  try {
    return await Deno.realPath(path);
  } catch {
    return undefined;
  }
}

function toUrl(path: string | URL): URL {
  if (path instanceof URL) return path;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(path)) return new URL(path);
  const absolute = path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
  return new URL(`file://${absolute.replace(/[%#?\\]/g, (c) => encodeURIComponent(c))}`);
}

function pathOf(path: string | URL): string {
  const url = toUrl(path);
  return url.protocol === "file:" ? decodeURIComponent(url.pathname) : url.href;
}

async function runInfo(
  manifest: ResolvedManifest,
  roots: Roots,
  options: AuditImportsOptions,
  timeoutMs: number,
): Promise<InfoOutput> {
  const fail = (detail: string, cause?: unknown) =>
    new ImportAuditError("E_IMPORT_AUDIT_FAILED", manifest.name, [{
      specifier: manifest.entryUrl.href,
      chain: [manifest.entryUrl.href],
    }], { detail, cause });
  const args = ["info", "--json", "--no-lock"];
  if (options.config === false) args.push("--no-config");
  else if (options.config !== undefined) args.push("--config", pathOf(options.config));
  if (!roots.has("npm:")) args.push("--no-npm");
  if (!roots.has("remote")) args.push("--no-remote");
  else args.push(`--allow-import=${roots.importHosts().join(",")}`);
  args.push(manifest.entryUrl.href);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(options.denoPath ?? Deno.execPath(), {
      args,
      cwd: options.cwd === undefined ? undefined : pathOf(options.cwd),
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
    }).output();
  } catch (error) {
    throw fail(
      `'deno info' could not run: ${error instanceof Error ? error.message : error}`,
      error,
    );
  } finally {
    clearTimeout(timer);
  }
  if (controller.signal.aborted) throw fail(`'deno info' ran over its ${timeoutMs} ms timeout`);
  const stderr = new TextDecoder().decode(output.stderr).trim();
  if (!output.success) {
    throw fail(`'deno info' exited with code ${output.code}: ${stderr.slice(0, 500)}`);
  }
  try {
    return JSON.parse(new TextDecoder().decode(output.stdout)) as InfoOutput;
  } catch (error) {
    throw fail("'deno info' printed no valid JSON", error);
  }
}

async function walk(
  manifest: ResolvedManifest,
  info: InfoOutput,
  roots: Roots,
): Promise<ImportAudit> {
  const modules = new Map<string, InfoModule>();
  for (const module of info.modules ?? []) {
    if (typeof module.specifier === "string") modules.set(module.specifier, module);
  }
  const redirects = info.redirects ?? {};
  const follow = (specifier: string): string => {
    let current = specifier;
    for (let i = 0; i < 20 && redirects[current] !== undefined; i++) current = redirects[current]!;
    return current;
  };
  const entry = follow(info.roots?.[0] ?? manifest.entryUrl.href);
  const entryModule = modules.get(entry);
  if (entryModule === undefined || entryModule.error !== undefined) {
    throw new ImportAuditError("E_IMPORT_AUDIT_FAILED", manifest.name, [{
      specifier: entry,
      chain: [entry],
    }], { detail: `its entry does not load: ${entryModule?.error ?? "it is not in the graph"}` });
  }
  const parent = new Map<string, string | undefined>([[entry, undefined]]);
  const chainOf = (specifier: string): string[] => {
    const chain: string[] = [];
    for (let s: string | undefined = specifier; s !== undefined; s = parent.get(s)) {
      chain.unshift(s);
    }
    return chain;
  };
  const violations: ImportViolation[] = [];
  const unresolved: UnresolvedModule[] = [];
  const walked = new Set<string>();
  const npmPackages = new Set<string>();
  const builtins = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const specifier = queue.shift()!;
    const module = modules.get(specifier);
    if (module === undefined) continue;
    const local = module.local === undefined ? undefined : await realPath(module.local);
    if (roots.classify(specifier, local) === undefined) {
      violations.push({ specifier, chain: chainOf(specifier) });
      continue;
    }
    if (module.error !== undefined) {
      unresolved.push({ specifier, error: module.error });
      continue;
    }
    if (module.kind === "npm" && module.npmPackage !== undefined) {
      npmPackages.add(module.npmPackage);
    }
    if (module.kind === "node") {
      builtins.add(specifier);
      continue;
    }
    walked.add(specifier);
    for (const dependency of module.dependencies ?? []) {
      const code = dependency.code;
      if (code === undefined) continue; // a types-only dependency: never loaded at run time
      if (code.specifier === undefined) {
        unresolved.push({ specifier: dependency.specifier ?? "", error: code.error ?? "" });
        continue;
      }
      const target = follow(code.specifier);
      if (parent.has(code.specifier) || parent.has(target)) continue;
      parent.set(code.specifier, specifier);
      if (target !== code.specifier) parent.set(target, code.specifier);
      const kind = roots.classify(code.specifier) ?? roots.classify(target);
      if (kind === undefined) {
        violations.push({ specifier: code.specifier, chain: chainOf(code.specifier) });
        continue;
      }
      if (kind === "trusted") {
        const trustedModule = modules.get(target);
        if (trustedModule?.npmPackage !== undefined) npmPackages.add(trustedModule.npmPackage);
        if (target.startsWith("node:")) builtins.add(target);
        continue;
      }
      queue.push(target);
    }
  }
  if (violations.length > 0) {
    throw new ImportAuditError("E_IMPORT_OUTSIDE_ROOTS", manifest.name, violations);
  }
  return {
    entry,
    modules: [...walked].sort(),
    npmPackages: [...npmPackages].sort(),
    builtins: [...builtins].sort(),
    unresolved,
  };
}
