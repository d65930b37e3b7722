// Checks the options of a hot reload and derives the new version's
// manifest from the running one's.

import {
  requireFunction,
  requireInteger,
  requireNonNegative,
  requireOptions,
  requirePositive,
  show,
} from "../internal/validate.ts";
import type { ResolvedManifest } from "./manifest_types.ts";
import { RELOAD_DEFAULTS, type ReloadOptions } from "./hot_reload_types.ts";
import type { SwitchOptions } from "./_reload_switch.ts";

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

const KNOWN = new Set([
  "entry",
  "version",
  "drainPollMs",
  "quiescentTimeoutMs",
  "checks",
  "maxBuffered",
  "probationMs",
]);

/** The checked options: the switch's and the probation window. */
export interface CheckedReload extends Omit<SwitchOptions, "keepOld"> {
  probationMs: number;
}

/** Checks `options` and derives the new manifest from `current`. */
export function checkReloadOptions(
  current: ResolvedManifest,
  options: ReloadOptions,
): CheckedReload {
  const action = "reload a plugin";
  requireOptions(action, "options", options);
  const o = options ?? {};
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) {
      throw new TypeError(
        `Cannot ${action} as ${show(key)} is not a known option: known are ${
          [...KNOWN].join(", ")
        }`,
      );
    }
  }
  let entryUrl = current.entryUrl;
  let entry = current.entry;
  if (o.entry !== undefined) {
    if (typeof o.entry === "string" && o.entry.length > 0 && o.entry.length <= 4096) {
      try {
        entryUrl = new URL(o.entry, current.baseUrl);
      } catch {
        throw new TypeError(
          `Cannot ${action} as 'entry' must be a path or URL: current value is ${show(o.entry)}`,
        );
      }
      entry = o.entry;
    } else if (o.entry instanceof URL) {
      entryUrl = new URL(o.entry.href);
      entry = o.entry.href;
    } else {
      throw new TypeError(
        `Cannot ${action} as 'entry' must be a non-empty string or a URL: current value is ${
          show(o.entry)
        }`,
      );
    }
    if (!["file:", "http:", "https:", "data:"].includes(entryUrl.protocol)) {
      throw new TypeError(
        `Cannot ${action} as 'entry' must be a file:, http:, https: or data: URL: current value is ${
          show(entryUrl.href)
        }`,
      );
    }
  }
  let version = current.version;
  if (o.version !== undefined) {
    if (typeof o.version !== "string" || o.version.length > 256 || !SEMVER.test(o.version)) {
      throw new TypeError(
        `Cannot ${action} as 'version' must be a semantic version such as "1.2.3": current value is ${
          show(o.version)
        }`,
      );
    }
    version = o.version;
  }
  const drainPollMs = requirePositive(
    action,
    "drainPollMs",
    o.drainPollMs ?? RELOAD_DEFAULTS.drainPollMs,
  );
  const quiescentTimeoutMs = requireNonNegative(
    action,
    "quiescentTimeoutMs",
    o.quiescentTimeoutMs ?? RELOAD_DEFAULTS.quiescentTimeoutMs,
  );
  if (quiescentTimeoutMs > 600_000 || drainPollMs > 600_000) {
    throw new RangeError(
      `Cannot ${action} as 'quiescentTimeoutMs' and 'drainPollMs' must be <= 600000: current values are ${quiescentTimeoutMs} and ${drainPollMs}`,
    );
  }
  const maxBuffered = requireInteger(
    action,
    "maxBuffered",
    o.maxBuffered ?? RELOAD_DEFAULTS.maxBuffered,
    0,
    10_000_000,
  );
  const probationMs = requireNonNegative(
    action,
    "probationMs",
    o.probationMs ?? RELOAD_DEFAULTS.probationMs,
  );
  if (probationMs > 86_400_000) {
    throw new RangeError(
      `Cannot ${action} as 'probationMs' must be <= 86400000: current value is ${probationMs}`,
    );
  }
  const checks = o.checks ?? [];
  if (!Array.isArray(checks)) {
    throw new TypeError(
      `Cannot ${action} as 'checks' must be an array of functions: current value is ${
        show(checks)
      }`,
    );
  }
  checks.forEach((c, i) => requireFunction(action, `checks[${i}]`, c));
  const folder = entryUrl.protocol === "data:" ? entryUrl.href : new URL(".", entryUrl).href;
  const manifest: ResolvedManifest = Object.freeze({
    ...current,
    version,
    entry,
    entryUrl,
    importRoots: Object.freeze(
      entryUrl.href === current.entryUrl.href
        ? current.importRoots
        : [folder, ...current.importRoots.slice(1)],
    ),
  });
  return {
    manifest,
    drainPollMs,
    quiescentTimeoutMs,
    maxBuffered,
    probationMs,
    checks: [...checks],
  };
}
