// A JSON Schema 2020-12 validator (ajv, a dev dependency) for the server's
// drift test. ajv is CommonJS: its class is the module's `default` export.
import ajv2020 from "ajv/dist/2020.js";

type AjvModule = typeof ajv2020 & { default?: typeof ajv2020 };

/** The 2020-12 validator class. */
export const Ajv2020: typeof ajv2020.default =
  ((ajv2020 as AjvModule).default ?? ajv2020) as typeof ajv2020.default;
