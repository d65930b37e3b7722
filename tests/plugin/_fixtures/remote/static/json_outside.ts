// Imports a JSON file outside its folder statically: the import audit refuses it.
import ticker from "../../ticker.json" with { type: "json" };
import { definePlugin } from "../../../../../src/plugin/author.ts";

export default definePlugin({ init: (ctx) => ctx.log.info(String(ticker.name)) });
