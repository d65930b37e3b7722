// A plugin that throws in the hook its name ends with: "throws-init",
// "throws-start", "throws-stop", "throws-shutdown".
import { definePlugin } from "../../../../src/plugin/author.ts";
import type { PluginContext } from "../../../../src/plugin/author.ts";

function maybe(hook: string) {
  return (ctx: PluginContext) => {
    if (ctx.name === `throws-${hook}`) throw new Error(`${hook} failed on purpose`);
  };
}

export default definePlugin({
  init: maybe("init"),
  start: maybe("start"),
  stop: maybe("stop"),
  shutdown: maybe("shutdown"),
});
