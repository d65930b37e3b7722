// The offload pool's argument checks, at its boundary, once: the options of
// its constructor resolved into a config, and the arguments of submit().
// Each bad value is a TypeError or RangeError naming the parameter as the
// caller wrote it, thrown before anything is started, queued or counted.

import { requireInstance } from "../internal/validate.ts";
import { ChronetixError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { CONSOLE_LOGGER } from "../logger.ts";
import { MetricsRegistry } from "../metrics/registry.ts";
import { Driver } from "../time/driver.ts";
import type { WorkerPermissions } from "../internal/blob_worker.ts";
import {
  requireInteger,
  requireLogger,
  requireNonEmptyString,
  requireNonNegative,
  requireOptions,
  requirePositive,
  show,
} from "../internal/validate.ts";
import type { OffloadPoolOptions, SubmitOptions } from "./offload_types.ts";
import { resolveJobUrl } from "./_offload_slot.ts";

/** The heap cap of a job worker when the pool's options leave it out, MB. */
export const DEFAULT_MAX_HEAP_MB = 512;
/** The smallest heap cap: measured, a worker needs about 5 MB to start. */
export const MIN_MAX_HEAP_MB = 16;
/** The largest heap cap, MB. */
export const MAX_MAX_HEAP_MB = 65536;

/** The keys of `Deno.PermissionOptionsObject`. */
const PERMISSION_KEYS: readonly string[] = [
  "env",
  "ffi",
  "import",
  "net",
  "read",
  "run",
  "sys",
  "write",
];

/** An offload pool's options, checked and with defaults filled in. */
export interface PoolConfig {
  name: string;
  logger: Logger;
  /** Job name to module URL. */
  jobs: Map<string, string>;
  minWorkers: number;
  maxWorkers: number;
  /** `Infinity`: never shrink. */
  idleTimeoutMs: number;
  queueCap: number;
  timeoutMs: number;
  batch: number;
  /** `undefined`: the process's permissions, without the `deno` Worker option. */
  permissions: WorkerPermissions | undefined;
  maxHeapMb: number;
  driver: Driver | undefined;
  metrics: MetricsRegistry | undefined;
}

/**
 * Checks an offload pool's options.
 *
 * @throws {TypeError} when an option has the wrong type.
 * @throws {RangeError} when a number is out of range.
 */
export function resolvePoolOptions(options: OffloadPoolOptions): PoolConfig {
  const action = "create an OffloadPool";
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `Cannot ${action} as 'options' must be an object: current value is ${show(options)}`,
    );
  }
  const name = requireNonEmptyString(action, "name", options.name ?? "offload");
  const logger = requireLogger(action, "logger", options.logger ?? CONSOLE_LOGGER);
  const jobs = resolveJobs(action, options.jobs);
  const { minWorkers, maxWorkers } = resolveWorkers(action, options);
  const idleTimeoutMs = options.idleTimeoutMs === Infinity
    ? Infinity
    : requireNonNegative(action, "idleTimeoutMs", options.idleTimeoutMs ?? 30_000);
  const queueCap = requireInteger(action, "queueCap", options.queueCap ?? 1024, 1, 2 ** 24);
  const timeoutMs = requirePositive(action, "timeoutMs", options.timeoutMs ?? 30_000);
  const batch = requireInteger(action, "batch", options.batch ?? 32, 1, 4096);
  const permissions = requirePermissions(action, options.permissions);
  requireOptions(action, "resourceLimits", options.resourceLimits);
  const maxHeapMb = requireInteger(
    action,
    "resourceLimits.maxHeapMb",
    options.resourceLimits?.maxHeapMb ?? DEFAULT_MAX_HEAP_MB,
    MIN_MAX_HEAP_MB,
    MAX_MAX_HEAP_MB,
  );
  const driver = requireInstance(action, "driver", options.driver, Driver);
  const metrics = requireInstance(action, "metrics", options.metrics, MetricsRegistry);
  return {
    name,
    logger,
    jobs,
    minWorkers,
    maxWorkers,
    idleTimeoutMs,
    queueCap,
    timeoutMs,
    batch,
    permissions,
    maxHeapMb,
    driver,
    metrics,
  };
}

/** The most workers a pool may have. */
export const MAX_WORKERS = 256;

/**
 * Resolves `minWorkers` and `maxWorkers`, or the deprecated `workers` (a
 * fixed size: both bounds set to it).
 */
