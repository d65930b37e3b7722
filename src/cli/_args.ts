// A typed front to @std/cli's parseArgs (the npm build of std is untyped):
// flags a command knows, its positional arguments, and the flags it does not.
// Booleans (`--x`, `--no-x`, `--x=true|false`) and string values that start
// with a dash (`--duration -1`) are read here first: this parseArgs build
// does not negate booleans, takes any `--x=value` of a boolean as true and
// reads `-1` as a flag.

import { parseArgs } from "@std/cli/parse-args";

/** What a command accepts. */
export interface FlagSpec {
  boolean?: readonly string[];
  string?: readonly string[];
  alias?: Readonly<Record<string, string>>;
  /** Values of flags not given (a boolean that defaults to `true` is turned off by `--no-<name>`). */
  default?: Readonly<Record<string, boolean | string>>;
}

/** Parsed arguments. */
export interface ParsedFlags {
  /** Flags by name: booleans and strings. */
  flags: Record<string, boolean | string | undefined>;
  /** Positional arguments, as strings. */
  positional: string[];
  /** Flags the spec does not know, as written. */
  unknown: string[];
  /** Known flags given a value they cannot take: `'--watch' takes no value: current value is "x"`. */
  invalid: string[];
}

/** Parses `args` by `spec`; never throws. */
export function parseFlags(args: readonly string[], spec: FlagSpec): ParsedFlags {
  const unknown: string[] = [];
  const invalid: string[] = [];
  const booleans = new Set([...(spec.boolean ?? []), "help"]);
  const strings = new Set(spec.string ?? []);
  const given: Record<string, boolean> = {};
  const prepared: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      prepared.push(...args.slice(i));
      break;
    }
    const match = /^--(no-)?([^=]+)(?:=(.*))?$/s.exec(arg);
    if (match === null) {
      prepared.push(arg);
      continue;
    }
    const [, no, name, value] = match as unknown as [string, string | undefined, string, string?];
    if (booleans.has(name)) {
      if (value === undefined) given[name] = no === undefined;
      else if (no === undefined && (value === "true" || value === "false")) {
        given[name] = value === "true";
      } else {
        invalid.push(
          `'--${no ?? ""}${name}' takes no value: current value is ${JSON.stringify(value)}`,
        );
      }
      continue;
    }
    if (no === undefined && strings.has(name) && value === undefined && i + 1 < args.length) {
      // `--duration -1`: the value is the next argument, whatever it starts with.
      prepared.push(`--${name}=${args[++i]}`);
      continue;
    }
    prepared.push(arg);
  }
  const parsed = parseArgs(prepared, {
    boolean: [...booleans],
    string: [...strings],
    alias: { h: "help", ...spec.alias },
    default: { ...spec.default },
    unknown: (arg: string) => {
      if (arg.startsWith("-") && arg !== "-") {
        unknown.push(arg);
        return false;
      }
      return true;
    },
  }) as Record<string, unknown> & { _: unknown[] };
  const flags: Record<string, boolean | string | undefined> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (key === "_") continue;
    if (typeof value === "boolean" || typeof value === "string") flags[key] = value;
  }
  for (const [name, value] of Object.entries(given)) flags[name] = value;
  return { flags, positional: parsed._.map((a) => String(a)), unknown, invalid };
}
