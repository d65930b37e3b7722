import { assert, assertEquals } from "@std/assert";
import fc from "fast-check";
import { jsonErrorOffset, parseJsonText } from "../../src/internal/json_position.ts";

Deno.test("parseJsonText() names the line and column of every kind of JSON error", () => {
  const cases: [string, string][] = [
    ["", "f.json:1:1 is not valid JSON: Unexpected end of JSON input"],
    ["hello", "f.json:1:1 is not valid JSON: Unexpected token 'h'"],
    ['{\n  "a": 1,\n}', "f.json:3:1 is not valid JSON: Expected double-quoted property name"],
    ['{\n  "a" 1\n}', "f.json:2:7 is not valid JSON: Expected ':' after property name"],
    ["[1, 2", "f.json:1:6 is not valid JSON: Expected ',' or ']' after array element"],
    [
      '{ "a": 1 } x',
      "f.json:1:12 is not valid JSON: Unexpected non-whitespace character after JSON",
    ],
  ];
  for (const [text, problem] of cases) {
    const parsed = parseJsonText("f.json", text);
    assertEquals(parsed.ok ? "" : parsed.problem, problem, JSON.stringify(text));
    assertEquals(parsed.ok ? undefined : parsed.error instanceof SyntaxError, true);
  }
  assertEquals(parseJsonText("f.json", '\uFEFF{ "a": [1, 2.5e3, "\\u00e9", null] }'), {
    ok: true,
    value: { a: [1, 2500, "é", null] },
  });
});

// The scanner stands in for V8 where V8 names no position: it must find an
// error exactly where JSON.parse() finds one (seeded, over JSON-like text).
Deno.test("jsonErrorOffset() finds an error exactly when JSON.parse() does (seeded fuzz)", () => {
  const piece = fc.constantFrom(
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    '"a"',
    '"\\u12"',
    '"\\x"',
    "1",
    "-0",
    "01",
    "1.",
    "1e5",
    "-",
    "true",
    "tru",
    "null",
    " ",
    "\n",
    "\t",
    '"',
    "\\",
  );
  const seed = 0x150e;
  let invalid = 0;
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
      const text = pieces.join("");
      let valid = true;
      try {
        JSON.parse(text);
      } catch {
        valid = false;
        invalid++;
      }
      const offset = jsonErrorOffset(text);
      assertEquals(offset === undefined, valid, JSON.stringify(text));
      if (offset !== undefined) assert(offset >= 0 && offset <= text.length);
    }),
    { seed, numRuns: 2000 },
  );
  assert(invalid > 100 && invalid < 2000, `seed ${seed}: ${invalid} invalid`);
});
