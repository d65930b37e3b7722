// The field checks behind validateManifest(): they read a hostile value
// without running its code (own data properties only, never a getter), and
// record every problem by its path instead of throwing at the first one.

import { show } from "../internal/validate.ts";

/** At most this many problems are kept; the rest are counted. */
export const MAX_PROBLEMS = 100;

/** Collects problems, each `<path> <what is wrong>`. */
export class Problems {
  readonly list: string[] = [];
  #dropped = 0;

  /** Records one problem; the path `""` is the manifest itself. */
  add(path: string, text: string): void {
    if (this.list.length < MAX_PROBLEMS) {
      this.list.push(`${path === "" ? "manifest" : path} ${text}`);
    } else this.#dropped++;
  }

  /** Records `<path> must be <what>: current value is <value>`. */
  must(path: string, what: string, value: unknown): void {
    this.add(path, `must be ${what}: current value is ${safeShow(value)}`);
  }

  /** How many problems were recorded (kept and dropped). */
  get count(): number {
    return this.list.length + this.#dropped;
  }

  /** The problems to report: the kept ones and a line counting the rest. */
  report(): string[] {
    return this.#dropped === 0
      ? [...this.list]
      : [...this.list, `... and ${this.#dropped} more problems`];
  }
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** The path of `key` inside `parent`: `a.b`, `a["b c"]`, `a[2]`. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  if (IDENTIFIER.test(key)) return parent === "" ? key : `${parent}.${key}`;
  return `${parent}[${show(key)}]`;
}

/** A value's own data properties, read without running getters; `undefined` when it is not a plain object. */
export function readRecord(
  value: unknown,
  path: string,
  what: string,
  problems: Problems,
): Map<string, unknown> | undefined {
  if (value === null || typeof value !== "object" || isArray(value)) {
    problems.must(path, what, value);
    return undefined;
  }
  try {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      problems.must(path, what, value);
      return undefined;
    }
    const fields = new Map<string, unknown>();
    for (const key of Object.getOwnPropertyNames(value)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key);
      if (descriptor === undefined) continue;
      if (!("value" in descriptor)) {
        problems.add(childPath(path, key), "must be a plain value: it is a getter or setter");
        continue;
      }
      fields.set(key, descriptor.value);
    }
    return fields;
  } catch (error) {
    problems.add(path, `could not be read: ${errorText(error)}`);
    return undefined;
  }
}

/** Whether a value is an array (false, never a throw, for a revoked proxy). */
export function isArray(value: unknown): boolean {
  try {
    return Array.isArray(value);
  } catch {
    return false;
  }
}

/** An array's items, read without running getters; `undefined` (and a problem) when it is not a list. */
export function readList(
  value: unknown,
  path: string,
  what: string,
  maxItems: number,
  problems: Problems,
): unknown[] | undefined {
  if (!isArray(value)) {
    problems.must(path, what, value);
    return undefined;
  }
  try {
    const length = Object.getOwnPropertyDescriptor(value, "length")?.value;
    if (typeof length !== "number" || length > maxItems) {
      problems.add(
        path,
        `must have at most ${maxItems} items: current length is ${safeShow(length)}`,
      );
      return undefined;
    }
    const items: unknown[] = [];
    for (let i = 0; i < length; i++) {
      const descriptor = Object.getOwnPropertyDescriptor(value, i);
      if (descriptor !== undefined && !("value" in descriptor)) {
        problems.add(childPath(path, i), "must be a plain value: it is a getter or setter");
        items.push(undefined);
        continue;
      }
      items.push(descriptor?.value);
    }
    return items;
  } catch (error) {
    problems.add(path, `could not be read: ${errorText(error)}`);
    return undefined;
  }
}

/** Reports every key of `fields` not in `known`, with a "did you mean" for a close one. */
export function checkKnownKeys(
  fields: Map<string, unknown>,
  known: readonly string[],
  path: string,
  noun: string,
  problems: Problems,
): void {
  for (const key of fields.keys()) {
    if (known.includes(key)) continue;
    const close = closest(key, known);
    problems.add(
      childPath(path, key),
      `is not a known ${noun}${
        close === undefined ? "" : `: did you mean ${JSON.stringify(close)}?`
      }`,
    );
  }
}

/** The known name closest to `key`, when it is close enough to be a typo. */
export function closest(key: string, known: readonly string[]): string | undefined {
  if (key.length > 64) return undefined;
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of known) {
    const other = name.toLowerCase();
    let common = 0;
    while (common < lower.length && lower[common] === other[common]) common++;
    // A long shared start ("maxRetry" / "maxRetries") is a typo however the ends differ.
    const prefix = common >= 4 && common >= Math.min(lower.length, other.length) * 0.75;
    const distance = other === lower ? 0 : prefix ? 1 : editDistance(lower, other);
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  const limit = Math.max(1, Math.floor(key.length / 3));
  return bestDistance <= limit ? best : undefined;
}