function resolveWorkers(
  action: string,
  options: OffloadPoolOptions,
): { minWorkers: number; maxWorkers: number } {
  if (options.workers !== undefined) {
    if (options.minWorkers !== undefined || options.maxWorkers !== undefined) {
      throw new TypeError(
        `Cannot ${action} as 'workers' (a fixed size, deprecated) must not be given with 'minWorkers' or 'maxWorkers': current value is ${
          show(options.workers)
        }`,
      );
    }
    const fixed = requireInteger(action, "workers", options.workers, 1, MAX_WORKERS);
    return { minWorkers: fixed, maxWorkers: fixed };
  }
  const cores = Math.max(1, (navigator.hardwareConcurrency ?? 2) - 1);
  const min = options.minWorkers === undefined
    ? undefined
    : requireInteger(action, "minWorkers", options.minWorkers, 0, MAX_WORKERS);
  const maxWorkers = requireInteger(
    action,
    "maxWorkers",
    options.maxWorkers ?? Math.max(cores, min ?? 1),
    1,
    MAX_WORKERS,
  );
  const minWorkers = min ?? Math.min(1, maxWorkers);
  if (minWorkers > maxWorkers) {
    throw new RangeError(
      `Cannot ${action} as 'minWorkers' must be <= 'maxWorkers' (${maxWorkers}): current value is ${minWorkers}`,
    );
  }
  return { minWorkers, maxWorkers };
}

