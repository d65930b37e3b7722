// Imports an npm package: allowed only when allowImports lists it.
// deno-lint-ignore no-import-prefix
import * as std from "npm:deno-std@1.4.0/assert/mod.js";

export default std;
