// The public types of a hot reload: its options, its report and the
// manager's hot-reload counters.

import type { ErrorRecord } from "../errors.ts";
import type { ResourceEntry } from "./resource_registry.ts";

/**
 * A step of a hot switch, in order: `prepare` (the new version to `ready`),
 * `drain` (routing gated, the old instance finishes what it was given),
 * `handover` (`exportState()` of the old, `importState()` of the new),
 * `start` (the new one's `start`), `switch` (routing moves to the new one,
 * the held events go to it), `quiesce` (the old one stops its releases, its
 * scope drains, resource checks pass), `force_separate` (only when the
 * quiescence timed out), `shutdown` (the old one's `shutdown`), `verify`
 * (the resource registry holds nothing of the old instance), `kill` (the
 * old instance's thread or process ends).
 */
export type ReloadPhase =
  | "prepare"
  | "drain"
  | "handover"
  | "start"
  | "switch"
  | "quiesce"
  | "force_separate"
  | "shutdown"
  | "verify"
  | "kill";

/** Every {@linkcode ReloadPhase}, in order. */
export const RELOAD_PHASES: readonly ReloadPhase[] = Object.freeze([
  "prepare",
  "drain",
  "handover",
  "start",
  "switch",
  "quiesce",
  "force_separate",
  "shutdown",
  "verify",
  "kill",
]);

/** One step of a switch. */
export interface ReloadPhaseReport {
  /** The step. */
  phase: ReloadPhase;
  /** How long it took, ms (the driver's clock). */
  durationMs: number;
  /** Whether it succeeded. */
  ok: boolean;
}

/**
 * A check that the old instance has let go of something, run during
 * quiescence every `drainPollMs` until every check passes.
 *
 * @param owner The old instance's owner tag in the resource registry.
 * @returns `true` once the resource is released.
 */
export type ReloadResourceCheck = (owner: string) => boolean | Promise<boolean>;

/** Options of {@linkcode PluginManager.reload}. */
export interface ReloadOptions {
  /** The new version's entry (a path relative to the working folder, or a URL). @default {the current entry, imported afresh} */
  entry?: string | URL;
  /** The new version's version string. @default {the current version} */
  version?: string;
  /** How often the resource checks run while the old instance quiesces, ms. @default {5} */
  drainPollMs?: number;
  /** How long the old instance may take to quiesce before it is force-separated, ms. @default {1000} */
  quiescentTimeoutMs?: number;
  /** Extra resource checks (all must pass for the old instance to count as quiescent). */
  checks?: readonly ReloadResourceCheck[];
  /**
   * Events held back, at most, while routing is gated (from the drain of
   * the old instance to the switch). Past it the switch is given up: the
   * held events go to the old instance in order, which keeps running.
   *
   * @default {10000}
   */
  maxBuffered?: number;
  /**
   * After a switch, how long a failure of the new version rolls back to the
   * old version, ms; `0` for none. Inline and worker hosts keep the old
   * instance (stopped, with its state and its module) until probation ends
   * and switch back to it; a process host, or an old instance that did not
   * quiesce cleanly or died meanwhile, is restarted from its manifest with
   * the state handed over at the switch.
   *
   * @default {0}
   */
  probationMs?: number;
}

/** The defaults of {@linkcode ReloadOptions}. */
export const RELOAD_DEFAULTS: Readonly<
  Required<
    Pick<ReloadOptions, "drainPollMs" | "quiescentTimeoutMs" | "maxBuffered" | "probationMs">
  >
> = Object.freeze({
  drainPollMs: 5,
  quiescentTimeoutMs: 1000,
  maxBuffered: 10_000,
  probationMs: 0,
});

/** What a hot reload did. */
export interface ReloadReport {
  /** The plugin. */
  plugin: string;
  /** `true` when the new version runs and the old one is shut down. */
  ok: boolean;
  /** The version before. */
  fromVersion: string;
  /** The version asked for. */
  toVersion: string;
  /** The version running now. */
  activeVersion: string;
  /** The step that failed, when one did (the old version then still runs, unless it failed in `quiesce` or later). */
  failedPhase: ReloadPhase | undefined;
  /** Why it failed, in words. */
  reason: string | undefined;
  /** The error, when it failed. */
  error: ErrorRecord | undefined;
  /** From the start of the reload to the old instance shut down, ms. */
  durationMs: number;
  /** Each step run, in order, timed. */
  phases: ReloadPhaseReport[];
  /** The state version handed over (`undefined` when the plugin hands none over). */
  stateVersion: number | undefined;
  /** Events held back while routing was gated. */
  buffered: number;
  /** The old instance did not quiesce within `quiescentTimeoutMs`. */
  quiescentTimeout: boolean;
  /** The old instance was force-separated. */
  forceSeparated: boolean;
  /**
   * What the resource registry still held of the old instance at `verify`
   * (leaks); empty when the old instance was kept (`oldKept`), whose verify
   * runs when probation ends (leaks then count in the manager's stats).
   */
  leaked: ResourceEntry[];
  /**
   * The old instance was kept stopped, not shut down, for the probation
   * window (`probationMs`, inline and worker hosts, when it quiesced
   * cleanly): a failure of the new version switches back to it. It is shut
   * down, verified and ended when probation ends.
   */
  oldKept: boolean;
}

/** The manager's hot-reload counters (metrics `chronetix_hotreload_*`). */
export interface HotReloadStats {
  /** Switches attempted. */
  switches: number;
  /** Switches that ended with the new version running. */
  success: number;
  /** Switches that failed. */
  failed: number;
  /** The last switch's duration, ms (`NaN` before the first). */
  lastSwitchMs: number;
  /** Resources the old instances still held at `verify`. */
  deactivateLeaks: number;
  /** Old instances that took longer than `quiescentTimeoutMs` to quiesce (they were force-separated). */
  deactivateSlow: number;
  /** Verifications that found something left. */
  verifyFailed: number;
  /** Resource-check rounds that did not pass. */
  resourceCheckFailed: number;
  /** Quiescence timeouts. */
  quiescentTimeouts: number;
  /** Force-separations run. */
  forceSeparateInvoked: number;
  /** Force-separations after which the checks still failed (or that threw). */
  forceSeparateFailed: number;
  /** Rollbacks to the previous version after a failure in probation. */
  rollbacks: number;
  /** Switches given up because the gate's buffer reached `maxBuffered`. */
  bufferOverflows: number;
}
