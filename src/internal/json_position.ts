// Where a JSON text goes wrong, as `<file>:<line>:<column>`: shared by the
// plugin manifest loader and the CLI's config loader, so both name a syntax
// error the same way. V8's JSON.parse() messages carry a position for most
// errors but not all ("Unexpected token 'h', "hello" is not valid JSON"):
// a small scanner finds the offset for those.

/**
 * Parses a JSON file's text (a leading byte order mark is skipped).
 *
 * @example Naming the line and column of a syntax error
 * ```ts
 * import { parseJsonText } from "./json_position.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(parseJsonText("a.json", '{ "a": 1 }'), { ok: true, value: { a: 1 } });
 * const parsed = parseJsonText("a.json", '{\n  "a": 1,\n}');
 * assertEquals(
 *   parsed.ok ? "" : parsed.problem,
 *   "a.json:3:1 is not valid JSON: Expected double-quoted property name",
 * );
 * ```
 *
 * @param path The file, as it is named in the problem.
 * @param text The file's text.
 * @returns The value, or the problem (`<path>:<line>:<column> is not valid JSON: <reason>`)
 *   and JSON.parse()'s error.
 */
export function parseJsonText(
  path: string,
  text: string,
): { ok: true; value: unknown } | { ok: false; problem: string; error: unknown } {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, problem: jsonSyntaxProblem(path, body, message), error };
  }
}

/**
 * `<path>:<line>:<column> is not valid JSON: <reason>` from a JSON.parse()
 * error message about `text`.
 *
 * @param path The file.
 * @param text The text that failed to parse.
 * @param message JSON.parse()'s message.
 * @returns The problem, in one line.
 */
export function jsonSyntaxProblem(path: string, text: string, message: string): string {
  const lineColumn = /\(line (\d+) column (\d+)\)/.exec(message);
  const position = /at position (\d+)/.exec(message);
  let where: string;
  if (lineColumn !== null) where = `:${lineColumn[1]}:${lineColumn[2]}`;
  else if (position !== null) where = lineColumnAt(text, Number(position[1]));
  else if (/end of JSON input/i.test(message)) where = lineColumnAt(text, text.length);
  else {
    const offset = jsonErrorOffset(text);
    where = offset === undefined ? "" : lineColumnAt(text, offset);
  }
  const reason = message
    .replace(/\s*(?:in JSON )?at position \d+.*$/s, "")
    .replace(/\s*\(line.*$/s, "")
    // V8 quotes the start of the text: the line and column say where already.
    .replace(/, ".*" is not valid JSON$/s, "")
    .split("\n")[0]!;
  return `${path}${where} is not valid JSON: ${reason}`;
}

function lineColumnAt(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return `:${line}:${column}`;
}

/** The offset of the first character that makes `text` invalid JSON, or `undefined` when it is valid. */
export function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  const fail = (at: number): never => {
    throw at;
  };
  const space = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const literal = (word: string) => {
    for (const c of word) if (text[i++] !== c) fail(i - 1);
  };
  const string = () => {
    i++;
    while (true) {
      if (i >= text.length) fail(i);
      const c = text.charCodeAt(i);
      if (c === 0x22) return void i++;
      if (c < 0x20) fail(i);
      if (c === 0x5c) {
        i++;
        const e = text[i];
        if (e === "u") {
          for (let k = 1; k <= 4; k++) if (!/[0-9a-fA-F]/.test(text[i + k] ?? "")) fail(i + k);
          i += 4;
        } else if (e === undefined || !'"\\/bfnrt'.includes(e)) fail(i);
      }
      i++;
    }
  };
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (match === null || match[0] === "" || match[0] === "-") fail(i);
    i += match![0].length;
  };
  const value = (depth: number): void => {
    if (depth > 1_000) fail(i);
    space();
    const c = text[i];
    if (c === "{") {
      i++;
      space();
      if (text[i] === "}") return void i++;
      while (true) {
        space();
        if (text[i] !== '"') fail(i);
        string();
        space();
        if (text[i] !== ":") fail(i);
        i++;
        value(depth + 1);
        space();
        if (text[i] === ",") i++;
        else if (text[i] === "}") return void i++;
        else fail(i);
      }
    }
    if (c === "[") {
      i++;
      space();
      if (text[i] === "]") return void i++;
      while (true) {
        value(depth + 1);
        space();
        if (text[i] === ",") i++;
        else if (text[i] === "]") return void i++;
        else fail(i);
      }
    }
    if (c === '"') return string();
    if (c === "t") return literal("true");
    if (c === "f") return literal("false");
    if (c === "n") return literal("null");
    return number();
  };
  try {
    value(0);
    space();
    return i < text.length ? i : undefined;
  } catch (at) {
    if (typeof at === "number") return Math.min(at, text.length);
    throw at;
  }
}
