// A checker for the subset of JSON Schema (2020-12) that
// schema/chronetix.config.schema.json uses: type, enum, const, the number and
// string bounds, pattern, items, minItems, maxItems, properties,
// minProperties, required,
// additionalProperties, anyOf, allOf, if/then and local $ref. It is written
// here rather than taken from ajv so that each bad field gives ONE problem
// in the words of the rest of the tree (`tasks[2].periodMs must be a number
// > 0: current value is "x"`), with no runtime dependency in the CLI; the
// tests check it against ajv on random configs.

import { show } from "../internal/validate.ts";

/** A JSON Schema node, as far as this checker reads it. */
export interface SchemaNode {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  items?: SchemaNode;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  additionalProperties?: boolean | SchemaNode;
  anyOf?: SchemaNode[];
  allOf?: SchemaNode[];
  if?: SchemaNode;
  then?: SchemaNode;
  $defs?: Record<string, SchemaNode>;
  [key: string]: unknown;
}

/** Checks a value the schema hands over to other code (a `$ref` it names). */
export type ExternalCheck = (value: unknown, path: string, problems: string[]) => void;

/** Options of {@linkcode checkSchema}. */
export interface CheckSchemaOptions {
  /** Checks that replace the schema's at these `$ref`s (`"#/$defs/pluginManifest"`). */
  external?: Record<string, ExternalCheck>;
  /** Stop recording after this many problems (a line counts the rest). @default {200} */
  maxProblems?: number;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** The path of `key` inside `parent`: `a.b`, `a["b c"]`, `a[2]`. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  if (IDENTIFIER.test(key)) return parent === "" ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

/**
 * Checks `value` against `root` and returns every problem, one per bad
 * field: `<path> must be <what>: current value is <value>`; the root itself
 * is named `config`.
 */
export function checkSchema(
  value: unknown,
  root: SchemaNode,
  options: CheckSchemaOptions = {},
): string[] {
  const problems: string[] = [];
  new Checker(root, options.external ?? {}).check(value, root, "", problems);
  const max = options.maxProblems ?? 200;
  if (problems.length <= max) return problems;
  return [...problems.slice(0, max), `... and ${problems.length - max} more problems`];
}

class Checker {
  readonly #root: SchemaNode;
  readonly #external: Record<string, ExternalCheck>;

  constructor(root: SchemaNode, external: Record<string, ExternalCheck>) {
    this.#root = root;
    this.#external = external;
  }

  /**
   * Checks `value` against `node`; `around` holds the properties of the
   * schemas `node` is part of (for an `allOf` or `then` that only says
   * `required`, so a missing field is still described).
   */
  check(
    value: unknown,
    node: SchemaNode,
    path: string,
    problems: string[],
    around: Record<string, SchemaNode> = {},
  ): void {
    if (node.$ref !== undefined) {
      const external = this.#external[node.$ref];
      if (external !== undefined) return external(value, path, problems);
      return this.check(value, this.resolve(node), path, problems, around);
    }
    if (node.anyOf !== undefined) return this.#anyOf(value, node, path, problems);
    if (node.const !== undefined && value !== node.const) {
      return must(problems, path, this.describe(node), value);
    }
    if (node.enum !== undefined && !node.enum.includes(value)) {
      return must(problems, path, this.describe(node), value);
    }
    if (node.type !== undefined && !hasType(value, node.type)) {
      return must(problems, path, this.describe(node), value);
    }
    if (typeof value === "number" && !inRange(value, node)) {
      return must(problems, path, this.describe(node), value);
    }
    if (typeof value === "string" && !stringFits(value, node)) {
      return must(problems, path, this.describe(node), value);
    }
    const known = { ...around, ...node.properties };
    if (Array.isArray(value)) this.#array(value, node, path, problems);
    else if (isRecord(value)) this.#object(value, node, path, problems, known);
    for (const part of node.allOf ?? []) this.check(value, part, path, problems, known);
    if (node.if !== undefined && node.then !== undefined && this.passes(value, node.if)) {
      this.check(value, node.then, path, problems, known);
    }
  }