/** Levenshtein distance with adjacent transpositions counted as one edit. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = new Array<number>(b.length + 1).fill(0);
    row[0] = i;
    rows.push(row);
  }
  for (let j = 0; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(
        rows[i - 1]![j]! + 1,
        rows[i]![j - 1]! + 1,
        rows[i - 1]![j - 1]! + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      }
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

/** A string of 1 to `maxLength` characters without NUL, else undefined (and a problem). */
export function checkString(
  value: unknown,
  path: string,
  maxLength: number,
  problems: Problems,
): string | undefined {
  if (typeof value !== "string") {
    problems.must(path, "a string", value);
    return undefined;
  }
  if (value.length === 0) {
    problems.add(path, "must not be empty");
    return undefined;
  }
  if (value.length > maxLength) {
    problems.add(
      path,
      `must have at most ${maxLength} characters: current length is ${value.length}`,
    );
    return undefined;
  }
  if (value.includes("\0")) {
    problems.must(path, "a string without NUL characters", value);
    return undefined;
  }
  return value;
}

/** A boolean field, or `fallback` when left out. */
export function checkBoolean(
  value: unknown,
  path: string,
  fallback: boolean,
  problems: Problems,
): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    problems.must(path, "a boolean", value);
    return fallback;
  }
  return value;
}

/** One of `choices`, or `fallback` when left out. */
export function checkOneOf<T extends string>(
  value: unknown,
  path: string,
  choices: readonly T[],
  fallback: T,
  problems: Problems,
): T {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !(choices as readonly string[]).includes(value)) {
    problems.must(path, `one of ${choices.map((c) => JSON.stringify(c)).join(", ")}`, value);
    return fallback;
  }
  return value as T;
}

/** A number range: `[min, max]`, integers only when `integer`. */
export interface NumberRange {
  /** Smallest allowed value. */
  min: number;
  /** Largest allowed value. */
  max: number;
  /** Integers only. */
  integer?: boolean;
}

/** A number in `range`, or `fallback` when left out. */
export function checkNumber(
  value: unknown,
  path: string,
  range: NumberRange,
  fallback: number,
  problems: Problems,
): number {
  if (value === undefined) return fallback;
  const ok = typeof value === "number" && Number.isFinite(value) && value >= range.min &&
    value <= range.max && (!range.integer || Number.isInteger(value));
  if (!ok) {
    problems.must(
      path,
      `${range.integer ? "an integer" : "a number"} from ${range.min} to ${range.max}`,
      value,
    );
    return fallback;
  }
  return value;
}

/** An error's message, never throwing. */
export function errorText(error: unknown): string {
  try {
    return error instanceof Error ? String(error.message) : safeShow(error);
  } catch {
    return "an unreadable error";
  }
}

/** `show()`, for values whose proxy traps throw even on `instanceof`. */
export function safeShow(value: unknown): string {
  try {
    return show(value);
  } catch {
    return "an unreadable value";
  }
}

// ---------------------------------------------------------------------------
// Paths and URLs (POSIX paths; a manifest names files on the kernel's host).

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/** Whether `text` starts with a URL scheme (`file:`, `https:`, `npm:` ...). */
export function hasScheme(text: string): boolean {
  return SCHEME.test(text);
}

