// A manifest's permissions, turned into what each host needs: a
// Deno.PermissionOptionsObject for a Worker, --allow-*/--deny-* flags for a
// `deno run` subprocess; and the checks against the kernel's own
// permissions (no escalation; the inline host's warning).

import { ChronetixError } from "../errors.ts";
import { requireOptions, show } from "../internal/validate.ts";
import {
  PERMISSION_KINDS,
  type PermissionKind,
  type PermissionValue,
  type ResolvedManifest,
} from "./manifest_types.ts";

/** Options of {@linkcode workerPermissions} and {@linkcode permissionFlags}. */
export interface PermissionMappingOptions {
  /**
   * Grants the host itself needs on top of the manifest's (e.g. `read` of
   * the entry's folder for a dynamic `import()`), per kind. They widen a
   * kind the manifest denies to that list; a kind already `true` or
   * `"inherit"` stays so.
   *
   * @default {{}}
   */
  extra?: { readonly [K in PermissionKind]?: readonly string[] };
}

/**
 * The manifest's permissions as a `Deno.PermissionOptionsObject` for
 * `new Worker(url, { type: "module", deno: { permissions } })` (needs
 * `"unstable": ["worker-options"]`). Every kind is present: a kind the
 * manifest leaves out is `false`. A Worker cannot get more than its parent:
 * check with {@linkcode exceedsKernel} first for a clear error.
 *
 * @param manifest A resolved manifest.
 * @param options Extra grants for the host.
 * @returns The permissions object.
 *
 * @example Mapping a manifest onto Worker permissions
 * ```ts
 * import { validateManifest } from "@chronetix/core";
 * import { workerPermissions } from "./permissions.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const manifest = validateManifest(
 *   { name: "sampler", version: "1.0.0", entry: "mod.ts", permissions: { net: ["127.0.0.1:9000"], env: true } },
 *   { baseUrl: new URL("file:///opt/sampler/") },
 * );
 * const permissions = workerPermissions(manifest, { extra: { read: ["/opt/sampler"] } });
 * assertEquals(permissions.net, ["127.0.0.1:9000"]);
 * assertEquals(permissions.env, true);
 * assertEquals(permissions.read, ["/opt/sampler"]);
 * assertEquals(permissions.run, false);
 * ```
 */
export function workerPermissions(
  manifest: ResolvedManifest,
  options: PermissionMappingOptions = {},
): Deno.PermissionOptionsObject {
  const grants = merged(manifest, options, "map permissions for a worker");
  const result: Record<string, boolean | "inherit" | string[]> = {};
  for (const kind of PERMISSION_KINDS) {
    const grant = grants[kind];
    result[kind] = typeof grant === "object" ? [...grant] : grant;
  }
  return result as Deno.PermissionOptionsObject;
}

/**
 * The manifest's permissions as `deno run` flags for a subprocess: a kind
 * granted whole is `--allow-<kind>`, a list `--allow-<kind>=a,b` (a comma
 * inside an item doubled, as Deno's parser expects), a denied kind
 * `--deny-<kind>` (so no later flag or config grants it), then
 * `--no-prompt`. A kind set to `"inherit"` becomes `--allow-<kind>` when
 * the kernel holds that kind whole, and is DENIED otherwise: Deno does not
 * tell a process which paths or hosts it was granted, so a partial grant
 * cannot be passed on; list them in the manifest instead.
 *
 * @param manifest A resolved manifest.
 * @param options Extra grants for the host (its runner module, the entry's folder).
 * @returns The flags, in {@linkcode PERMISSION_KINDS} order, `--no-prompt` last.
 *
 * @example Mapping a manifest onto subprocess flags
 * ```ts
 * import { validateManifest } from "@chronetix/core";
 * import { permissionFlags } from "./permissions.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const manifest = validateManifest(
 *   { name: "sampler", version: "1.0.0", entry: "mod.ts", permissions: { read: ["data"], env: ["HOME", "TZ"] } },
 *   { baseUrl: new URL("file:///opt/sampler/") },
 * );
 * assertEquals(permissionFlags(manifest), [
 *   "--allow-read=/opt/sampler/data",
 *   "--deny-write",
 *   "--deny-net",
 *   "--allow-env=HOME,TZ",
 *   "--deny-run",
 *   "--deny-ffi",
 *   "--deny-sys",
 *   "--deny-import",
 *   "--no-prompt",
 * ]);
 * ```
 */
export function permissionFlags(
  manifest: ResolvedManifest,
  options: PermissionMappingOptions = {},
): string[] {
  const grants = merged(manifest, options, "map permissions to flags");
  const flags: string[] = [];
  for (const kind of PERMISSION_KINDS) {
    let grant = grants[kind];
    if (grant === "inherit") grant = queryState({ name: kind }) === "granted";
    if (grant === true) flags.push(`--allow-${kind}`);
    else if (grant === false || grant.length === 0) flags.push(`--deny-${kind}`);
    else flags.push(`--allow-${kind}=${grant.map((item) => item.replaceAll(",", ",,")).join(",")}`);
  }
  flags.push("--no-prompt");
  return flags;
}

