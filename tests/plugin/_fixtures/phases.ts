// A plugin whose behaviour is chosen by its name, so one module serves every
// phase test: `throw-<hook>` throws in that hook, `reject-<hook>` rejects,
// `hang-<hook>` never settles (hooks: init, start, stop, shutdown,
// exportstate, importstate). Every hook call is recorded in CALLS.
import { definePlugin, type PluginContext } from "../../../src/plugin/author.ts";

/** Every hook call, as `<plugin>:<hook>`, in order. */
export const CALLS: string[] = [];

function act(ctx: PluginContext, hook: string): Promise<void> | void {
  CALLS.push(`${ctx.name}:${hook}`);
  const h = hook.toLowerCase();
  if (ctx.name === `throw-${h}`) throw new Error(`${hook} threw`);
  if (ctx.name === `reject-${h}`) return Promise.reject(new Error(`${hook} rejected`));
  if (ctx.name === `hang-${h}`) return new Promise<void>(() => {});
}

export default definePlugin({
  init: (ctx) => act(ctx, "init"),
  start: (ctx) => act(ctx, "start"),
  stop: (ctx) => act(ctx, "stop"),
  shutdown: (ctx) => act(ctx, "shutdown"),
  exportState: (ctx) => {
    const r = act(ctx, "exportState");
    return r === undefined ? { from: ctx.name } : r.then(() => ({ from: ctx.name }));
  },
  importState: (_state, ctx) => act(ctx, "importState"),
  stateVersion: 1,
});
