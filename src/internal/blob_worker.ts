// Starts a module Worker whose program is one self-contained function of this
// codebase (no imports, no outer names), served from a blob: URL. A blob: URL
// needs no read or net permission and works the same whether the package runs
// from a local checkout or from JSR, which a file URL of a worker module
// would not. Used by the waker (time/) and the offload pool (exec/). A
// `node:worker_threads` Worker loads only file: and data: URLs: for it,
// `blobWorkerDataUrl()` serves the same program as a data: URL.
//
// Measured on Deno 2.9.6: passing any `deno` option to `new Worker()`, even
// `{ permissions: "inherit" }`, makes a process started without
// `--unstable-worker-options` (or `"unstable": ["worker-options"]` in its
// deno.json) exit with code 70, which no code can catch; and nothing a
// program can read (`Deno.args`, `process.execArgv`, the environment) tells
// whether that flag is on. So the option is passed only when the caller asks
// for scoped permissions, and then `workerOptionsFlag()` looks where the flag
// can come from (the command line in /proc/self/cmdline, and the "unstable"
// list of the deno.json Deno would have found) so that a missing flag is a
// ChronetixError naming it rather than a dead process.

import { ChronetixError } from "../errors.ts";

/** Deno permissions of a Worker. */
export type WorkerPermissions = "inherit" | "none" | Deno.PermissionOptionsObject;

/** Options of {@linkcode createBlobWorker}. */
export interface BlobWorkerOptions {
  /** The Worker's name (shown in traces and the inspector). */
  name: string;
  /**
   * The Worker's Deno permissions. Left out or `"inherit"`, the Worker gets
   * its parent's permissions and no `deno` option is passed, so no unstable
   * flag is needed; `"none"` or an object needs `--unstable-worker-options`.
   *
   * @default {"inherit"}
   */
  permissions?: WorkerPermissions;
}

// One object URL per distinct program, for the life of the process: the
// programs are a handful of constants, so the cache stays that small.
const urls = new Map<string, string>();
const dataUrls = new Map<string, string>();

/**
 * Returns the program that calls `main(...args)`.
 *
 * @param main A self-contained function: its source is all the Worker gets.
 * @param args Arguments, passed as JSON literals.
 * @returns JavaScript source.
 */
export function blobWorkerSource(
  // deno-lint-ignore no-explicit-any
  main: (...args: any[]) => unknown,
  args: readonly unknown[] = [],
): string {
  if (typeof main !== "function") {
    throw new TypeError(
      `Cannot build a Worker program as 'main' must be a function: current value is ${typeof main}`,
    );
  }
  const literals = args.map((arg) => {
    const json = JSON.stringify(arg);
    if (json === undefined) {
      throw new TypeError(
        `Cannot build a Worker program as its arguments must be JSON values: current value is ${
          String(arg)
        }`,
      );
    }
    return json;
  });
  return `(${main.toString()})(${literals.join(", ")});\n`;
}

/**
 * Returns the blob: URL of a program, made once per distinct source.
 *
 * @param source JavaScript source of a module.
 * @returns The URL, the same for the same source.
 */
export function blobWorkerUrl(source: string): string {
  let url = urls.get(source);
  if (url === undefined) {
    url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    urls.set(source, url);
  }
  return url;
}

/**
 * Returns the data: URL of a program: what a `node:worker_threads` Worker
 * can load (it takes no blob: URL). Made once per distinct source.
 *
 * @param source JavaScript source of a module.
 * @returns The URL, the same for the same source.
 */
export function blobWorkerDataUrl(source: string): string {
  let url = dataUrls.get(source);
  if (url === undefined) {
    url = `data:text/javascript,${encodeURIComponent(source)}`;
    dataUrls.set(source, url);
  }
  return url;
}

/** Whether `permissions` asks for less than the parent has, which needs the `deno` Worker option. */
export function scopedPermissions(permissions: WorkerPermissions | undefined): boolean {
  return permissions !== undefined && permissions !== "inherit";
}

/**
 * Starts a module Worker running `main(...args)` from a blob: URL.
 *
 * @param main A self-contained function: its source is all the Worker gets.
 * @param args Arguments, passed as JSON literals.
 * @param options The Worker's name and permissions.
 * @returns The started Worker; the caller sets its handlers and terminates it.
 * @throws {TypeError} when `main` is not a function or an argument is not JSON.
 * @throws {ChronetixError} (code `E_UNSTABLE_FLAG_MISSING`) when scoped
 * permissions are asked for and `--unstable-worker-options` is known to be off.
 */
export function createBlobWorker(
  // deno-lint-ignore no-explicit-any
  main: (...args: any[]) => unknown,
  args: readonly unknown[],
  options: BlobWorkerOptions,
): Worker {
  const url = blobWorkerUrl(blobWorkerSource(main, args));
  const scoped = scopedPermissions(options.permissions);
  if (scoped) requireWorkerOptionsFlag(`start Worker "${options.name}"`);
  // The deno option only when it changes something: see the file comment.
  return scoped
    ? new Worker(url, {
      type: "module",
      name: options.name,
      deno: { permissions: options.permissions },
    })
    : new Worker(url, { type: "module", name: options.name });
}