/** One permission a manifest asks for that the kernel itself does not have. */
export interface PermissionEscalation {
  /** The kind, e.g. `"net"`. */
  kind: PermissionKind;
  /** The path, host, variable, command or sys name; absent for the whole kind (`true`). */
  target?: string;
  /** What `Deno.permissions.querySync` answered for the kernel. */
  state: Deno.PermissionState;
}

/**
 * Which permissions a manifest asks for that the kernel itself does not
 * have (`Deno.permissions.querySync`): `true` needs the whole kind granted,
 * each list item its own grant; `false` and `"inherit"` never escalate.
 * A Worker refuses such permissions by itself; a subprocess would GET
 * them, so the manager refuses such a manifest ({@linkcode PermissionEscalationError}).
 *
 * @param manifest A resolved manifest.
 * @returns The escalations, empty when the manifest asks for no more than the kernel has.
 *
 * @example Finding what the kernel cannot grant
 * ```ts
 * import { validateManifest } from "@chronetix/core";
 * import { exceedsKernel } from "./permissions.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const manifest = validateManifest(
 *   { name: "greedy", version: "1.0.0", entry: "mod.ts", permissions: { ffi: true } },
 *   { baseUrl: new URL("file:///opt/greedy/") },
 * );
 * const kernelHasFfi = Deno.permissions.querySync({ name: "ffi" }).state === "granted";
 * assertEquals(exceedsKernel(manifest).map((e) => e.kind), kernelHasFfi ? [] : ["ffi"]);
 * ```
 */
export function exceedsKernel(manifest: ResolvedManifest): PermissionEscalation[] {
  const grants = merged(manifest, {}, "compare permissions with the kernel's");
  const escalations: PermissionEscalation[] = [];
  for (const kind of PERMISSION_KINDS) {
    const grant = grants[kind];
    if (grant === false || grant === "inherit") continue;
    if (grant === true) {
      const state = queryState({ name: kind });
      if (state !== "granted") escalations.push({ kind, state });
      continue;
    }
    for (const target of grant) {
      const state = queryState(descriptor(kind, target));
      if (state !== "granted") escalations.push({ kind, target, state });
    }
  }
  return escalations;
}

/**
 * Refuses a plugin that asks for permissions the kernel does not have
 * (see {@linkcode exceedsKernel}); `code` is `E_PLUGIN_PERMISSION_ESCALATION`.
 *
 * @example Reading an escalation error
 * ```ts
 * import { PermissionEscalationError } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const error = new PermissionEscalationError("greedy", [{ kind: "net", state: "prompt" }]);
 * assertEquals(error.code, "E_PLUGIN_PERMISSION_ESCALATION");
 * assertEquals(
 *   error.message,
 *   'Cannot load plugin "greedy" as it asks for permissions the kernel does not have: net (the kernel\'s is "prompt")',
 * );
 * ```
 */
export class PermissionEscalationError extends ChronetixError {
  /** The plugin's name. */
  readonly plugin: string;
  /** What it asked for beyond the kernel. */
  readonly escalations: readonly PermissionEscalation[];

  /**
   * Creates the error.
   *
   * @param plugin The plugin's name.
   * @param escalations What it asked for beyond the kernel (from {@linkcode exceedsKernel}).
   */
  constructor(plugin: string, escalations: readonly PermissionEscalation[]) {
    const list = escalations.map((e) =>
      `${e.kind}${
        e.target === undefined ? "" : ` ${show(e.target)}`
      } (the kernel's is "${e.state}")`
    ).join(", ");
    super(
      "E_PLUGIN_PERMISSION_ESCALATION",
      `Cannot load plugin "${plugin}" as it asks for permissions the kernel does not have: ${list}`,
    );
    this.name = "PermissionEscalationError";
    this.plugin = plugin;
    this.escalations = Object.freeze(escalations.map((e) => Object.freeze({ ...e })));
  }
}

/**
 * Throws a {@linkcode PermissionEscalationError} when the manifest asks for
 * more than the kernel has; the manager calls it before any host starts.
 *
 * @param manifest A resolved manifest.
 * @throws {PermissionEscalationError} listing every escalation.
 *
 * @example Refusing an escalation
 * ```ts
 * import { PermissionEscalationError, validateManifest } from "@chronetix/core";
 * import { assertWithinKernel } from "./permissions.ts";
 * import { assertThrows } from "@std/assert";
 *
 * const manifest = validateManifest(
 *   { name: "greedy", version: "1.0.0", entry: "mod.ts", permissions: { net: ["203.0.113.9:1"] } },
 *   { baseUrl: new URL("file:///opt/greedy/") },
 * );
 * if (Deno.permissions.querySync({ name: "net", host: "203.0.113.9:1" }).state !== "granted") {
 *   assertThrows(() => assertWithinKernel(manifest), PermissionEscalationError);
 * }
 * ```
 */