  /** Whether `value` matches `node` (no external checks run). */
  passes(value: unknown, node: SchemaNode): boolean {
    const scratch: string[] = [];
    new Checker(this.#root, {}).check(value, node, "", scratch);
    return scratch.length === 0;
  }

  resolve(node: SchemaNode): SchemaNode {
    const ref = node.$ref ?? "";
    const match = /^#\/\$defs\/([^/]+)$/.exec(ref);
    const target = match === null ? undefined : this.#root.$defs?.[match[1]!];
    if (target === undefined) throw new Error(`Cannot resolve schema reference '${ref}'`);
    const { $ref: _ref, ...local } = node;
    return { ...target, ...local };
  }

  /** What a value must be, in words: `a number > 0`, `one of "a", "b"`. */
  describe(node: SchemaNode): string {
    if (node.$ref !== undefined) return this.describe(this.resolve(node));
    if (node.anyOf !== undefined) return node.anyOf.map((n) => this.describe(n)).join(" or ");
    if (node.const !== undefined) return JSON.stringify(node.const);
    if (node.enum !== undefined) {
      const list = node.enum.map((v) => JSON.stringify(v));
      return list.length === 1 ? list[0]! : `one of ${list.join(", ")}`;
    }
    const types = typeof node.type === "string" ? [node.type] : node.type ?? [];
    if (types.length !== 1) return types.map((t) => article(t)).join(" or ") || "a value";
    const type = types[0]!;
    if (type === "number" || type === "integer") return article(type) + rangeText(node);
    if (type === "string") {
      let text = node.minLength !== undefined && node.minLength > 0
        ? "a non-empty string"
        : "a string";
      if (node.pattern !== undefined) text += ` matching /${node.pattern}/`;
      if (node.maxLength !== undefined) text += ` of at most ${node.maxLength} characters`;
      return text;
    }
    if (type === "array" && ((node.minItems ?? 0) > 0 || node.maxItems !== undefined)) {
      const min = node.minItems ?? 0;
      if (node.maxItems === undefined) return `an array of at least ${count(min, "item")}`;
      return min > 0
        ? `an array of ${min} to ${node.maxItems} items`
        : `an array of at most ${count(node.maxItems, "item")}`;
    }
    if (type === "object" && (node.minProperties ?? 0) > 0) {
      return `an object of at least ${count(node.minProperties!, "field")}`;
    }
    return article(type);
  }

  #anyOf(value: unknown, node: SchemaNode, path: string, problems: string[]): void {
    const branches = node.anyOf ?? [];
    // A value of the right type goes to the branch made for it, so its
    // problems are reported field by field instead of as "must be a or b".
    const typed = branches.filter((b) => {
      const resolved = b.$ref === undefined ? b : this.resolve(b);
      return resolved.type !== undefined && hasType(value, resolved.type) &&
        resolved.enum === undefined && resolved.const === undefined;
    });
    for (const branch of branches) {
      if (branch.$ref !== undefined && this.#external[branch.$ref] !== undefined) continue;
      if (this.passes(value, branch)) return;
    }
    if (typed.length === 1) return this.check(value, typed[0]!, path, problems);
    must(problems, path, this.describe(node), value);
  }

  #array(value: unknown[], node: SchemaNode, path: string, problems: string[]): void {
    if (
      (node.minItems !== undefined && value.length < node.minItems) ||
      (node.maxItems !== undefined && value.length > node.maxItems)
    ) {
      must(problems, path, this.describe(node), value);
    }
    if (node.items === undefined) return;
    for (let i = 0; i < value.length; i++) {
      this.check(value[i], node.items, childPath(path, i), problems);
    }
  }

