// Worker plugins created on a spawner thread (`createWorkerHost({ spawner:
// true })`, src/plugin/_spawner.ts; by default only restarts) rather than on
// the kernel's: the default split between loads and restarts, the spawner
// itself (ports, a shared block through a port, failures relayed, terminate,
// close), and the worker host through it: lifecycle with state, a crash and
// its restart, every permission escape denied, a module that fails to
// import, out-of-memory in the heap-limited relay, data ports, hot reloads
// under a 1 kHz producer, and a hang (a zombie, in a subprocess).
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { WorkerSpawner } from "../../src/plugin/_spawner.ts";
import { createWorkerHost } from "../../src/plugin/worker_host.ts";
import { PluginError } from "../../src/plugin/plugin_error.ts";
import { DataPort } from "../../src/data/data_port.ts";
import type { PluginManifest } from "../../src/plugin/manifest_types.ts";
import { ESCAPE_ATTEMPTS } from "./_fixtures/escape_attempts.ts";
import { validateManifest } from "../../src/plugin/manifest.ts";
import {
  eventually,
  nextEvent,
  realManager,
  type RealParts,
  realParts,
  remoteManifest,
  telemetryEvent,
} from "./_fixtures/remote/_kernel.ts";

// A plugin Worker's program for the spawner's own tests: it sends up a port
// (as _worker_entry.ts does), answers "ping" with "pong" on it, bumps word 0
// of a shared block it is sent, and throws on "throw".
const ECHO_PROGRAM = `data:application/javascript,${
  encodeURIComponent(`
const { port1: port, port2 } = new MessageChannel();
self.postMessage("not a port: ignored");
self.postMessage(port2, [port2]);
port.onmessage = ({ data }) => {
  if (data === "throw") setTimeout(() => { throw new Error("thrown on purpose"); }, 0);
  else if (data instanceof SharedArrayBuffer) { Atomics.add(new Int32Array(data), 0, 41); port.postMessage("bumped"); }
  else port.postMessage(data === "ping" ? "pong" : "?");
};
port.postMessage("up");`)
}`;

/** Starts ECHO_PROGRAM through `spawner`; resolves with its port, failures go to `failed`. */
function startEcho(
  spawner: WorkerSpawner,
  name: string,
  failed: (message: string) => void,
  permissions: Deno.PermissionOptionsObject | undefined = undefined,
): { port: Promise<MessagePort>; terminate(): void } {
  const port = Promise.withResolvers<MessagePort>();
  const worker = spawner.start({ url: ECHO_PROGRAM, name, permissions }, {
    port: port.resolve,
    error: failed,
    messageError: () => failed("messageerror"),
  });
  let got: MessagePort | undefined;
  port.promise.then((p) => got = p);
  return {
    port: port.promise,
    terminate: () => {
      worker.terminate();
      got?.close();
    },
  };
}

function next(port: MessagePort): Promise<unknown> {
  return new Promise((resolve) => port.onmessage = (event) => resolve(event.data));
}

Deno.test("WorkerSpawner starts a Worker on its thread that talks on the port it sent up, shares a block, and ends on close", async () => {
  const spawner = new WorkerSpawner();
  assertEquals([spawner.running, spawner.live], [false, 0]);
  const errors: string[] = [];
  const worker = startEcho(spawner, "echo", (m) => errors.push(m));
  try {
    assertEquals([spawner.running, spawner.live], [true, 1]);
    const port = await worker.port;
    assertEquals(await next(port), "up");
    const answer = next(port);
    port.postMessage("ping");
    assertEquals(await answer, "pong");
    const block = new SharedArrayBuffer(8);
    new Int32Array(block)[0] = 1;
    const bumped = next(port);
    port.postMessage(block);
    assertEquals(await bumped, "bumped");
    assertEquals(Atomics.load(new Int32Array(block), 0), 42);
    assertEquals(errors, []);
  } finally {
    worker.terminate();
    worker.terminate();
  }
  assertEquals([spawner.running, spawner.live], [true, 0]);
  spawner.close();
  assertEquals(spawner.running, false);
});