function resolveJobs(action: string, jobs: unknown): Map<string, string> {
  if (jobs === null || typeof jobs !== "object" || Array.isArray(jobs)) {
    throw new TypeError(
      `Cannot ${action} as 'jobs' must be an object of job module URLs: current value is ${
        show(jobs)
      }`,
    );
  }
  const resolved = new Map<string, string>();
  for (const [job, url] of Object.entries(jobs)) {
    const bad = (why: string) =>
      new TypeError(
        `Cannot ${action} as 'jobs' must map each job name to a module URL: job ${show(job)} is ${
          show(url)
        }${why}`,
      );
    if (!(url instanceof URL) && (typeof url !== "string" || url.length === 0)) throw bad("");
    try {
      resolved.set(job, resolveJobUrl(url));
    } catch (error) {
      throw bad(` (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  if (resolved.size === 0) {
    throw new TypeError(`Cannot ${action} as 'jobs' is empty: register at least one job module`);
  }
  return resolved;
}

/**
 * Throws a `TypeError` unless `value` is Deno Worker permissions; returns
 * `undefined` for the process's own (left out or `"inherit"`).
 */
function requirePermissions(action: string, value: unknown): WorkerPermissions | undefined {
  if (value === undefined || value === "inherit") return undefined;
  if (value === "none") return "none";
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(
      `Cannot ${action} as 'permissions' must be "inherit", "none" or an object of Deno permissions: current value is ${
        show(value)
      }`,
    );
  }
  for (const [key, grant] of Object.entries(value)) {
    if (!PERMISSION_KEYS.includes(key)) {
      throw new TypeError(
        `Cannot ${action} as 'permissions' has an unknown key ${show(key)}: known keys are ${
          PERMISSION_KEYS.join(", ")
        }`,
      );
    }
    const ok = grant === undefined || grant === "inherit" || typeof grant === "boolean" ||
      (Array.isArray(grant) &&
        grant.every((item) => typeof item === "string" || item instanceof URL));
    if (!ok) {
      throw new TypeError(
        `Cannot ${action} as 'permissions.${key}' must be "inherit", a boolean or a list of strings: current value is ${
          show(grant)
        }`,
      );
    }
  }
  return value as Deno.PermissionOptionsObject;
}

/** Throws a `TypeError` unless `input` can be sent to a worker (at its top level). */
export function requireInput(action: string, input: unknown): void {
  if (typeof input === "function" || typeof input === "symbol") {
    throw new TypeError(
      `Cannot ${action} as 'input' must be a value that can be cloned: current value is ${
        show(input)
      }`,
    );
  }
}

/** Throws a `TypeError` unless `signal` is `undefined` or an `AbortSignal`. */
export function requireSignal(action: string, signal: unknown): AbortSignal | undefined {
  if (signal === undefined || signal instanceof AbortSignal) return signal;
  throw new TypeError(
    `Cannot ${action} as 'signal' must be an AbortSignal: current value is ${show(signal)}`,
  );
}

/**
 * Throws a `TypeError` unless `transfer` is `undefined` or an array of
 * objects that can be transferred: `ArrayBuffer`s (not shared, not
 * detached) and `MessagePort`s, each once.
 */
export function requireTransfer(action: string, transfer: unknown): Transferable[] | undefined {
  if (transfer === undefined) return undefined;
  const must = `Cannot ${action} as 'transfer' must be an array of ArrayBuffers and MessagePorts`;
  if (!Array.isArray(transfer)) {
    throw new TypeError(`${must}: current value is ${show(transfer)}`);
  }
  const seen = new Map<unknown, number>();
  for (let i = 0; i < transfer.length; i++) {
    const item: unknown = transfer[i];
    let why: string | undefined;
    if (item instanceof ArrayBuffer) {
      if ((item as { detached?: boolean }).detached === true) why = ", which is detached";
    } else if (item instanceof SharedArrayBuffer) {
      why = ", which is shared: it is passed in the input as is";
    } else if (ArrayBuffer.isView(item)) {
      why = ": transfer its .buffer";
    } else if (!(item instanceof MessagePort)) {
      why = "";
    }
    if (why !== undefined) throw new TypeError(`${must}: item ${i} is ${show(item)}${why}`);
    const first = seen.get(item);
    if (first !== undefined) {
      throw new TypeError(`${must}, each once: item ${i} is item ${first} again`);
    }
    seen.set(item, i);
  }
  return transfer as Transferable[];
}

/** The error of a pool whose workers cannot start (permissions beyond the process's own). */
export function workerStartError(
  permissions: WorkerPermissions | undefined,
  error: unknown,
): ChronetixError {
  return new ChronetixError(
    "E_WORKER_START",
    `Cannot create an OffloadPool as its workers cannot start with 'permissions' ${
      show(permissions ?? "inherit")
    }: ${error instanceof Error ? error.message : show(error)}`,
    { cause: error },
  );
}

/** The error of a job whose input (or transfer list) could not be sent to a worker. */
export function unsentError(job: string, error: unknown): TypeError {
  return new TypeError(
    `Cannot submit job ${
      show(job)
    } as 'input' must be a value that can be cloned, with 'transfer' listing what to transfer: ${
      error instanceof Error ? error.message : show(error)
    }`,
    { cause: error },
  );
}

/** The checked arguments of a submit. */
export interface SubmitArgs {
  signal: AbortSignal | undefined;
  transfer: Transferable[] | undefined;
  timeoutMs: number;
}

/**
 * Checks the arguments of `submit()`.
 *
 * @param defaultTimeoutMs The pool's timeout, for a job without its own.
 * @throws {TypeError} or {RangeError} naming the bad argument.
 */
export function checkSubmit(
  job: string,
  input: unknown,
  options: SubmitOptions,
  defaultTimeoutMs: number,
): SubmitArgs {
  requireNonEmptyString("submit a job", "job", job);
  const action = `submit job ${show(job)}`;
  requireInput(action, input);
  requireOptions(action, "options", options);
  return {
    signal: requireSignal(action, options.signal),
    transfer: requireTransfer(action, options.transfer),
    timeoutMs: options.timeoutMs === undefined
      ? defaultTimeoutMs
      : requirePositive(action, "timeoutMs", options.timeoutMs),
  };
}

/**
 * The module URL of a job: a registered job's, or for `"<job>#<export>"`,
 * the named export of a registered job's module (its URL with that fragment).
 *
 * @returns The URL, or `undefined` when the job is not registered.
 */
export function jobUrl(jobs: ReadonlyMap<string, string>, job: string): string | undefined {
  const url = jobs.get(job);
  if (url !== undefined) return url;
  const hash = job.lastIndexOf("#");
  if (hash <= 0 || hash === job.length - 1) return undefined;
  const base = jobs.get(job.slice(0, hash));
  if (base === undefined) return undefined;
  const module = base.includes("#") ? base.slice(0, base.indexOf("#")) : base;
  return `${module}#${encodeURIComponent(job.slice(hash + 1))}`;
}

/** The error of a submit of a job that is not registered. */
export function unknownJobError(job: string, pool: string, names: readonly string[]): TypeError {
  return new TypeError(
    `Cannot submit job ${
      show(job)
    } to offload pool "${pool}" as 'job' is not registered: known jobs are ${
      names.map((n) => `"${n}"`).join(", ")
    } (or "<job>#<export>" for a named export of one)`,
  );
}
