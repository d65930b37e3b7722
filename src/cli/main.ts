/**
 * `chronetix`: the command-line interface of Chronetix.
 *
 * ```sh
 * deno run --allow-read --allow-env --allow-net --allow-run --allow-sys \
 *   --unstable-worker-options src/cli/main.ts run chronetix.json
 * ```
 *
 * Commands: `run <config>`, `check <config>`, `metrics docs|lint|inventory`,
 * `bench [name]`; `--help` on each, `--version`. See docs/cli.md.
 *
 * @module
 */
import { CHRONETIX_VERSION } from "../server/_version.ts";
import { type CliIo, EXIT, PROCESS_IO } from "./_io.ts";
import { RUN_HELP, runCommand } from "./_run_command.ts";
import { CHECK_HELP, checkCommand } from "./check.ts";
import { BENCH_HELP, benchCommand } from "./bench.ts";

/** `chronetix --help`. */
export const MAIN_HELP = `chronetix ${CHRONETIX_VERSION}: run a Chronetix kernel from a config file

Usage: chronetix <command> [options]

Commands:
  run <config.json>     Start the kernel, plugins, server and scripts of a config; run until SIGINT/SIGTERM
  check <config.json>   Validate a config and its manifests, audit plugin imports; start nothing
  metrics <sub>         The metric inventory: docs [--check] | lint [file] | inventory
  bench [name]          Run the benchmarks of a checkout and print their tables

Options:
  -h, --help       Show this help (or a command's: chronetix run --help)
  -V, --version    Print the version

Exit codes:
  0    ok
  1    failed at run time (start-up failed, a script's shutdown hook threw, a check or bench failed)
  2    bad usage or a bad config
  130  forced down by a second signal during the start-up or shutdown

Examples:
  chronetix run chronetix.json
  chronetix run chronetix.json --watch --duration 60
  chronetix check chronetix.json
  chronetix metrics lint
  chronetix bench dataport --quick

Reference: docs/cli.md`;

/**
 * Runs `chronetix` with `args`; resolves with the exit code.
 *
 * @example Printing the version
 * ```ts
 * import { main } from "./main.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const lines: string[] = [];
 * const code = await main(["--version"], { out: (l) => lines.push(l), err: () => {} });
 * assertEquals(code, 0);
 * assertEquals(lines[0]?.startsWith("chronetix "), true);
 * ```
 *
 * @param args The arguments, as `Deno.args`.
 * @param io Where lines go.
 * @returns The exit code.
 */
export async function main(args: readonly string[], io: CliIo = PROCESS_IO): Promise<number> {
  try {
    return await dispatch(args, io);
  } catch (error) {
    // Every command reports its own failures; this is the last line, so
    // that a user never sees a stack trace.
    io.err(
      `Cannot run chronetix ${args[0] ?? ""} as it failed: ${
        error instanceof Error ? `${error.name}: ${error.message}` : String(error)
      }`,
    );
    return EXIT.failed;
  }
}

async function dispatch(args: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case "run":
      return await runCommand(rest, io);
    case "check":
      return await checkCommand(rest, io);
    case "metrics": {
      // The metrics tool loads the whole kernel: imported only when asked for.
      const { metricsCommand } = await import("./metrics.ts");
      return await metricsCommand(rest);
    }
    case "bench":
      return await benchCommand(rest, io);
    case "help": {
      const topic = rest[0];
      const helps: Record<string, string> = { run: RUN_HELP, check: CHECK_HELP, bench: BENCH_HELP };
      if (topic === "metrics") return await dispatch(["metrics", "--help"], io);
      if (topic !== undefined && !Object.hasOwn(helps, topic)) {
        io.err(`Cannot show help as '${topic}' is not a command`);
        io.err("Usage: chronetix help <run|check|metrics|bench>");
        return EXIT.usage;
      }
      io.out(topic === undefined ? MAIN_HELP : helps[topic]!);
      return EXIT.ok;
    }
    case "-h":
    case "--help":
      io.out(MAIN_HELP);
      return EXIT.ok;
    case "-V":
    case "--version":
      io.out(`chronetix ${CHRONETIX_VERSION} (deno ${Deno.version.deno})`);
      return EXIT.ok;
    case undefined:
      io.err("Cannot run chronetix as a command is missing");
      io.err("Usage: chronetix <run|check|metrics|bench> ... (chronetix --help)");
      return EXIT.usage;
    default:
      io.err(`Cannot run chronetix as '${command}' is not a command`);
      io.err("Usage: chronetix <run|check|metrics|bench> ... (chronetix --help)");
      return EXIT.usage;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
