// Hot reload with real Workers and subprocesses: a producer on the kernel's
// driver publishes sequence numbers every millisecond through 100 reloads of
// a consumer plugin; every number is acknowledged exactly once, in order, and
// the consumer's counter survives every switch (count === seq + 1).
import { assert, assertEquals } from "@std/assert";
import {
  eventually,
  GIVE_UP_MS,
  nextEvent,
  realManager,
  realParts,
  remoteManifest,
} from "./_fixtures/remote/_kernel.ts";
import { createWorkerHost } from "../../src/plugin/worker_host.ts";
import { validateManifest } from "../../src/plugin/manifest.ts";

const RELOADS = Number(Deno.env.get("CHRONETIX_RELOADS") ?? "100");

for (const isolation of ["worker", "process"] as const) {
  Deno.test(`PluginManager.reload() (${isolation}): ${RELOADS} reloads under a 1 kHz producer lose, duplicate and reorder nothing`, async () => {
    using p = realParts();
    const plugins = realManager(p);
    const name = `rr-${isolation}`;
    await plugins.load(validateManifest({
      name,
      version: "1.0.0",
      entry: new URL("./_fixtures/remote_reload/counter.ts", import.meta.url).href,
      isolation,
      capabilities: ["subscribe", "publish"],
      // Generous: other work on a loaded machine must not fail a start or trip the watchdog.
      budgets: { initTimeoutMs: 60_000, hangMs: 10_000, stopTimeoutMs: 10_000 },
    }));
    const acks: [number, number][] = [];
    const { promise: allAcked, resolve: done } = Promise.withResolvers<void>();
    let sent = 0;
    let target = Infinity;
    using _acks = p.bus.topic<[number, number]>("rr.ack").subscribe((ack) => {
      acks.push(ack);
      if (acks.length >= target) done();
    });
    const seq = p.bus.topic<number>("rr.seq");
    const producer = p.driver.every(1, () => void seq.publish(sent++));
    const failures: string[] = [];
    try {
      for (let i = 0; i < RELOADS; i++) {
        const info = plugins.get(name);
        if (info?.state !== "started") {
          throw new Error(
            `the consumer is ${info?.state} before reload ${i}: ${info?.lastError?.message}`,
          );
        }
        const report = await plugins.reload(name);
        if (!report.ok) failures.push(`${i}: ${report.failedPhase}: ${report.reason}`);
      }
    } finally {
      producer.cancel();
    }
    target = sent;
    if (acks.length >= target) done();
    const timer = setTimeout(done, GIVE_UP_MS);
    await allAcked;
    clearTimeout(timer);
    assertEquals(failures, []);
    assert(sent > RELOADS, `only ${sent} events were sent`);
    const seen = new Map<number, number>();
    for (const [s] of acks) seen.set(s, (seen.get(s) ?? 0) + 1);
    const lost = Array.from({ length: sent }, (_, i) => i).filter((i) => !seen.has(i));
    const duplicated = [...seen].filter(([, n]) => n > 1).map(([s]) => s);
    const wrong = acks.filter(([s, count]) => count !== s + 1).slice(0, 5);
    assertEquals({ lost: lost.slice(0, 5), duplicated: duplicated.slice(0, 5), wrong }, {
      lost: [],
      duplicated: [],
      wrong: [],
    });
    assertEquals(acks.length, sent);
    assertEquals(plugins.stats().hotReload.success, RELOADS);
    assertEquals(plugins.resources.owners(), [`${name}#${RELOADS + 1}`]);
    await plugins.close();
  });
}

Deno.test("PluginManager.reload() (worker) audits the imports again when the plugin's files changed", async () => {
  const folder = Deno.realPathSync(
    await Deno.makeTempDir({ dir: ".", prefix: ".reload-audit-" }),
  );
  using p = realParts();
  const plugins = realManager(p);
  try {
    const api = new URL("../../src/plugin/author.ts", import.meta.url).href;
    const entry = `${folder}/plugin.ts`;
    const plain = `import { definePlugin } from ${
      JSON.stringify(api)
    };\nexport default definePlugin({});\n`;
    await Deno.writeTextFile(entry, plain);
    await plugins.load(validateManifest({
      name: "audited",
      version: "1.0.0",
      entry: `file://${entry}`,
      isolation: "worker",
      budgets: { initTimeoutMs: 60_000, hangMs: 10_000, stopTimeoutMs: 10_000 },
    }));
    assert((await plugins.reload("audited")).ok); // unchanged: the audit is re-used
    const outside = new URL("../../deno.json", import.meta.url).href;
    await Deno.writeTextFile(
      entry,
      `import config from ${
        JSON.stringify(outside)
      } with { type: "json" };\nimport { definePlugin } from ${
        JSON.stringify(api)
      };\nexport default definePlugin({ init() { void config; } });\n`,
    );
    const report = await plugins.reload("audited");
    assertEquals([report.ok, report.failedPhase], [false, "prepare"]);
    assert((report.reason ?? "").includes("outside its allowed roots"), report.reason);
    assertEquals(plugins.get("audited")?.state, "started"); // the old version runs on
  } finally {
    await plugins.close();
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("PluginManager.reload() (worker): a new version that fails on probation hands back to the kept old Worker", async () => {
  using p = realParts();
  const workers = createWorkerHost();
  const plugins = realManager(p, { hosts: { worker: workers } });
  try {
    const manifest = remoteManifest("rb-worker", "echo.ts", "worker", {
      capabilities: ["publish", "subscribe", "metrics"],
    });
    await plugins.load(manifest);
    let lastTick = 0;
    using _ticks = p.bus.topic<number>("echo.ticks").subscribe((n) => void (lastTick = n));
    await eventually(() => lastTick >= 3, "ticks from the first instance");
    const report = await plugins.reload("rb-worker", {
      entry: new URL("./_fixtures/remote/crash.ts", import.meta.url).href,
      version: "2.0.0",
      probationMs: 60_000,
    });
    assert(report.ok, report.reason);
    assertEquals(report.oldKept, true);
    const before = lastTick;
    // crash.ts throws 20 ms after its start: the kept echo.ts takes over.
    await eventually(
      () => plugins.telemetry.snapshot().some((e) => e.kind === "rollback"),
      "the rollback",
    );
    await eventually(
      () => plugins.get("rb-worker")?.state === "started",
      "the old version running",
    );
    assertEquals(plugins.get("rb-worker")?.version, "1.0.0");
    // The same instance goes on: its tick counter continues where it stopped.
    await eventually(() => lastTick > before, "ticks after the rollback");
    assert(lastTick > before, `${lastTick} after ${before}: the counter started over`);
    const out = nextEvent<{ value: number }>(p.bus, "echo.out");
    p.bus.topic<number>("echo.in").publish(4);
    assertEquals((await out).value, 8);
    // Two Workers in all: echo.ts and crash.ts; none for the rollback.
    assertEquals(workers.stats().started, 2);
    const rollback = plugins.telemetry.snapshot().find((e) => e.kind === "rollback");
    assert(rollback?.reason?.includes("its kept instance"), rollback?.reason);
  } finally {
    await plugins.close();
    workers.close();
  }
});