export function assertWithinKernel(manifest: ResolvedManifest): void {
  const escalations = exceedsKernel(manifest);
  if (escalations.length > 0) throw new PermissionEscalationError(manifest.name, escalations);
}

/**
 * The startup warning for an inline plugin whose manifest asks for less
 * than the kernel has: an inline plugin runs in the kernel's isolate with
 * the KERNEL's permissions, whatever its manifest says. `undefined` for
 * other isolation levels and for a manifest that asks for all the kernel has.
 *
 * A kind counts as "less" when the manifest does not grant it whole
 * (`false` or a list) while the kernel holds it whole, or, for `read` and
 * `write`, when the manifest denies it while the kernel may use the
 * plugin's own folder.
 *
 * @param manifest A resolved manifest.
 * @returns The warning text, or `undefined`.
 *
 * @example Warning about an inline plugin
 * ```ts
 * import { inlinePermissionWarning, validateManifest } from "@chronetix/core";
 * import { assert, assertEquals } from "@std/assert";
 *
 * const manifest = validateManifest(
 *   { name: "trusted", version: "1.0.0", entry: "mod.ts", isolation: "inline" },
 *   { baseUrl: new URL("file:///opt/trusted/") },
 * );
 * const warning = inlinePermissionWarning(manifest);
 * const kernelHasEnv = Deno.permissions.querySync({ name: "env" }).state === "granted";
 * if (kernelHasEnv) assert(warning?.includes("env"));
 * assertEquals(inlinePermissionWarning({ ...manifest, isolation: "worker" }), undefined);
 * ```
 */
export function inlinePermissionWarning(manifest: ResolvedManifest): string | undefined {
  const grants = merged(manifest, {}, "compare permissions with the kernel's");
  if (manifest.isolation !== "inline") return undefined;
  const folder = manifest.baseUrl.protocol === "file:"
    ? decodeURIComponent(manifest.baseUrl.pathname)
    : undefined;
  const less: PermissionKind[] = [];
  for (const kind of PERMISSION_KINDS) {
    const grant = grants[kind];
    if (grant === true || grant === "inherit") continue;
    const kernelWhole = queryState({ name: kind }) === "granted";
    const kernelFolder = grant === false && folder !== undefined &&
      (kind === "read" || kind === "write") &&
      queryState({ name: kind, path: folder }) === "granted";
    if (kernelWhole || kernelFolder) less.push(kind);
  }
  if (less.length === 0) return undefined;
  return `Plugin "${manifest.name}" runs inline with the kernel's permissions, not its manifest's: ` +
    `it asks for less than the kernel has (${less.join(", ")}) and gets the kernel's anyway. ` +
    `Use isolation "worker" or "process" to enforce its manifest`;
}

function merged(
  manifest: ResolvedManifest,
  options: PermissionMappingOptions,
  action: string,
): Record<PermissionKind, PermissionValue> {
  const permissions = (manifest as { permissions?: unknown } | null)?.permissions;
  if (permissions === null || typeof permissions !== "object") {
    throw new TypeError(
      `Cannot ${action} as 'manifest' must be a resolved manifest (from validateManifest): current value is ${
        show(manifest)
      }`,
    );
  }
  requireOptions(action, "options", options);
  const grants = { ...(permissions as Record<PermissionKind, PermissionValue>) };
  const extra = options.extra ?? {};
  for (const kind of PERMISSION_KINDS) {
    const more = extra[kind];
    const grant = grants[kind] ?? false;
    if (more === undefined || more.length === 0 || grant === true || grant === "inherit") {
      grants[kind] = grant;
      continue;
    }
    const list = grant === false ? [] : [...grant];
    for (const item of more) if (!list.includes(item)) list.push(item);
    grants[kind] = list;
  }
  return grants;
}

function descriptor(kind: PermissionKind, target: string): Deno.PermissionDescriptor {
  switch (kind) {
    case "read":
    case "write":
    case "ffi":
      return { name: kind, path: target };
    case "net":
    case "import":
      return { name: kind, host: target };
    case "env":
      return { name: "env", variable: target };
    case "run":
      return { name: "run", command: target };
    case "sys":
      return { name: "sys", kind: target as Deno.SysPermissionDescriptor["kind"] };
  }
}

function queryState(descriptor: Deno.PermissionDescriptor): Deno.PermissionState {
  try {
    return Deno.permissions.querySync(descriptor).state;
  } catch {
    // A descriptor Deno cannot parse (a wildcard host) cannot be proven granted.
    return "denied";
  }
}
