// What every host checks before it runs one of a plugin's hooks, and the
// budget the hook gets: one place for the inline and the remote hosts.

import type { PluginExit, PluginPhaseOptions } from "./host.ts";
import type { ResolvedManifest } from "./manifest_types.ts";
import { PluginError } from "./plugin_error.ts";
import { describeError } from "./_describe.ts";

/** A hook a host runs for the manager. */
export type PluginHookName =
  | "load"
  | "init"
  | "ready"
  | "importState"
  | "start"
  | "stop"
  | "shutdown"
  | "exportState";

/** The lifecycle phase a hook counts under. */
export function phaseOf(hook: PluginHookName): string {
  return hook === "importState" ? "ready" : hook === "exportState" ? "stop" : hook;
}

/** Where an instance is, as far as starting a hook goes. */
export interface HookEntryState {
  /** How the instance ended, if it did. */
  ended: PluginExit | undefined;
  /** The hook running now, if one is. */
  running: string | undefined;
  /** Whether its module is loaded. */
  loaded: boolean;
}

/**
 * Throws the `PluginError` that keeps `hook` from starting: the instance
 * ended (other than by `exit`), another hook still runs, or it is not
 * loaded. Returns the hook's budget, ms: `options.timeoutMs`, else the
 * manifest's `initTimeoutMs` for the starting hooks and `stopTimeoutMs` for
 * the others.
 */
export function enterHook(
  manifest: ResolvedManifest,
  hook: PluginHookName,
  state: HookEntryState,
  options: PluginPhaseOptions | undefined,
): number {
  const name = manifest.name;
  const phase = phaseOf(hook);
  if (state.ended !== undefined && state.ended.cause !== "exit") {
    throw new PluginError(
      "E_PLUGIN_KILLED",
      name,
      `Cannot ${hook} plugin "${name}" as its instance ended (${state.ended.cause})`,
      { phase, cause: state.ended.error },
    );
  }
  if (state.running !== undefined) {
    throw new PluginError(
      "E_PLUGIN_ILLEGAL_TRANSITION",
      name,
      `Cannot ${hook} plugin "${name}" as its hook "${state.running}" is still running`,
      { phase },
    );
  }
  if (hook !== "load" && !state.loaded) {
    throw new PluginError(
      "E_PLUGIN_ILLEGAL_TRANSITION",
      name,
      `Cannot ${hook} plugin "${name}" as it is not loaded`,
      { phase },
    );
  }
  const budgets = manifest.budgets;
  const early = hook === "load" || hook === "init" || hook === "ready" ||
    hook === "importState" || hook === "start";
  return options?.timeoutMs ?? (early ? budgets.initTimeoutMs : budgets.stopTimeoutMs);
}

/**
 * What a hook that threw fails its phase with: the plugin's own
 * `PluginError`, a refused permission or import as it is, anything else
 * wrapped as `E_PLUGIN_PHASE_FAILED` with its cause.
 */
export function phaseFailure(error: unknown, name: string, hook: PluginHookName): unknown {
  if (error instanceof PluginError && error.plugin === name) return error;
  if (
    error instanceof Error &&
    (error.name === "PermissionEscalationError" || error.name === "ImportAuditError")
  ) return error;
  return new PluginError(
    "E_PLUGIN_PHASE_FAILED",
    name,
    `Cannot ${hook} plugin "${name}" as it threw: ${describeError(error)}`,
    { phase: phaseOf(hook), cause: error },
  );
}
