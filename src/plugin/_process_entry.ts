// The program of a process plugin. The host runs
// `deno run <manifest's permission flags> data:...` where the data: module
// imports the plugin's entry STATICALLY and hands it to `runProcess`. Frames
// (a magic byte, a u32 length, JSON) go both ways over stdio: stdin from the
// host, stdout to the host. The plugin's console writes to stderr, which the
// host keeps a tail of; a plugin that writes raw bytes to stdout breaks the
// framing and is failed by the host. The process ends when stdin closes.

import { serveRemote } from "./_remote_runtime.ts";
import { encodeFrame, FrameError, FrameReader, type HostMessage } from "./_remote_protocol.ts";
import { eachRead, writeAll } from "./_stdio_chunks.ts";

const STDOUT_METHODS = ["log", "info", "debug", "dir", "dirxml", "table", "timeLog", "timeEnd"];

/**
 * Serves a plugin module over framed stdio.
 *
 * @param module The plugin module's namespace.
 */
export function runProcess(module: unknown): void {
  // stdout carries frames only: console output goes to stderr.
  const toStderr = console.error.bind(console);
  for (const method of STDOUT_METHODS) {
    (console as unknown as Record<string, unknown>)[method] = toStderr;
  }
  let chain: Promise<void> = Promise.resolve();
  let handler: ((message: HostMessage) => void) | undefined;
  const early: HostMessage[] = [];
  serveRemote({
    send: (message) => {
      const frame = encodeFrame(message);
      chain = chain.then(() => writeAll(Deno.stdout, frame)).catch(() => Deno.exit(0));
    },
    listen: (h) => {
      handler = h;
      for (const message of early.splice(0)) h(message);
    },
  }, module);
  void (async () => {
    const reader = new FrameReader();
    try {
      await eachRead(Deno.stdin, (chunk) => {
        for (const message of reader.push(chunk) as HostMessage[]) {
          if (message.t === "bye") Deno.exit(0);
          if (handler === undefined) early.push(message);
          else handler(message);
        }
      });
    } catch (error) {
      if (error instanceof FrameError) {
        console.error(`chronetix plugin process: the host sent a bad frame: ${error.message}`);
        Deno.exit(2);
      }
      throw error;
    }
    await chain;
    Deno.exit(0);
  })();
}