Deno.test("WorkerSpawner relays a thread's failure and keeps serving other Workers", async () => {
  const spawner = new WorkerSpawner();
  const failed = Promise.withResolvers<string>();
  const first = startEcho(spawner, "thrower", failed.resolve);
  const second = startEcho(spawner, "bystander", () => {}, { read: false });
  try {
    const port = await first.port;
    assertEquals(await next(port), "up");
    port.postMessage("throw");
    assertStringIncludes(await failed.promise, "thrown on purpose");
    const other = await second.port;
    assertEquals(await next(other), "up");
    const answer = next(other);
    other.postMessage("ping");
    assertEquals(await answer, "pong");
    spawner.close(); // a Worker is still live: the spawner stays
    assertEquals(spawner.running, true);
  } finally {
    first.terminate();
    second.terminate();
    spawner.close();
  }
  assertEquals(spawner.running, false);
});

Deno.test("createWorkerHost refuses a 'spawner' option that is not a boolean or \"restarts\"", () => {
  for (const [bad, shown] of [["yes", '"yes"'], [1, "1"], [null, "null"]] as const) {
    let error: unknown;
    try {
      createWorkerHost({ spawner: bad as unknown as boolean });
    } catch (e) {
      error = e;
    }
    assert(error instanceof TypeError);
    assertStringIncludes(
      error.message,
      `'spawner' must be a boolean or "restarts": current value is ${shown}`,
    );
  }
});

Deno.test("By default a worker plugin's load starts on the kernel's thread and its restarts through the spawner", async () => {
  const p = realParts();
  const workers = createWorkerHost();
  const plugins = realManager(p, { hosts: { worker: workers } });
  try {
    const ticks = nextEvent<number>(p.bus, "echo.ticks", (n) => n >= 1);
    await plugins.load(worker("echo", "echo.ts", {
      capabilities: ["publish", "subscribe", "metrics"],
    }));
    await ticks;
    assertEquals(workers.stats(), { started: 1, spawned: 0, live: 1, zombies: 0 });
    const restarted = nextEvent<unknown>(p.bus, "echo.started");
    await plugins.restart("echo", { keepState: true });
    await restarted;
    assertEquals(workers.stats(), { started: 2, spawned: 1, live: 1, zombies: 0 });
    // A hot reload starts on the kernel's thread again.
    const report = await plugins.reload("echo");
    assert(report.ok, report.reason);
    assertEquals(workers.stats(), { started: 3, spawned: 1, live: 1, zombies: 0 });
    await plugins.unload("echo");
  } finally {
    await plugins.close();
    workers.close();
    p[Symbol.dispose]();
  }
});

/** A manager whose worker host starts plugin Workers through a spawner. */
function spawnerSetUp(options: { dataPorts?: (plugin: string, name: string) => unknown } = {}): {
  p: RealParts;
  plugins: ReturnType<typeof realManager>;
  workers: ReturnType<typeof createWorkerHost>;
  settle(): Promise<void>;
} {
  const p = realParts();
  const workers = createWorkerHost({ spawner: true });
  const plugins = realManager(p, {
    hosts: { worker: workers },
    ...(options.dataPorts === undefined ? {} : { dataPorts: options.dataPorts as never }),
  });
  return {
    p,
    plugins,
    workers,
    async settle() {
      await plugins.close();
      workers.close();
      p[Symbol.dispose]();
    },
  };
}

const worker = (name: string, file: string, extra: Partial<PluginManifest> = {}) =>
  remoteManifest(name, file, "worker", extra);

