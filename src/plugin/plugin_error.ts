import { ChronetixError } from "../errors.ts";

/**
 * Why a plugin operation failed: {@linkcode PluginError.code}.
 *
 * - `E_PLUGIN_PHASE_FAILED`: a lifecycle hook (or loading the module) threw or rejected.
 * - `E_PLUGIN_TIMEOUT`: a phase ran past its budget (`initTimeoutMs`, `stopTimeoutMs`).
 * - `E_PLUGIN_INVALID_MODULE`: the entry's default export is not a `definePlugin()` result.
 * - `E_PLUGIN_CRASHED`: a task or handler of a running plugin threw (`onError: "crash"`).
 * - `E_PLUGIN_KILLED`: the instance was killed (a kill, or a grace period that ran out).
 * - `E_PLUGIN_CAPABILITY`: the plugin used a part of the kernel its manifest does not grant.
 * - `E_PLUGIN_NO_DATAPORT`: no data port of that name is offered to the plugin.
 * - `E_PLUGIN_METRICS_LIMIT`: the plugin declared more metric families than allowed.
 * - `E_PLUGIN_STATE_REFUSED`: `importState()` refused the state handed over.
 * - `E_PLUGIN_ILLEGAL_TRANSITION`: a lifecycle step that the state machine does not allow.
 * - `E_PLUGIN_HOST_UNAVAILABLE`: no host for the manifest's isolation level (yet).
 * - `E_PLUGIN_RELOAD_CAP`: the inline host reached `maxInlineReloads` fresh imports.
 * - `E_PLUGIN_NOT_FOUND`: no plugin of that name is loaded.
 * - `E_PLUGIN_EXISTS`: a plugin of that name is already loaded.
 * - `E_PLUGIN_UNLOADED`: the plugin was unloaded (or the manager closed) while the operation ran.
 */
export type PluginErrorCode =
  | "E_PLUGIN_PHASE_FAILED"
  | "E_PLUGIN_TIMEOUT"
  | "E_PLUGIN_INVALID_MODULE"
  | "E_PLUGIN_CRASHED"
  | "E_PLUGIN_KILLED"
  | "E_PLUGIN_CAPABILITY"
  | "E_PLUGIN_NO_DATAPORT"
  | "E_PLUGIN_METRICS_LIMIT"
  | "E_PLUGIN_STATE_REFUSED"
  | "E_PLUGIN_ILLEGAL_TRANSITION"
  | "E_PLUGIN_HOST_UNAVAILABLE"
  | "E_PLUGIN_RELOAD_CAP"
  | "E_PLUGIN_NOT_FOUND"
  | "E_PLUGIN_EXISTS"
  | "E_PLUGIN_UNLOADED";

/**
 * A plugin operation failed; what the plugin threw, when it threw, is the
 * `cause`. Kept as the plugin's last error in `PluginManager.list()`.
 *
 * @example Reading a plugin failure
 * ```ts
 * import { PluginError } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const error = new PluginError("E_PLUGIN_TIMEOUT", "sampler", 'Cannot init plugin "sampler" as it ran over its 100 ms budget', { phase: "init" });
 * assertEquals([error.code, error.plugin, error.phase], ["E_PLUGIN_TIMEOUT", "sampler", "init"]);
 * assertEquals(error.name, "PluginError");
 * ```
 */
export class PluginError extends ChronetixError {
  /** Why it failed. */
  declare readonly code: PluginErrorCode;
  /** The plugin's name. */
  readonly plugin: string;
  /** The lifecycle phase it failed in, when there was one. */
  readonly phase: string | undefined;

  /**
   * Creates the error.
   *
   * @param code Why it failed.
   * @param plugin The plugin's name.
   * @param message What happened, in Deno style.
   * @param options The phase, and the `cause`.
   */
  constructor(
    code: PluginErrorCode,
    plugin: string,
    message: string,
    options: ErrorOptions & { phase?: string } = {},
  ) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PluginError";
    this.plugin = plugin;
    this.phase = options.phase;
  }
}
