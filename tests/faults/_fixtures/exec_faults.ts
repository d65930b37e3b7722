// Run as a subprocess by exec_faults_test.ts, one fault per process (mode in
// Deno.args[0]), on the real clock. Each mode runs a 1 kHz task next to the
// faulty ones until that task has run 200 times, reads stats and metrics,
// closes everything, prints a JSON report as its last line and then ends by
// itself: no Deno.exit, so a timer, Worker or unhandled rejection left behind
// shows as a hang or a non-zero exit code.
import { Executor } from "../../../src/exec/executor.ts";
import type { TaskHandle } from "../../../src/exec/task.ts";
import { EventBus } from "../../../src/bus/event_bus.ts";
import { MetricsRegistry } from "../../../src/metrics/registry.ts";
import type { Logger } from "../../../src/logger.ts";

const HEARTBEATS = 200;

const log: string[] = [];
let loggerThrows = false;
const logger: Logger = {
  error: (m) => {
    log.push(m.split("\n")[0]!);
    if (loggerThrows) throw new Error("logger down");
  },
  warn: (m) => {
    log.push(m.split("\n")[0]!);
    if (loggerThrows) throw new Error("logger down");
  },
  info: () => {},
};

const unhandled: string[] = [];
globalThis.addEventListener("unhandledrejection", (event) => {
  // Counted, not swallowed silently: the report shows it and the test fails.
  unhandled.push(String(event.reason));
});

/** The healthy work: a 1 kHz task; resolves once it has run HEARTBEATS times. */
function heartbeat(executor: Executor): { task: TaskHandle; done: Promise<void> } {
  const { promise, resolve } = Promise.withResolvers<void>();
  let beats = 0;
  const task = executor.periodic({
    name: "heartbeat",
    periodMs: 1,
    queueCap: 1000,
    run: () => {
      if (++beats === HEARTBEATS) resolve();
    },
  });
  return { task, done: promise };
}

/** The `chronetix_exec_failures_total` samples, by task. */
function failureMetrics(metrics: MetricsRegistry): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of metrics.exposeText().split("\n")) {
    const m = /^chronetix_exec_failures_total\{executor="faults",task="([^"]+)"\} (\S+)$/.exec(
      line,
    );
    if (m !== null) out[m[1]!] = Number(m[2]);
  }
  return out;
}

function turn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

async function failingTasks(): Promise<Record<string, unknown>> {
  loggerThrows = Deno.args[0] === "throwing-logger";
  const metrics = new MetricsRegistry();
  const bus = new EventBus({ logger });
  const executor = new Executor({
    name: "faults",
    logger,
    metrics,
    bus,
    budget: { escalateAfter: 1, cooldownMs: 0 },
  });
  const started = executor.driver.clock.now();
  const { task: beat, done } = heartbeat(executor);
  const faulty = [
    executor.periodic({
      name: "thrower",
      periodMs: 2,
      run: () => {
        throw new Error("sync boom");
      },
    }),
    executor.periodic({
      name: "rejecter",
      periodMs: 3,
      run: async () => {
        await null;
        throw new Error("async boom");
      },
    }),
    executor.periodic({
      name: "silent",
      periodMs: 5,
      onError: "retry",
      maxRetries: 1,
      run: () => {
        throw undefined;
      },
    }),
    executor.periodic({
      name: "odd",
      periodMs: 7,
      run: () => Promise.reject(Symbol("odd")),
    }),
    // Over its (tiny) budget every run: climbs the tiers, is quarantined.
    executor.periodic({
      name: "greedy",
      periodMs: 4,
      budgetMs: 0.001,
      run: () => {
        const until = performance.now() + 0.05;
        while (performance.now() < until) { /* burn */ }
      },
    }),
  ];
  const stuck = executor.once({ name: "stuck", run: () => new Promise(() => {}) });
  await done;
  // One synchronous read: stats and the metrics scrape see the same runs.
  const text = failureMetrics(metrics);
  const stats = Object.fromEntries(
    [beat, ...faulty, stuck].map((t) => {
      const s = t.stats();
      return [t.name, { runs: s.runs, failures: s.failures, state: s.state, tier: s.tier }];
    }),
  );
  const waiting = [beat, ...faulty, stuck].reduce((n, t) => n + t.stats().queued, 0);
  const elapsedMs = executor.driver.clock.now() - started;
  const report = executor.close();
  bus.close();
  await turn();
  return {
    stats,
    metrics: text,
    close: report,
    waiting,
    running: executor.stats().running,
    pending: executor.driver.pending,
    elapsedMs,
    log,
    unhandled,
  };
}

async function closeWhileRunning(): Promise<Record<string, unknown>> {
  const metrics = new MetricsRegistry();
  const bus = new EventBus({ logger });
  const executor = new Executor({
    name: "faults",
    logger,
    metrics,
    bus,
    budget: { escalateAfter: 1, cooldownMs: 0 },
  });
  const { task: beat, done } = heartbeat(executor);
  const gate = Promise.withResolvers<void>();
  let inFlight = 0;
  // Bodies still running when the executor closes: they reject (and overrun
  // their budget, so a tier event meets the closed bus) after close.
  const late = executor.periodic({
    name: "late",
    periodMs: 2,
    budgetMs: 0.001,
    onError: "stop",
    run: async () => {
      inFlight++;
      await gate.promise;
      throw new Error("failed after close");
    },
  });
  await done;
  const beats = beat.stats().runs;
  // A body that closes the executor, then throws, from inside a run.
  const closer = executor.once({
    name: "closer",
    onError: "retry",
    run: () => {
      executor.close();
      bus.close();
      throw new Error("thrown while closing");
    },
  });
  await executor.whenIdle(); // resolves on close
  gate.resolve();
  await turn();
  await turn();
  return {
    beats,
    inFlight,
    late: { state: late.state, runs: late.stats().runs, failures: late.stats().failures },
    closer: {
      state: closer.state,
      runs: closer.stats().runs,
      failures: closer.stats().failures,
      retries: closer.stats().retries,
    },
    running: executor.stats().running,
    pending: executor.driver.pending,
    log,
    unhandled,
  };
}

const modes: Record<string, () => Promise<Record<string, unknown>>> = {
  "failing-tasks": failingTasks,
  "throwing-logger": failingTasks,
  "close-while-running": closeWhileRunning,
};
const mode = modes[Deno.args[0] ?? ""];
if (mode === undefined) throw new Error(`Unknown mode ${Deno.args[0]}`);
console.log(JSON.stringify(await mode()));
