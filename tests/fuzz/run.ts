/**
 * `deno task fuzz [--cases N] [--seed S]`: runs the fuzz suite (`tests/fuzz/`)
 * with more cases than CI's bounded run, or replays one seed. A failing
 * property prints its seed and counterexample; pass that seed back to replay.
 *
 * @module
 */
import { parseArgs } from "@std/cli/parse-args";

const args = parseArgs(Deno.args, { string: ["cases", "seed"], boolean: ["help"] }) as {
  cases?: string;
  seed?: string;
  help?: boolean;
  _: unknown[];
};
if (args.help) {
  console.log(
    "Usage: deno task fuzz [--cases N] [--seed S]\n  --cases  cases per property (default 2000)\n  --seed   the seed to run or replay (default: a random one, printed)",
  );
  Deno.exit(0);
}
const cases = Number(args.cases ?? "2000");
if (!Number.isInteger(cases) || cases < 1) {
  console.error(
    `Cannot run the fuzz suite as '--cases' must be a positive integer: current value is "${args.cases}"`,
  );
  Deno.exit(2);
}
const seed = Number(args.seed ?? String(Math.floor(Math.random() * 2 ** 31)));
if (!Number.isInteger(seed)) {
  console.error(
    `Cannot run the fuzz suite as '--seed' must be an integer: current value is "${args.seed}"`,
  );
  Deno.exit(2);
}
console.log(
  `fuzz: ${cases} cases per property, seed ${seed} (replay: deno task fuzz --cases ${cases} --seed ${seed})`,
);
const { code } = await new Deno.Command(Deno.execPath(), {
  args: [
    "test",
    "--sanitize-ops",
    "--sanitize-resources",
    "--allow-read=.",
    "--allow-write=.",
    "--allow-env",
    "--allow-run",
    "tests/fuzz/",
  ],
  env: { CHRONETIX_FUZZ_CASES: String(cases), CHRONETIX_SEED: String(seed) },
  stdout: "inherit",
  stderr: "inherit",
}).output();
if (code !== 0) {
  console.error(`fuzz: failed with seed ${seed}: deno task fuzz --cases ${cases} --seed ${seed}`);
}
Deno.exit(code);
