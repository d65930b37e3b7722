// A plugin that imports a module from outside its folder: the import audit refuses it.
import { definePlugin } from "../../../../../src/plugin/author.ts";
import { secret } from "../outside.ts";

export default definePlugin({
  init(ctx) {
    ctx.log.info(secret);
  },
});
