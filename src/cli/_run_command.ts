// `chronetix run <config> [--watch] [--duration <s>] [--port <n>]`: starts the config,
// prints where the server listens, waits for SIGINT / SIGTERM (or the
// duration, or a script's stop()), shuts down gracefully and prints the
// report; a second signal forces the stop (exit 130).

import { parseFlags } from "./_args.ts";
import { type CliIo, EXIT } from "./_io.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { runConfig, type RunHandle } from "./run.ts";
import { formatShutdownReport } from "./shutdown_report.ts";

export const RUN_HELP = `chronetix run: start a kernel from a config file and run it until stopped

Usage: chronetix run <config.json> [--watch] [--duration <seconds>] [--port <n>]

Starts the kernel, its tasks, islands, plugins, data ports, the diagnostics
server and the scripts of the config, prints where the server listens, and
runs until SIGINT (Ctrl-C) or SIGTERM; then shuts down gracefully within the
config's shutdown.graceMs and prints the shutdown report. A second signal
during the shutdown forces it (emergency stop); the same signal again within
500 ms counts as one (Ctrl-C under 'deno task' arrives twice).

Options:
  --watch             Hot reload every plugin when its files change
  --duration <s>      Shut down by itself after this many seconds (up to 2147483)
  --port <n>          The server's port instead of the config's server.port (0: a free one)
  -h, --help          Show this help

Exit codes:
  0    shut down (graceful or not: the report says)
  1    failed at run time (a plugin or island did not start, a script threw)
  2    bad usage or a bad config (every bad field listed by its path)
  130  forced by a second signal (during the start-up or the shutdown)

Examples:
  chronetix run chronetix.json
  chronetix run chronetix.json --watch
  chronetix run chronetix.json --duration 20`;

/** A signal within this long of the one before is the same one, ms. */
const REPEAT_MS = 500;

/** The longest `--duration`, s (the longest timer: 2^31 - 1 ms). */
const MAX_DURATION_S = 2_147_483;

const SIGNALS: readonly Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT"]
  : ["SIGINT", "SIGTERM"];

/** Runs the `run` command; resolves with the exit code. */
export async function runCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { flags, positional, unknown, invalid } = parseFlags(args, {
    boolean: ["watch"],
    string: ["duration", "port"],
  });
  if (flags.help === true) {
    io.out(RUN_HELP);
    return EXIT.ok;
  }
  const usage = (problem: string) => {
    io.err(`Cannot run as ${problem}`);
    io.err(
      "Usage: chronetix run <config.json> [--watch] [--duration <seconds>] [--port <n>] (see --help)",
    );
    return EXIT.usage;
  };
  if (unknown.length > 0) return usage(`'${unknown[0]}' is not a flag of 'run'`);
  if (invalid.length > 0) return usage(invalid[0]!);
  if (positional.length !== 1) {
    return usage(
      positional.length === 0 ? "the config file is missing" : "it takes one config file",
    );
  }
  let durationMs: number | undefined;
  if (flags.duration !== undefined) {
    const seconds = typeof flags.duration === "string" && flags.duration.trim() !== ""
      ? Number(flags.duration)
      : NaN;
    // setTimeout() holds at most 2^31 - 1 ms; longer runs need no --duration.
    if (!(seconds > 0 && seconds <= MAX_DURATION_S)) {
      return usage(
        `'--duration' must be a number of seconds > 0 and <= ${MAX_DURATION_S}: current value is ${
          JSON.stringify(flags.duration)
        }`,
      );
    }
    durationMs = Math.max(1, Math.round(seconds * 1000));
  }
  let port: number | undefined;
  if (flags.port !== undefined) {
    port = /^\d{1,5}$/.test(String(flags.port)) ? Number(flags.port) : NaN;
    if (!(port <= 65535)) {
      return usage(
        `'--port' must be an integer from 0 to 65535: current value is ${
          JSON.stringify(flags.port)
        }`,
      );
    }
  }
  // Signals are heard from the start: one during the start-up shuts down
  // what started as soon as the start ends, instead of killing the process
  // with plugins' child processes half-started.
  const signals = new SignalWatch(io);
  try {
    let handle: RunHandle;
    try {
      let loaded = await loadConfig(positional[0]!);
      if (port !== undefined) {
        if (loaded.config.server === undefined) {
          return usage(`'--port' needs a 'server' in the config: ${positional[0]} has none`);
        }
        const server = { ...loaded.config.server, port };
        loaded = { ...loaded, config: { ...loaded.config, server } };
      }
      handle = await runConfig(loaded, { watch: flags.watch === true, print: io.out });
    } catch (error) {
      if (error instanceof ConfigError) {
        io.err(error.message);
        return EXIT.usage;
      }
      // Options the checks let through but a part refuses are config mistakes too.
      if (error instanceof TypeError || error instanceof RangeError) {
        io.err(`Cannot start the config as an option is refused: ${error.message}`);
        return EXIT.usage;
      }
      io.err(`Cannot start the config as ${error instanceof Error ? error.message : error}`);
      return EXIT.failed;
    }
    return await supervise(handle, durationMs, signals, io);
  } finally {
    signals.close();
  }
}

