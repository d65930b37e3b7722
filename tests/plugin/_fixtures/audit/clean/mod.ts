// A plugin whose whole graph stays in its folder: a static import, a JSON
// import, a text import and a string-literal dynamic import.
import { double } from "./lib/a.ts";
import settings from "./settings.json" with { type: "json" };
import notes from "./notes.txt" with { type: "text" };

const lazy = await import("./lib/lazy.ts");

export default { double, settings, notes, lazy };
