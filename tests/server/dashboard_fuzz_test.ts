// Seeded fuzzing of the dashboard snapshot's query input against a small
// reference model of its rules: only `after` and `limit`, each at most once,
// each an integer in its range. Every request answers 200 (with at most
// `limit` points, all after the cursor) or a 400 naming the parameter the
// model expects; never a 500. The seed is printed on failure
// (CHRONETIX_SEED replays one).
import { assert, assertEquals } from "@std/assert";
import { fixture } from "./_fixture.ts";
import { mulberry32, testSeeds } from "../_util/prng.ts";

const KEYS = ["after", "limit", "after", "limit", "since", "Limit", "after[]", "", "x"];
const VALUES = [
  "0",
  "1",
  "2",
  "-1",
  "600",
  "601",
  "9007199254740991",
  "9007199254740992",
  "1e3",
  "1.5",
  "",
  " 1",
  "0x10",
  "abc",
  "é",
  "12345678901234567",
];

type Expected = { status: 200; after: number; limit: number } | { status: 400; name: string };

/** The rules, written out independently of the route. */
function model(pairs: [string, string][]): Expected {
  for (const [key] of pairs) {
    if (key !== "after" && key !== "limit") return { status: 400, name: key };
  }
  const read = (name: string, fallback: number, min: number, max: number): number | undefined => {
    const values = pairs.filter(([k]) => k === name).map(([, v]) => v);
    if (values.length === 0) return fallback;
    if (values.length > 1) return undefined;
    const text = values[0]!;
    if (!/^-?\d+$/.test(text) || text.replace("-", "").length > 16) return undefined;
    const n = Number(text);
    return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
  };
  const after = read("after", 0, 0, Number.MAX_SAFE_INTEGER);
  if (after === undefined) return { status: 400, name: "after" };
  const limit = read("limit", 600, 1, 600);
  if (limit === undefined) return { status: 400, name: "limit" };
  return { status: 200, after, limit };
}

Deno.test("GET /dashboard/api/snapshot answers random query input as the reference model says (seeded)", async () => {
  await using f = await fixture();
  // A few points to page through.
  for (let i = 0; i < 4; i++) {
    await (await f.server.request("/dashboard/api/snapshot")).body?.cancel();
    f.clock.advance(1000);
  }
  for (const seed of testSeeds([11, 12, 13])) {
    const random = mulberry32(seed);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    for (let i = 0; i < 150; i++) {
      const pairs: [string, string][] = Array.from(
        { length: Math.floor(random() * 4) },
        () => [pick(KEYS), pick(VALUES)],
      );
      const query = new URLSearchParams(pairs).toString();
      const expected = model(pairs);
      const response = await f.server.request(`/dashboard/api/snapshot?${query}`);
      const body = await response.json();
      const where = `seed ${seed}, case ${i}: ?${query}`;
      assertEquals(response.status, expected.status, `${where}: ${JSON.stringify(body)}`);
      if (expected.status === 400) {
        assertEquals(body.error_code, "incomplete-request", where);
        assertEquals(body.parameters, { name: expected.name }, where);
        assert(
          (body.message as string).startsWith(
            `Cannot read the dashboard snapshot as '${expected.name}' must be`,
          ),
          `${where}: ${body.message}`,
        );
      } else {
        const seqs = (body.points as { seq: number }[]).map((p) => p.seq);
        assert(seqs.length <= expected.limit, where);
        assert(seqs.every((s) => s > expected.after), where);
        assertEquals(seqs, [...seqs].sort((a, b) => a - b), where);
      }
    }
  }
});
