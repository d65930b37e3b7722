// Runs one bus fault in this process, then prints a JSON report on its last
// line and exits by itself (exit code 0) when the fault was contained.
// `deno run --allow-read=. tests/faults/_fixtures/bus_faults.ts <mode>`:
//   handler-error-hook  onHandlerError throws, also for async handler rejections
//   queued-hook         onQueued throws on every empty -> non-empty step
//   requeue-loop        a handler re-enqueues on every delivery, drained by a
//                       host loop like the kernel's (onQueued -> next tick)
import { EventBus } from "../../../src/bus/event_bus.ts";
import { MetricsRegistry } from "../../../src/metrics/registry.ts";
import type { Logger } from "../../../src/logger.ts";

const mode = Deno.args[0];
const lines: string[] = [];
const logger: Logger = {
  error: (m) => void lines.push(m),
  warn: (m) => void lines.push(m),
  info: (m) => void lines.push(m),
};
const metrics = new MetricsRegistry({ selfMetrics: false });
const nextTick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function metricLines(): string[] {
  return metrics.exposeText().split("\n").filter((l) =>
    l.startsWith("chronetix_bus_hook_errors_total") ||
    l.startsWith("chronetix_bus_handler_errors_total") ||
    l.startsWith("chronetix_bus_published_total")
  );
}

const report: Record<string, unknown> = { mode };

if (mode === "handler-error-hook") {
  const bus = new EventBus({
    name: "faulty",
    metrics,
    logger,
    onHandlerError: () => {
      throw new Error("hook broke");
    },
  });
  const topic = bus.topic<number>("jobs");
  let healthy = 0;
  topic.subscribe(() => Promise.reject(new Error("async handler broke")));
  topic.subscribe(() => {
    throw new Error("sync handler broke");
  });
  topic.subscribe(() => void healthy++);
  let otherWork = 0;
  for (let i = 0; i < 20; i++) {
    topic.publish(i);
    await nextTick();
    otherWork++;
  }
  const stats = bus.stats();
  report.healthy = healthy;
  report.otherWork = otherWork;
  report.handlerErrors = stats.topics[0]!.handlerErrors;
  report.hookErrors = stats.hookErrors;
  bus.close();
} else if (mode === "queued-hook") {
  const bus = new EventBus({
    name: "faulty",
    metrics,
    logger,
    onQueued: () => {
      throw new Error("host broke");
    },
  });
  const topic = bus.topic<number>("jobs");
  let delivered = 0;
  topic.subscribe(() => void delivered++);
  let otherWork = 0;
  for (let i = 0; i < 20; i++) {
    topic.enqueue(i);
    topic.enqueue(i);
    await nextTick();
    otherWork++;
    bus.drain();
  }
  const stats = bus.stats();
  report.delivered = delivered;
  report.otherWork = otherWork;
  report.queued = stats.queued;
  report.hookErrors = stats.hookErrors;
  bus.close();
} else if (mode === "requeue-loop") {
  let scheduled = false;
  let drains = 0;
  // The host loop of the kernel: a drain on the next tick, once per request.
  const drainTick = () => {
    scheduled = false;
    drains++;
    bus.drain();
  };
  const bus: EventBus = new EventBus({
    name: "faulty",
    metrics,
    logger,
    onQueued: () => {
      if (scheduled) return;
      scheduled = true;
      setTimeout(drainTick, 0);
    },
  });
  const topic = bus.topic<number>("loop");
  let stop = false;
  let delivered = 0;
  topic.subscribe((n) => {
    delivered++;
    if (!stop) topic.enqueue(n + 1);
  });
  topic.enqueue(0);
  let otherWork = 0;
  while (otherWork < 20) {
    await nextTick();
    otherWork++;
  }
  stop = true;
  while (bus.queued > 0) await nextTick();
  report.otherWork = otherWork;
  report.delivered = delivered;
  report.drains = drains;
  report.published = bus.stats().topics[0]!.published;
  bus.close();
} else {
  console.error(
    `Cannot run the bus fault fixture as the mode must be known: current value is ${mode}`,
  );
  Deno.exit(2);
}

report.log = lines;
report.metrics = metricLines();
console.log(JSON.stringify(report));
