// A plugin whose init fails: `chronetix run` must refuse to start (exit 1).
import { definePlugin } from "../../../../src/plugin/author.ts";

export default definePlugin({
  init() {
    throw new Error("no sensor attached");
  },
});
