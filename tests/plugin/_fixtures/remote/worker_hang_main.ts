// Runs a worker plugin that spins in a task: the watchdog marks it hung, the
// manager kills it (a zombie: Deno cannot stop the thread) and the supervisor
// restarts it in a new Worker. Prints a JSON report and exits the process
// (the zombie thread would keep it alive forever).
import { createWorkerHost } from "../../../../src/plugin/worker_host.ts";
import { nextEvent, realManager, realParts, remoteManifest, telemetryEvent } from "./_kernel.ts";

const p = realParts();
const workers = createWorkerHost();
const plugins = realManager(p, { hosts: { worker: workers } });
const first = nextEvent<string>(p.bus, "hang.started");
await plugins.load(remoteManifest("hang", "hang.ts", "worker", {
  capabilities: ["publish"],
  budgets: { heartbeatMs: 20, hangMs: 2000, taskBudgetMs: 100 },
  restart: { maxRetries: 1, backoffInitialMs: 10, backoffJitterRatio: 0 },
}));
await first;
const second = nextEvent<string>(p.bus, "hang.started");
const exit = await telemetryEvent(plugins, (e) => e.kind === "exit");
const kill = await telemetryEvent(plugins, (e) => e.kind === "kill");
await telemetryEvent(plugins, (e) => e.kind === "restart_loaded");
const secondStarted = await second;
console.log(JSON.stringify({
  exit: exit.reason,
  killZombie: kill.reason?.includes("zombie") ?? false,
  restarted: true,
  secondStarted,
  managerZombies: plugins.stats().zombies,
  workers: workers.stats(),
}));
Deno.exit(0);
