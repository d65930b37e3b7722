// A helper process of a bench that stays up for a whole case and is switched
// by lines on its stdin: `on` starts its work (`on <argument>` hands the work
// an argument), `off` ends it and makes it print one JSON line about that
// work, end of input ends it. A bench that
// compares runs with and without such a load interleaves them round by round;
// with one process for the whole case, no measured run pays for a Deno
// process starting (and its JIT warming up) beside it.
// bench/_dashboard_client.ts and bench/_server_loader.ts (`stdin` mode) speak it;
// bench/_stand_in_server.ts uses the same line transport (`stdinLines`,
// `send`, `receive`) for a line of its own.

/**
 * The helper's side: runs `work` from each `on` to the next `off` (which
 * aborts its signal) and prints what it resolves to as one JSON line; when
 * the input ends, a work still running is aborted and awaited. What follows
 * `on ` on its line is the work's `argument` ("" when nothing does).
 */
export async function serveSwitched<T>(
  work: (stop: AbortSignal, argument: string) => Promise<T>,
): Promise<void> {
  let running: { stop: AbortController; done: Promise<T> } | undefined;
  for await (const command of stdinLines()) {
    const [verb, ...rest] = command.split(" ");
    if (verb === "on" && running === undefined) {
      const stop = new AbortController();
      running = { stop, done: work(stop.signal, rest.join(" ")) };
    } else if (command === "off" && running !== undefined) {
      running.stop.abort();
      console.log(JSON.stringify(await running.done));
      running = undefined;
    }
  }
  running?.stop.abort();
  await running?.done;
}

/** The lines on stdin, trimmed, until the input ends. */
export async function* stdinLines(): AsyncGenerator<string> {
  let pending = "";
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    let newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
    }
  }
}

/** One switched helper process; `T` is the shape of its JSON line. */
export class SwitchedProcess<T> {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #chunks: AsyncIterator<string>;
  readonly #encoder = new TextEncoder();
  #pending = "";

  /**
   * Starts `deno <args>`, its stdin and stdout piped, its stderr inherited.
   *
   * @param args The arguments after `deno`.
   */
  constructor(args: string[]) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#chunks = this.#child.stdout.pipeThrough(new TextDecoderStream())[Symbol.asyncIterator]();
  }

  /**
   * Starts its work.
   *
   * @param argument What the work is handed (no newline).
   */
  async on(argument?: string): Promise<void> {
    await this.send(argument === undefined ? "on" : `on ${argument}`);
  }

  /**
   * Ends its work.
   *
   * @returns What it printed about that work.
   * @throws {Error} when the process ended first.
   */
  async off(): Promise<T> {
    await this.send("off");
    return await this.receive();
  }

  /** Writes `line` (and a newline) to its stdin. */
  async send(line: string): Promise<void> {
    await this.#writer.write(this.#encoder.encode(`${line}\n`));
  }

  /**
   * The next line it prints, parsed as JSON.
   *
   * @throws {Error} when the process ended first.
   */
  async receive(): Promise<T> {
    let newline;
    while ((newline = this.#pending.indexOf("\n")) < 0) {
      const chunk = await this.#chunks.next();
      if (chunk.done) throw new Error("The bench's helper process ended early");
      this.#pending += chunk.value;
    }
    const line = this.#pending.slice(0, newline);
    this.#pending = this.#pending.slice(newline + 1);
    return JSON.parse(line) as T;
  }

  /** Ends the process (closes its stdin) and waits for it. */
  async close(): Promise<void> {
    await this.#writer.close();
    await this.#child.status;
    await this.#chunks.return?.();
  }
}
