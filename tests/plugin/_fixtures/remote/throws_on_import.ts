// A module that throws while it is imported (phase load).
import { definePlugin } from "../../../../src/plugin/author.ts";

throw new Error("cannot import me");

export default definePlugin({});
