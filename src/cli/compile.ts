/**
 * `deno task compile [--output <file>] [--target <triple>]`: builds a single
 * `chronetix` binary of the CLI with `deno compile`. `deno compile`
 * downloads its `denort` base binary from Deno's download host
 * (dl.deno.land); where that host cannot be reached (and `DENORT_BIN` does
 * not point at a denort binary), this fails at once with a message saying
 * so, instead of a long network error.
 *
 * Exit codes: 0 built, 1 the build failed or the host is unreachable, 2 bad usage.
 *
 * @module
 */
import { parseFlags } from "./_args.ts";
import { EXIT } from "./_io.ts";

const DOWNLOAD_HOST = "https://dl.deno.land/";

/**
 * The `deno compile` arguments of the CLI binary: the permissions of
 * `chronetix run`, worker options, and the modules the binary starts
 * Workers and subprocesses from, which no static import reaches.
 *
 * @example Reading the compile arguments
 * ```ts
 * import { compileArgs } from "./compile.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const args = compileArgs({ output: "chronetix" });
 * assertEquals(args[0], "compile");
 * assertEquals(args.at(-1)?.endsWith("src/cli/main.ts"), true);
 * ```
 *
 * @param options The output file and the target triple.
 * @returns The arguments after `deno`.
 */
export function compileArgs(options: { output: string; target?: string }): string[] {
  const here = (path: string) => new URL(path, import.meta.url).pathname;
  return [
    "compile",
    "--allow-read",
    "--allow-env",
    "--allow-net",
    "--allow-run",
    "--allow-sys",
    "--unstable-worker-options",
    "--include",
    here("../plugin/_worker_entry.ts"),
    "--include",
    here("../plugin/_process_entry.ts"),
    "--include",
    here("../island/_island_worker.ts"),
    "--output",
    options.output,
    ...(options.target === undefined ? [] : ["--target", options.target]),
    here("./main.ts"),
  ];
}

/** Whether Deno's download host answers within `timeoutMs`. */
async function reachable(timeoutMs: number): Promise<string | undefined> {
  try {
    const response = await fetch(DOWNLOAD_HOST, {
      method: "HEAD",
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

async function main(args: readonly string[]): Promise<number> {
  const { flags, positional, unknown, invalid } = parseFlags(args, {
    string: ["output", "target"],
  });
  if (flags.help === true) {
    console.log("Usage: deno task compile [--output <file>] [--target <triple>]");
    return EXIT.ok;
  }
  if (unknown.length > 0 || invalid.length > 0 || positional.length > 0) {
    console.error(
      invalid.length > 0
        ? `Cannot compile as ${invalid[0]}`
        : `Cannot compile as '${unknown[0] ?? positional[0]}' is not a flag of 'compile'`,
    );
    return EXIT.usage;
  }
  const output = typeof flags.output === "string" ? flags.output : "chronetix";
  const target = typeof flags.target === "string" ? flags.target : undefined;
  let include = compileArgs({ output, target });
  try {
    await Deno.stat(new URL("./status_table.ts", import.meta.url));
  } catch {
    // Without the status table module there is nothing to include for it.
    include = include.filter((a, i, all) =>
      !a.endsWith("/status_table.ts") &&
      !(a === "--include" && all[i + 1]?.endsWith("/status_table.ts"))
    );
  }
  if (Deno.env.get("DENORT_BIN") === undefined) {
    const why = await reachable(10_000);
    if (why !== undefined) {
      console.error(
        `Cannot compile the chronetix binary as Deno's download host (${DOWNLOAD_HOST}) cannot be reached: ${why}\n` +
          "deno compile downloads its denort base binary from there and no package registry ships it. " +
          "Build on a machine with access to dl.deno.land, or set DENORT_BIN to a denort binary of Deno " +
          `${Deno.version.deno}. Meanwhile run the CLI with 'deno task chronetix' or 'deno install'.`,
      );
      return EXIT.failed;
    }
  }
  console.error(`deno ${include.join(" ")}`);
  const status = await new Deno.Command(Deno.execPath(), {
    args: include,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!status.success) {
    console.error(
      `Cannot compile the chronetix binary as deno compile exited with code ${status.code}`,
    );
    return EXIT.failed;
  }
  console.log(`Built ${output}`);
  return EXIT.ok;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