/** Escapes the characters a URL would read as syntax in a file path. */
function escapePath(path: string): string {
  return path.replace(/[%#?\\\n\r\t]/g, (c) => encodeURIComponent(c));
}

/** A `file:` URL for an absolute path. */
export function pathToFileUrl(path: string): URL {
  return new URL(`file://${escapePath(path)}`);
}

/** The path of a `file:` URL. */
export function fileUrlToPath(url: URL): string {
  return decodeURIComponent(url.pathname);
}

/** Resolves a path or URL string against `base`; `undefined` when it is not a valid URL. */
export function resolveUrl(text: string, base: URL | undefined): URL | undefined {
  try {
    if (hasScheme(text)) return new URL(text);
    if (base === undefined) return undefined;
    return new URL(escapePath(text), base);
  } catch {
    return undefined;
  }
}

/** The kernel's working folder as a `file:` URL ending with `/`, when it may be read. */
export function cwdFolderUrl(): URL | undefined {
  try {
    const cwd = Deno.cwd();
    return pathToFileUrl(cwd.endsWith("/") ? cwd : `${cwd}/`);
  } catch {
    return undefined;
  }
}

/** Freezes a value and everything inside it except URLs. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !(value instanceof URL)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

// ---------------------------------------------------------------------------
// Permissions and import roots.

/** Longest path, host or name a manifest may hold. */
export const MAX_TEXT = 4096;
/** Most items in one permission list or in `allowImports`. */
export const MAX_ITEMS = 1024;

const HOST =
  /^(\*\.)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?)(:(\d{1,5}))?$/;

/** Checks one `host[:port]` entry (net, import). */
function checkHost(item: string, path: string, problems: Problems): string | undefined {
  const match = HOST.exec(item);
  const port = match?.[5] === undefined ? 0 : Number(match[5]);
  if (match === null || port > 65535) {
    problems.must(path, 'a host as "<host>[:<port>]"', item);
    return undefined;
  }
  return item;
}

/** Checks a path entry (read, write, ffi, run with a slash) and makes it absolute. */
function checkPath(
  item: string,
  path: string,
  base: URL | undefined,
  problems: Problems,
): string | undefined {
  const url = resolveUrl(item, base?.protocol === "file:" ? base : undefined);
  if (url === undefined && !hasScheme(item) && !item.startsWith("/")) {
    problems.must(path, "an absolute path, as the manifest's folder is not local", item);
    return undefined;
  }
  if (url === undefined || url.protocol !== "file:") {
    problems.must(path, "a path or a file: URL", item);
    return undefined;
  }
  return fileUrlToPath(url);
}

/** Checks one permission kind's item. */
function checkItem(
  kind: string,
  item: unknown,
  path: string,
  base: URL | undefined,
  sysNames: readonly string[],
  problems: Problems,
): string | undefined {
  const text = checkString(item, path, MAX_TEXT, problems);
  if (text === undefined) return undefined;
  switch (kind) {
    case "read":
    case "write":
    case "ffi":
      return checkPath(text, path, base, problems);
    case "run":
      return text.includes("/") ? checkPath(text, path, base, problems) : text;
    case "net":
    case "import":
      return checkHost(text, path, problems);
    case "env":
      if (text.includes("=") || /\s/.test(text)) {
        problems.must(path, 'an environment variable name without "=" or spaces', text);
        return undefined;
      }
      return text;
    default:
      if (!sysNames.includes(text)) {
        problems.must(path, `one of ${sysNames.map((s) => JSON.stringify(s)).join(", ")}`, text);
        return undefined;
      }
      return text;
  }
}

/** Checks `permissions`: `"none"`, `"inherit"` or an object per kind; every kind filled. */
export function checkPermissions(
  value: unknown,
  kinds: readonly string[],
  sysNames: readonly string[],
  base: URL | undefined,
  problems: Problems,
): Record<string, boolean | "inherit" | readonly string[]> {
  const resolved: Record<string, boolean | "inherit" | readonly string[]> = {};
  const fill = (grant: false | "inherit") => {
    for (const kind of kinds) resolved[kind] = grant;
    return resolved;
  };
  if (value === undefined || value === "none") return fill(false);
  if (value === "inherit") return fill("inherit");
  if (typeof value === "string") {
    problems.must("permissions", '"none", "inherit" or an object of permission kinds', value);
    return fill(false);
  }
  fill(false);
  const fields = readRecord(
    value,
    "permissions",
    '"none", "inherit" or an object of permission kinds',
    problems,
  );
  if (fields === undefined) return resolved;
  checkKnownKeys(fields, kinds, "permissions", "permission kind", problems);
  for (const kind of kinds) {
    const grant = fields.get(kind);
    const path = childPath("permissions", kind);
    if (grant === undefined || typeof grant === "boolean" || grant === "inherit") {
      resolved[kind] = grant ?? false;
      continue;
    }
    const items = readList(
      grant,
      path,
      'true, false, "inherit" or a list of strings',
      MAX_ITEMS,
      problems,
    );
    if (items === undefined) continue;
    const list: string[] = [];
    items.forEach((item, i) => {
      const checked = checkItem(kind, item, childPath(path, i), base, sysNames, problems);
      if (checked !== undefined && !list.includes(checked)) list.push(checked);
    });
    resolved[kind] = list;
  }
  return resolved;
}

const NPM_NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/i;
const JSR_NAME = /^@[a-z0-9][a-z0-9-]*\/[a-z0-9][a-z0-9-]*$/;

/** Normalises one `allowImports` item into an import root. */
function checkImportRoot(
  text: string,
  path: string,
  base: URL | undefined,
  problems: Problems,
): string | undefined {
  for (const scheme of ["npm:", "jsr:"]) {
    if (!text.startsWith(scheme)) continue;
    const name = text.slice(scheme.length).replace(/^\//, "");
    const pattern = scheme === "npm:" ? NPM_NAME : JSR_NAME;
    if (name !== "" && !pattern.test(name)) {
      problems.must(
        path,
        `"${scheme}" or "${scheme}<package>" with a package name and no version`,
        text,
      );
      return undefined;
    }
    return `${scheme}${name}`;
  }
  const url = resolveUrl(text, base);
  if (url === undefined || !["file:", "https:", "http:"].includes(url.protocol)) {
    problems.must(
      path,
      'a path, a file: or https: URL prefix, or an "npm:" / "jsr:" package',
      text,
    );
    return undefined;
  }
  url.search = "";
  url.hash = "";
  return url.href;
}

/** Checks `allowImports` and returns it as written and as normalised roots. */
export function checkAllowImports(
  value: unknown,
  base: URL | undefined,
  problems: Problems,
): { written: string[]; roots: string[] } {
  const written: string[] = [];
  const roots: string[] = [];
  if (value === undefined) return { written, roots };
  const items = readList(value, "allowImports", "a list of strings", MAX_ITEMS, problems);
  items?.forEach((item, i) => {
    const path = childPath("allowImports", i);
    const text = checkString(item, path, MAX_TEXT, problems);
    if (text === undefined) return;
    const root = checkImportRoot(text, path, base, problems);
    if (root === undefined) return;
    written.push(text);
    if (!roots.includes(root)) roots.push(root);
  });
  return { written, roots };
}
