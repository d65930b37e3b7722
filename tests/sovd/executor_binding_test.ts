// The executor binding end to end: a kernel started with a TaskSink as its
// executor's hooks, served by createServer(), which then reads liveness and
// timing from the hooks (a stopped task stays listed, a latched error
// survives a clean stop); without one it falls back to polling.

import { assertEquals } from "@std/assert";
import { Kernel } from "../../src/kernel.ts";
import { createServer } from "../../src/server/mod.ts";
import { TaskSink } from "../../src/sovd/task_sink.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { SILENT_LOGGER } from "../_util/logger.ts";

async function item(
  server: ReturnType<typeof createServer>,
  path: string,
): Promise<Record<string, unknown>> {
  const response = await server.request(path);
  assertEquals(response.status, 200, path);
  return (await response.json()).data;
}

Deno.test("createServer() reads task liveness and timing from a TaskSink given as the kernel's executor hooks", async () => {
  const clock = new VirtualClock();
  const sink = new TaskSink({ capacity: 8 });
  await using kernel = await Kernel.start({
    clock,
    logger: SILENT_LOGGER,
    executor: { hooks: sink },
  });
  let fail = false;
  kernel.periodic({ name: "sampler", periodMs: 10, run: () => clock.spend(1) });
  const flaky = kernel.periodic({
    name: "flaky",
    periodMs: 10,
    run: () => {
      if (fail) throw new Error("unplugged");
    },
  });
  await using server = createServer(kernel, { logger: SILENT_LOGGER });
  clock.advance(50);
  fail = true;
  clock.advance(10);
  flaky.cancel(); // a clean stop after a failed run: the error stays latched

  const identity = await item(server, "/api/v1/apps/sampler/data/identity");
  assertEquals(identity.source, "hooks");
  const timing = await item(server, "/api/v1/apps/sampler/data/timing");
  assertEquals([timing.executions, timing.min_us, timing.period_us, timing.rate_hz], [
    6,
    1000,
    10000,
    100,
  ]);
  // The cancelled task is gone from the executor but still listed from the sink.
  const apps = await (await server.request("/api/v1/apps")).json();
  assertEquals(apps.items.map((a: { id: string }) => a.id), ["sampler", "flaky"]);
  const liveness = await item(server, "/api/v1/apps/flaky/data/liveness");
  assertEquals(liveness, { state: "error", online: false, starts: 1, stops: 1, errors: 1 });
  const status = await (await server.request("/api/v1/apps/flaky/status")).json();
  assertEquals(status.status, "notReady");
  const binding = await item(server, "/api/v1/components/executor/data/binding");
  assertEquals(binding, { capacity: 8, used: 2, refused: 0, unregistered: 0 });
  assertEquals(kernel.stats().executor.hookErrors, 0);
});

Deno.test("createServer() polls the executor when the kernel's hooks are not a TaskSink, or absent", async () => {
  const clock = new VirtualClock();
  const calls: string[] = [];
  await using kernel = await Kernel.start({
    clock,
    logger: SILENT_LOGGER,
    executor: {
      hooks: {
        attach: (name) => (calls.push(name), 0),
        onStart() {},
        onEnd() {},
        onStop() {},
      },
    },
  });
  kernel.periodic({ name: "sampler", periodMs: 10, run: () => {} });
  await using server = createServer(kernel, { logger: SILENT_LOGGER });
  clock.advance(20);
  assertEquals(calls, ["sampler"]);
  assertEquals((await item(server, "/api/v1/apps/sampler/data/identity")).source, "polling");
  const data = await (await server.request("/api/v1/components/executor/data")).json();
  assertEquals(data.items.map((d: { id: string }) => d.id), ["summary"]); // no binding item

  await using plain = await Kernel.start({ clock, logger: SILENT_LOGGER });
  plain.periodic({ name: "p", periodMs: 10, run: () => {} });
  await using polled = createServer(plain, { logger: SILENT_LOGGER });
  clock.advance(20);
  assertEquals((await item(polled, "/api/v1/apps/p/data/identity")).source, "polling");
});