  #object(
    value: Record<string, unknown>,
    node: SchemaNode,
    path: string,
    problems: string[],
    known: Record<string, SchemaNode>,
  ): void {
    const properties = node.properties ?? {};
    if (node.minProperties !== undefined && Object.keys(value).length < node.minProperties) {
      must(problems, path, this.describe(node), value);
    }
    for (const key of node.required ?? []) {
      if (Object.hasOwn(value, key)) continue;
      const what = known[key] === undefined ? "given" : this.describe(known[key]!);
      problems.push(`${name(childPath(path, key))} must be ${what}: it is missing`);
    }
    const names = Object.keys(properties);
    for (const key of Object.keys(value)) {
      const field = readOwn(value, key);
      const at = childPath(path, key);
      if (!field.ok) {
        problems.push(`${name(at)} must be a plain value: it is a getter or setter`);
        continue;
      }
      const schema = properties[key];
      if (schema !== undefined) this.check(field.value, schema, at, problems);
      else if (node.additionalProperties === false) {
        const close = closest(key, names);
        problems.push(
          `${name(at)} is not a known field${
            close === undefined ? "" : `: did you mean ${JSON.stringify(close)}?`
          }`,
        );
      } else if (typeof node.additionalProperties === "object") {
        this.check(field.value, node.additionalProperties, at, problems);
      }
    }
  }
}

function name(path: string): string {
  return path === "" ? "config" : path;
}

function must(problems: string[], path: string, what: string, value: unknown): void {
  problems.push(`${name(path)} must be ${what}: current value is ${show(value)}`);
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function rangeText(node: SchemaNode): string {
  const low = node.exclusiveMinimum !== undefined
    ? { n: node.exclusiveMinimum, open: true }
    : node.minimum !== undefined
    ? { n: node.minimum, open: false }
    : undefined;
  const high = node.exclusiveMaximum !== undefined
    ? { n: node.exclusiveMaximum, open: true }
    : node.maximum !== undefined
    ? { n: node.maximum, open: false }
    : undefined;
  if (low !== undefined && high !== undefined && !low.open && !high.open) {
    return ` from ${low.n} to ${high.n}`;
  }
  const parts: string[] = [];
  if (low !== undefined) parts.push(`${low.open ? ">" : ">="} ${low.n}`);
  if (high !== undefined) parts.push(`${high.open ? "<" : "<="} ${high.n}`);
  return parts.length === 0 ? "" : ` ${parts.join(" and ")}`;
}

function hasType(value: unknown, type: string | string[]): boolean {
  const types = typeof type === "string" ? [type] : type;
  return types.some((t) => {
    switch (t) {
      case "object":
        return isRecord(value);
      case "array":
        return Array.isArray(value);
      case "integer":
        return Number.isInteger(value);
      case "number":
        return typeof value === "number" && Number.isFinite(value);
      case "null":
        return value === null;
      case "string":
        return typeof value === "string";
      case "boolean":
        return typeof value === "boolean";
      default:
        return false;
    }
  });
}

function inRange(n: number, node: SchemaNode): boolean {
  return (node.minimum === undefined || n >= node.minimum) &&
    (node.maximum === undefined || n <= node.maximum) &&
    (node.exclusiveMinimum === undefined || n > node.exclusiveMinimum) &&
    (node.exclusiveMaximum === undefined || n < node.exclusiveMaximum);
}

function stringFits(text: string, node: SchemaNode): boolean {
  // JSON Schema counts code points, not UTF-16 units.
  const length = [...text].length;
  return (node.minLength === undefined || length >= node.minLength) &&
    (node.maxLength === undefined || length <= node.maxLength) &&
    (node.pattern === undefined || new RegExp(node.pattern, "u").test(text));
}

/** A plain object (parsed JSON), not an array, class instance or null. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function readOwn(value: object, key: string): { ok: true; value: unknown } | { ok: false } {
  const descriptor = Object.getOwnPropertyDescriptor(value, key);
  if (descriptor === undefined || !("value" in descriptor)) return { ok: false };
  return { ok: true, value: descriptor.value };
}

/** The known name closest to `key` (at most 2 edits), to suggest for a typo. */
export function closest(key: string, known: readonly string[]): string | undefined {
  if (key.length > 64) return undefined;
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = distance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        previous[j]! + 1,
        row[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = row;
  }
  return previous[b.length]!;
}