/** SIGINT and SIGTERM, counted from the start of the command. */
class SignalWatch {
  #pending: Deno.Signal[] = [];
  #last = -Infinity;
  #lastSignal: Deno.Signal | undefined;
  #listener: ((signal: Deno.Signal) => void) | undefined;
  readonly #listeners: (readonly [Deno.Signal, () => void])[];
  readonly #io: CliIo;

  constructor(io: CliIo) {
    this.#io = io;
    this.#listeners = SIGNALS.map((signal) => {
      const listener = () => {
        // Ctrl-C under `deno task` arrives twice within milliseconds (the
        // terminal signals the process group, and deno task forwards it):
        // one key press is one signal.
        const now = performance.now();
        if (signal === this.#lastSignal && now - this.#last < REPEAT_MS) return;
        this.#last = now;
        this.#lastSignal = signal;
        if (this.#listener !== undefined) return this.#listener(signal);
        this.#pending.push(signal);
        // A start-up that never ends (a script that hangs) must not keep the process.
        if (this.#pending.length >= 2) {
          this.#io.err(`Forcing the exit (${signal} again during the start-up)`);
          Deno.exit(EXIT.forced);
        }
      };
      Deno.addSignalListener(signal, listener);
      return [signal, listener] as const;
    });
  }

  /** Calls `listener` on each signal from now on (first with one that came before). */
  listen(listener: (signal: Deno.Signal) => void): void {
    this.#listener = listener;
    const early = this.#pending.shift();
    if (early !== undefined) listener(early);
  }

  close(): void {
    for (const [signal, listener] of this.#listeners) Deno.removeSignalListener(signal, listener);
  }
}

async function supervise(
  handle: RunHandle,
  durationMs: number | undefined,
  signals: SignalWatch,
  io: CliIo,
): Promise<number> {
  io.out("Press Ctrl-C (or send SIGTERM) to shut down gracefully");
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const reason = await new Promise<string>((resolve) => {
      signals.listen((signal) => resolve(signal));
      if (durationMs !== undefined) {
        timer = setTimeout(() => resolve(`--duration ${durationMs / 1000} s elapsed`), durationMs);
      }
      handle.stopRequested.then(resolve);
    });
    clearTimeout(timer);
    io.out(`Shutting down (${reason}); send SIGINT or SIGTERM again to force it`);
    // Whichever ends first reports; the other stays silent.
    let ended = false;
    const forced = new Promise<number>((resolve) => {
      signals.listen((signal) => {
        if (ended) return;
        ended = true;
        io.err(`Forcing the stop (${signal} during the shutdown)`);
        for (const line of formatShutdownReport(handle.emergencyStop())) io.out(line);
        resolve(EXIT.forced);
      });
    });
    const graceful = handle.shutdown().then((report) => {
      if (ended) return EXIT.forced;
      ended = true;
      for (const line of formatShutdownReport(report)) io.out(line);
      for (const line of handle.summary()) io.out(line);
      if (handle.scriptFailures.length > 0) {
        io.err(`The run failed as a script's hook threw (${handle.scriptFailures.length})`);
        return EXIT.failed;
      }
      return EXIT.ok;
    }, (error) => {
      if (ended) return EXIT.forced;
      ended = true;
      io.err(
        `Cannot shut down cleanly as it failed: ${error instanceof Error ? error.message : error}`,
      );
      return EXIT.failed;
    });
    return await Promise.race([graceful, forced]);
  } finally {
    clearTimeout(timer);
  }
}
