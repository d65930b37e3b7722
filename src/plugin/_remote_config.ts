// The options every remote host (worker, process) takes, and their checks.

import type { AuditImportsOptions } from "./import_audit.ts";

/** Options every remote host factory takes. */
export interface RemoteHostOptions {
  /**
   * How long either side holds publishes, events, logs and metric samples
   * before sending them as one message, ms (results, crashes and exits go at
   * once).
   *
   * @default {5}
   */
  flushMs?: number;
  /**
   * Ops (or forwarded events) one side may have sent that the other has not
   * taken yet; past it, publishes, logs and events are dropped and counted.
   *
   * @default {10000}
   */
  maxInflight?: number;
  /**
   * Audit the entry's import graph before the first load (`deno info`,
   * needs `run` permission for the kernel): a Worker's permissions do not
   * cover static imports. `false` skips it: only for code you trust.
   *
   * @default {true}
   */
  audit?: boolean | AuditImportsOptions;
}

/** Resolved options. */
export interface RemoteConfig {
  flushMs: number;
  maxInflight: number;
  audit: false | AuditImportsOptions;
}

/** Resolves the options every remote host takes. */
export function remoteConfig(action: string, options: RemoteHostOptions): RemoteConfig {
  const flushMs = options.flushMs ?? 5;
  if (!(typeof flushMs === "number" && flushMs >= 0 && flushMs <= 1000)) {
    throw new RangeError(
      `Cannot ${action} as 'flushMs' must be a number in [0, 1000]: current value is ${
        String(flushMs)
      }`,
    );
  }
  const maxInflight = options.maxInflight ?? 10_000;
  if (!(Number.isInteger(maxInflight) && maxInflight >= 1 && maxInflight <= 10_000_000)) {
    throw new RangeError(
      `Cannot ${action} as 'maxInflight' must be an integer in [1, 10000000]: current value is ${
        String(maxInflight)
      }`,
    );
  }
  const audit = options.audit ?? true;
  return {
    flushMs,
    maxInflight,
    audit: audit === false ? false : audit === true ? {} : audit,
  };
}