Deno.test("Through a spawner: a worker plugin runs its lifecycle with the bus and hands its state over", async () => {
  const { p, plugins, workers, settle } = spawnerSetUp();
  try {
    const ticks = nextEvent<number>(p.bus, "echo.ticks", (n) => n >= 3);
    const info = await plugins.load(worker("echo", "echo.ts", {
      capabilities: ["publish", "subscribe", "metrics"],
    }));
    assertEquals([info.state, info.isolation], ["started", "worker"]);
    assert((await ticks) >= 3);
    const out = nextEvent<{ value: number; isolation: string }>(p.bus, "echo.out");
    p.bus.topic<number>("echo.in").publish(21);
    assertEquals(await out, { value: 42, isolation: "worker" });
    const restarted = nextEvent<unknown>(p.bus, "echo.started");
    await plugins.restart("echo", { keepState: true });
    assertEquals(await restarted, { saved: 42 });
    const report = await plugins.unload("echo");
    assertEquals([report.graceful, report.killed, report.zombie], [true, false, false]);
    assertEquals(workers.stats(), { started: 2, spawned: 2, live: 0, zombies: 0 });
  } finally {
    await settle();
  }
});

Deno.test("Through a spawner: a crash ends the instance with its cause and the supervisor restarts it", async () => {
  const { plugins, settle } = spawnerSetUp();
  try {
    await plugins.load(worker("crash", "crash.ts", {
      restart: { maxRetries: 1, backoffInitialMs: 10, backoffJitterRatio: 0 },
    }));
    const exit = await telemetryEvent(plugins, (e) => e.kind === "exit");
    assertStringIncludes(exit.reason!, 'crashed: task "boom" threw: boom from worker');
    await telemetryEvent(plugins, (e) => e.kind === "restart_loaded");
    await telemetryEvent(plugins, (e) => e.kind === "restart_give_up");
    assertEquals(plugins.get("crash")!.restarts, 1);
  } finally {
    await settle();
  }
});

Deno.test("Through a spawner: a module that throws on import fails the load with the thread's error", async () => {
  const { plugins, settle } = spawnerSetUp();
  try {
    const error = await assertRejects(
      () => plugins.load(worker("throws-load", "throws_on_import.ts")),
      PluginError,
    );
    assertEquals(error.phase, "load");
    assertStringIncludes(error.message, "cannot import me");
  } finally {
    await settle();
  }
});

Deno.test("Through a spawner: every permission escape of a permissions-none plugin is denied", async () => {
  const attempts = ESCAPE_ATTEMPTS;
  for (const what of attempts) {
    const { p, plugins, settle } = spawnerSetUp();
    try {
      const outcome = nextEvent<{ attempt: string; outcome: string; error?: string }>(
        p.bus,
        "escape",
      );
      await plugins.load(worker(`escape-${what}`, "greedy.ts", { capabilities: ["publish"] }));
      const result = await outcome;
      assertEquals([result.attempt, result.outcome], [what, "denied"], result.error);
    } finally {
      await settle();
    }
  }
});

Deno.test("Through a spawner: out-of-memory in the heap-limited relay ends the instance alone", async () => {
  const { p, plugins, workers, settle } = spawnerSetUp();
  try {
    const started = nextEvent<string>(p.bus, "oom.started");
    await plugins.load(worker("oom", "oom.ts", {
      capabilities: ["publish"],
      limits: { maxHeapMb: 32 },
      restart: { restartEnabled: false },
      budgets: { hangMs: 60_000, taskBudgetMs: 60_000 },
    }));
    assertEquals(await started, "worker");
    const exit = await telemetryEvent(plugins, (e) => e.kind === "exit");
    assertStringIncludes(exit.reason!, "out-of-memory: it ran out of heap");
    assertEquals(workers.stats().zombies, 0);
  } finally {
    await settle();
  }
});

Deno.test("Through a spawner: a worker plugin sends frames to a kernel DataPort in order", async () => {
  const out = new DataPort({ name: "out", credit: 4 });
  const { p, plugins, settle } = spawnerSetUp({
    dataPorts: (plugin, name) => plugin === "ports" && name === "out" ? out : undefined,
  });
  try {
    await plugins.load(worker("ports", "ports.ts", {
      capabilities: ["publish", "subscribe", "dataport"],
    }));
    const seen: number[] = [];
    out.onFrame((meta, view) => {
      seen.push(new DataView(view.buffer, view.byteOffset).getUint32(0));
      out.recycle(meta);
    });
    const produced = nextEvent<{ sent: number }>(p.bus, "ports.produced");
    p.bus.topic("ports.produce").publish({ n: 50 });
    assertEquals((await produced).sent, 50);
    await out.whenIdle();
    assertEquals(seen, Array.from({ length: 50 }, (_, i) => i));
  } finally {
    await settle();
    out.close();
  }
});

