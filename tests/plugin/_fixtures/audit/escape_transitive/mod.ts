// Escapes two imports deep: mod.ts -> a.ts -> b.ts -> ../shared/outside.ts.
import { a } from "./a.ts";

export default a;
