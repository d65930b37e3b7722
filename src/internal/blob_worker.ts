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
// for scoped permissions.

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
 */
export function createBlobWorker(
  // deno-lint-ignore no-explicit-any
  main: (...args: any[]) => unknown,
  args: readonly unknown[],
  options: BlobWorkerOptions,
): Worker {
  const url = blobWorkerUrl(blobWorkerSource(main, args));
  // The deno option only when it changes something: see the file comment.
  return scopedPermissions(options.permissions)
    ? new Worker(url, {
      type: "module",
      name: options.name,
      deno: { permissions: options.permissions },
    })
    : new Worker(url, { type: "module", name: options.name });
}
