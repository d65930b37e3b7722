// A plugin that hands its context to the test (PROBES, by plugin name), so a
// test can call the context's methods as the plugin would.
import { definePlugin, type PluginContext } from "../../../src/plugin/author.ts";

/** The context of each instance, by plugin name (the latest instance wins). */
export const PROBES: Map<string, PluginContext> = new Map();

export default definePlugin({
  init(ctx) {
    PROBES.set(ctx.name, ctx);
  },
});
