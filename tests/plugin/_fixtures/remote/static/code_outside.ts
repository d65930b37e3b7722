// Imports code outside its folder statically: the import audit refuses it.
import counter from "../../counter.ts";
import { definePlugin } from "../../../../../src/plugin/author.ts";

export default definePlugin({ init: (ctx) => ctx.log.info(String(counter.kind)) });
