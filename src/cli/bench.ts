// `chronetix bench [name]`: runs the benchmark scripts of a Chronetix
// checkout through their `bench:<name>` deno tasks (so with exactly the
// task's flags), and lets them print their tables.

import { parseFlags } from "./_args.ts";
import { type CliIo, EXIT } from "./_io.ts";

/** `chronetix bench --help`. */
export const BENCH_HELP = `chronetix bench: run the benchmarks of a Chronetix checkout

Usage: chronetix bench [name] [--quick] [--json] [--root <dir>] [--list]

Runs 'deno task bench:<name>' of the checkout (the folder holding deno.json
and bench/; default: the working folder), with the task's own flags, and
prints its table. Without a name, runs every bench:* task in turn. The
benches are not part of the published package: run this in a git checkout.

Options:
  --quick        Short runs (passed to each bench)
  --json         One JSON object per bench instead of a table
  --root <dir>   The checkout (default: the working folder)
  --list         List the benches and their commands, run nothing
  -h, --help     Show this help

Exit codes:
  0  every bench ran
  1  a bench failed
  2  bad usage, no bench/ folder, or no bench of that name

Examples:
  chronetix bench --list
  chronetix bench dataport --quick
  chronetix bench drift --json > drift.json`;

/** Runs the `bench` command; resolves with the exit code. */
export async function benchCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { flags, positional, unknown, invalid } = parseFlags(args, {
    boolean: ["quick", "json", "list"],
    string: ["root"],
  });
  if (flags.help === true) {
    io.out(BENCH_HELP);
    return EXIT.ok;
  }
  if (unknown.length > 0 || invalid.length > 0 || positional.length > 1) {
    io.err(
      `Cannot run benches as ${
        unknown.length > 0
          ? `'${unknown[0]}' is not a flag of 'bench'`
          : invalid.length > 0
          ? invalid[0]
          : "it takes at most one name"
      }`,
    );
    io.err("Usage: chronetix bench [name] [--quick] [--json] [--root <dir>] [--list]");
    return EXIT.usage;
  }
  const root = typeof flags.root === "string" ? flags.root : ".";
  const tasks = await benchTasks(root);
  if (typeof tasks === "string") {
    io.err(tasks);
    return EXIT.usage;
  }
  if (flags.list === true) {
    for (const [name, command] of tasks) io.out(`${name}: ${command}`);
    return EXIT.ok;
  }
  const name = positional[0];
  const chosen = name === undefined ? [...tasks.keys()] : [name];
  if (name !== undefined && !tasks.has(name)) {
    io.err(
      `Cannot run bench '${name}' as the checkout has no task 'bench:${name}': one of ${
        [...tasks.keys()].join(", ")
      }`,
    );
    return EXIT.usage;
  }
  const extra = [
    ...(flags.quick === true ? ["--quick"] : []),
    ...(flags.json === true ? ["--json"] : []),
  ];
  for (const bench of chosen) {
    if (flags.json !== true) io.err(`Running bench:${bench}: ${tasks.get(bench)}`);
    const status = await new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", `bench:${bench}`, ...extra],
      cwd: root,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (!status.success) {
      io.err(`Cannot finish bench '${bench}' as it exited with code ${status.code}`);
      return EXIT.failed;
    }
  }
  return EXIT.ok;
}

/** The `bench:<name>` tasks of the checkout at `root`, or why there are none. */
async function benchTasks(root: string): Promise<Map<string, string> | string> {
  try {
    if (!(await Deno.stat(`${root}/bench`)).isDirectory) throw new Deno.errors.NotFound();
  } catch {
    return `Cannot run benches as ${root}/bench is not there: the benches ship with a git checkout of Chronetix, not with the package; run this in the checkout or pass --root <dir>`;
  }
  let tasks: Record<string, unknown>;
  try {
    const config = JSON.parse(await Deno.readTextFile(`${root}/deno.json`));
    tasks = config?.tasks ?? {};
  } catch (error) {
    return `Cannot run benches as ${root}/deno.json cannot be read: ${
      error instanceof Error ? error.message : error
    }`;
  }
  const found = new Map<string, string>();
  for (const [task, command] of Object.entries(tasks)) {
    const text = typeof command === "string"
      ? command
      : (command as { command?: unknown })?.command;
    if (task.startsWith("bench:") && typeof text === "string") found.set(task.slice(6), text);
  }
  if (found.size === 0) return `Cannot run benches as ${root}/deno.json has no bench:* task`;
  return found;
}