Deno.test("Through a spawner: hot reloads under a 1 kHz producer lose, duplicate and reorder nothing", async () => {
  const { p, plugins, settle } = spawnerSetUp();
  const reloads = 5;
  const acks: [number, number][] = [];
  const ack = p.bus.topic<[number, number]>("rr.ack").subscribe((a) => void acks.push(a));
  let sent = 0;
  let producer: { cancel(): boolean } | undefined;
  try {
    await plugins.load(validateManifest({
      name: "rr-spawner",
      version: "1.0.0",
      entry: new URL("./_fixtures/remote_reload/counter.ts", import.meta.url).href,
      isolation: "worker",
      capabilities: ["subscribe", "publish"],
      budgets: { initTimeoutMs: 60_000, hangMs: 10_000, stopTimeoutMs: 10_000 },
    }));
    const seq = p.bus.topic<number>("rr.seq");
    producer = p.driver.every(1, () => void seq.publish(sent++));
    for (let i = 0; i < reloads; i++) {
      const report = await plugins.reload("rr-spawner");
      assert(report.ok, `reload ${i}: ${report.failedPhase}: ${report.reason}`);
    }
    producer.cancel();
    await eventually(() => acks.length >= sent, `${sent} acknowledgements`);
    assert(sent > reloads, `only ${sent} events were sent`);
    assertEquals(acks.length, sent);
    assertEquals(acks.filter(([s, count], i) => s !== i || count !== s + 1).slice(0, 5), []);
    assertEquals(plugins.stats().hotReload.success, reloads);
  } finally {
    producer?.cancel();
    ack.unsubscribe();
    await settle();
  }
});

Deno.test("Through a spawner: a spinning plugin is marked hung, counted as a zombie and restarted", async () => {
  // In a subprocess: the zombie thread spins forever and would keep this process alive.
  const at = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
  const program = `
import { createWorkerHost } from ${at("../../src/plugin/worker_host.ts")};
import { nextEvent, realManager, realParts, remoteManifest, telemetryEvent } from ${
    at("./_fixtures/remote/_kernel.ts")
  };
const p = realParts();
const workers = createWorkerHost({ spawner: true });
const plugins = realManager(p, { hosts: { worker: workers } });
const first = nextEvent(p.bus, "hang.started");
await plugins.load(remoteManifest("hang", "hang.ts", "worker", {
  capabilities: ["publish"],
  budgets: { heartbeatMs: 20, hangMs: 2000, taskBudgetMs: 100 },
  restart: { maxRetries: 1, backoffInitialMs: 10, backoffJitterRatio: 0 },
}));
await first;
const second = nextEvent(p.bus, "hang.started");
const exit = await telemetryEvent(plugins, (e) => e.kind === "exit");
const kill = await telemetryEvent(plugins, (e) => e.kind === "kill");
await telemetryEvent(plugins, (e) => e.kind === "restart_loaded");
console.log(JSON.stringify({ exit: exit.reason, kill: kill.reason, second: await second, workers: workers.stats() }));
Deno.exit(0);
`;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 120_000);
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--quiet", "--ext=ts", program],
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 0, stderr);
    const report = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
    assertStringIncludes(report.exit, 'hung: task "spin" ran past its budget of 100 ms');
    assertStringIncludes(report.kill, "zombie");
    assertEquals(report.second, "worker");
    assertEquals(report.workers.zombies, 1);
    assert(report.workers.started >= 2);
  } finally {
    clearTimeout(timer);
  }
});