/** Whether `--unstable-worker-options` is on: `"unknown"` when nothing readable tells. */
export type WorkerOptionsFlag = "on" | "off" | "unknown";

let flagCache: WorkerOptionsFlag | undefined;

/**
 * Tells whether the process runs with `--unstable-worker-options` (on its
 * command line, or `"unstable": ["worker-options"]` in the deno.json Deno
 * found), which a Worker with a `deno` option needs. Reads
 * /proc/self/cmdline and config files only where read permission is already
 * granted (it never prompts); `"unknown"` on other systems, in a compiled
 * binary, or without that permission. Measured once per process.
 *
 * @returns `"on"`, `"off"` or `"unknown"`.
 */
export function workerOptionsFlag(): WorkerOptionsFlag {
  flagCache ??= detectWorkerOptionsFlag();
  return flagCache;
}

/**
 * Throws unless `--unstable-worker-options` may be on (it is, or nothing
 * tells): the error Deno would otherwise answer with by ending the process.
 *
 * @param action What needs the flag, as in "Cannot <action> as ...".
 * @throws {ChronetixError} (code `E_UNSTABLE_FLAG_MISSING`) when the flag is off.
 */
export function requireWorkerOptionsFlag(action: string): void {
  if (workerOptionsFlag() !== "off") return;
  throw new ChronetixError(
    "E_UNSTABLE_FLAG_MISSING",
    `Cannot ${action} as scoped Worker permissions need the flag --unstable-worker-options: add it to the deno command (deno run --unstable-worker-options ...) or add "unstable": ["worker-options"] to deno.json; without it Deno ends the process (exit code 70)`,
  );
}

function readable(path: string): string | undefined {
  try {
    if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return undefined;
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/** Deno's options that take a value as the next argument (the ones a flag search could trip on). */
const VALUE_OPTIONS = new Set([
  "-c",
  "--config",
  "--import-map",
  "--lock",
  "--location",
  "--cert",
  "--env-file",
  "--inspect",
  "--seed",
  "--v8-flags",
  "-L",
  "--log-level",
]);

function detectWorkerOptionsFlag(): WorkerOptionsFlag {
  if (Deno.build.os !== "linux") return "unknown";
  const cmdline = readable("/proc/self/cmdline");
  if (cmdline === undefined) return "unknown";
  const argv = cmdline.split("\0").filter((arg) => arg.length > 0);
  const exe = argv[0] ?? "";
  if (!/(^|\/)deno(\.exe)?$/.test(exe)) return "unknown"; // a compiled binary, or not deno
  let config: string | undefined;
  let noConfig = false;
  let subcommand: string | undefined;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") break;
    if (arg === "--unstable-worker-options" || arg === "--unstable-worker-options=true") {
      return "on";
    }
    if (arg === "--no-config") noConfig = true;
    else if (arg === "-c" || arg === "--config") config = argv[++i];
    else if (arg.startsWith("--config=")) config = arg.slice("--config=".length);
    else if (VALUE_OPTIONS.has(arg)) i++;
    else if (!arg.startsWith("-")) {
      subcommand ??= arg;
      // After the script (or eval's code), the arguments are the program's.
      if (subcommand !== "run" && subcommand !== "test" && subcommand !== "bench") break;
      if (arg !== subcommand) break;
    }
  }
  if (noConfig) return "off";
  const files = config !== undefined
    ? [new URL(config, `file://${Deno.cwd()}/`).pathname]
    : configCandidates(subcommand);
  if (files === undefined) return "unknown";
  for (const file of files) {
    const text = readable(file);
    if (text === undefined) {
      if (config !== undefined) return "unknown";
      continue;
    }
    const list = /"unstable"\s*:\s*\[([^\]]*)\]/.exec(text)?.[1];
    if (list !== undefined && /"worker-options"/.test(list)) return "on";
  }
  return "off";
}

/**
 * The deno.json(c) files Deno may have found: up from the main module's
 * folder for `deno run` (and `deno <script>`), up from the working directory
 * otherwise. Every ancestor counts (a workspace root may hold the list).
 */
function configCandidates(subcommand: string | undefined): string[] | undefined {
  let start: string;
  try {
    const main = new URL(Deno.mainModule);
    start = subcommand !== "test" && subcommand !== "bench" && subcommand !== "eval" &&
        main.protocol === "file:"
      ? decodeURIComponent(main.pathname.slice(0, main.pathname.lastIndexOf("/")))
      : Deno.cwd();
  } catch {
    return undefined;
  }
  const files: string[] = [];
  let dir = start;
  for (;;) {
    files.push(`${dir}/deno.json`, `${dir}/deno.jsonc`);
    const up = dir.slice(0, dir.lastIndexOf("/"));
    if (up === dir || dir === "") break;
    dir = up;
  }
  return files;
}
