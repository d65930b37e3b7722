// A stand-in for the diagnostics server, in its own process, for the
// `dashboard` case of `bench:server`: it answers the dashboard client's
// requests (bench/_dashboard_client.ts) with bodies the real server gave
// (the first line of its stdin: a JSON object of path → body; query strings
// are ignored) and keeps the fault stream open, but runs no kernel. A 1 kHz
// loop's lateness under a client of this process is what a client process
// and its sockets cost on the same cores; the real server's row beyond it
// is the kernel's share.
//
//   deno run --allow-net=127.0.0.1 bench/_dashboard_stand_in.ts
//
// It prints its port on the first line of stdout once it listens, and ends
// when its stdin ends (bench/_switched_process.ts's line transport).

import { stdinLines } from "./_switched_process.ts";

const input = stdinLines();
const first = await input.next();
if (first.done) {
  console.error("_dashboard_stand_in.ts: stdin ended before the bodies' line");
  Deno.exit(2);
}
const bodies = new Map(Object.entries(JSON.parse(first.value) as Record<string, string>));
const streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
const JSON_TYPE = { "content-type": "application/json" };

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
  const text = bodies.get(path);
  return text === undefined
    ? new Response("{}", { status: 404, headers: JSON_TYPE })
    : new Response(text, { headers: JSON_TYPE });
});
console.log(JSON.stringify(server.addr.port));
// Until the bench closes stdin.
for await (const _ of input) { /* nothing more is read from it */ }
for (const controller of streams) controller.close();
await server.shutdown();
