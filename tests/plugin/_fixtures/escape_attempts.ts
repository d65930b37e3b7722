// The escapes a permissions-"none" plugin tries (tests/plugin/_fixtures/
// remote/escape.ts runs each by name); every host must deny them all.
export const ESCAPE_ATTEMPTS = [
  "read",
  "write",
  "net",
  "env",
  "run",
  "ffi",
  "sys",
  "import-code",
  "import-json",
] as const;
