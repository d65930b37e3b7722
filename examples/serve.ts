// A kernel with a few tasks, served as an SOVD diagnostics server with
// Prometheus metrics and a fault stream:
//
//   deno run --allow-net=127.0.0.1 --allow-env examples/serve.ts
//   curl -s http://127.0.0.1:8080/api/v1/apps
//
// Set CHRONETIX_TOKEN to allow state-changing requests (DELETE of faults,
// status controls) with `Authorization: Bearer <token>`. The `flaky` task
// fails now and then, so a TASK_RUN_FAILURES fault comes and heals; watch it
// with `curl -N http://127.0.0.1:8080/api/v1/faults/stream`. Ctrl-C stops.

import { Kernel } from "../mod.ts";
import { serve } from "../src/server/mod.ts";

const kernel = await Kernel.start({ name: "demo" });
let level = 0;
kernel.periodic({
  name: "sensor",
  periodMs: 10,
  run: () => void (level = Math.sin(performance.now() / 1000)),
});
kernel.periodic({ name: "controller", periodMs: 20, run: () => void (level *= 0.9) });
let n = 0;
kernel.periodic({
  name: "flaky",
  periodMs: 100,
  run: () => {
    // Fails for 3 s out of every 20 s.
    if (++n % 200 < 30) throw new Error("sensor unplugged");
  },
});

const handle = serve(kernel, {
  port: Number(Deno.env.get("PORT") ?? 8080),
  token: Deno.env.get("CHRONETIX_TOKEN"),
  faults: { evaluateEveryMs: 1000, healAfterMs: 5000 },
  logger: { error: console.error, warn: console.warn, info() {} },
});
console.log(
  `Serving on http://${handle.addr.hostname}:${handle.addr.port}/api/v1 (metrics at /metrics)`,
);

const stop = async () => {
  await handle.shutdown();
  await kernel.shutdown();
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", stop);
if (Deno.env.get("CHRONETIX_EXAMPLE_ONCE") === "1") {
  // CI smoke run: one request to itself, then exit.
  const r = await fetch(`http://127.0.0.1:${handle.addr.port}/api/v1/components`);
  console.log(r.status, (await r.json()).items.map((i: { id: string }) => i.id).join(", "));
  Deno.removeSignalListener("SIGINT", stop);
  await stop();
}
