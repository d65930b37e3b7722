// A stand-in for the diagnostics server, in its own process, for the loop
// cases of `bench:server` (`loop-under-scrape`, `dashboard`): it answers
// with bodies the real server gave (path → content type and body; query
// strings are ignored) and keeps any fault stream open, but runs no kernel.
// A 1 kHz loop's lateness while a load process talks to this stand-in is
// what that load process and its sockets cost on the same cores; the same
// load against the real server, beyond that, is the kernel's share.
//
// The bench side is `startStandInServer(bodies)`. The program:
//
//   deno run --allow-net=127.0.0.1 bench/_stand_in_server.ts
//
// reads the bodies as a JSON object on the first line of its stdin, prints
// its port on the first line of stdout once it listens, and ends when its
// stdin ends (bench/_switched_process.ts's line transport).

import { stdinLines, SwitchedProcess } from "./_switched_process.ts";

/** What the stand-in answers: per path, the content type and the body. */
export type StandInBodies = Record<string, { type: string; body: string }>;

/** A running stand-in: its port on 127.0.0.1 and its process (`close()` ends it). */
export interface StandInServer {
  port: number;
  process: SwitchedProcess<number>;
}

/**
 * Takes `paths` from the real server (in-process, no socket) into
 * `bodies`, keyed by path without the query.
 */
export async function takeBodies(
  server: { request(path: string): Promise<Response> },
  paths: readonly string[],
  bodies: StandInBodies = {},
): Promise<StandInBodies> {
  for (const path of paths) {
    const response = await server.request(path);
    bodies[new URL(path, "http://x").pathname] = {
      type: response.headers.get("content-type") ?? "application/octet-stream",
      body: await response.text(),
    };
  }
  return bodies;
}

/** Starts the stand-in process with `bodies` and waits until it listens. */
export async function startStandInServer(bodies: StandInBodies): Promise<StandInServer> {
  const process = new SwitchedProcess<number>([
    "run",
    "--allow-net=127.0.0.1",
    new URL(import.meta.url).pathname,
  ]);
  await process.send(JSON.stringify(bodies));
  return { port: await process.receive(), process };
}

if (import.meta.main) {
  const input = stdinLines();
  const first = await input.next();
  if (first.done) {
    console.error("_stand_in_server.ts: stdin ended before the bodies' line");
    Deno.exit(2);
  }
  const bodies = new Map(Object.entries(JSON.parse(first.value) as StandInBodies));
  const streams = new Set<ReadableStreamDefaultController<Uint8Array>>();

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    if (path.endsWith("/faults/stream")) {
      let mine: ReadableStreamDefaultController<Uint8Array> | undefined;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          mine = controller;
          streams.add(controller);
          controller.enqueue(new TextEncoder().encode(": open\n\n"));
        },
        cancel() {
          if (mine !== undefined) streams.delete(mine);
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    }
    const entry = bodies.get(path);
    return entry === undefined
      ? new Response("{}", { status: 404, headers: { "content-type": "application/json" } })
      : new Response(entry.body, { headers: { "content-type": entry.type } });
  });
  console.log(JSON.stringify(server.addr.port));
  // Until the bench closes stdin.
  for await (const _ of input) { /* nothing more is read from it */ }
  for (const controller of streams) controller.close();
  await server.shutdown();
}
