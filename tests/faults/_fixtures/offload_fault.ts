// One offload fault in a process of its own. tests/faults/offload_faults_test.ts
// runs `deno run --no-config --allow-read=. offload_fault.ts <fault>` (no
// --unstable-worker-options: the pool must not need it) and reads the JSON
// report this prints. Other jobs run before, during and after the fault; the
// pool is closed; then the script ends without Deno.exit(), so its exit code
// also says whether anything the pool started still held the process.
import { OffloadPool } from "../../../src/exec/offload_pool.ts";
import { MetricsRegistry } from "../../../src/metrics/registry.ts";

const fault = Deno.args[0] ?? "";
const job = (name: string) => new URL(`../../exec/_fixtures/jobs/${name}.ts`, import.meta.url);
const logged: string[] = [];
const metrics = new MetricsRegistry();
const pool = new OffloadPool({
  jobs: {
    square: job("square"),
    oom: job("oom"),
    spin: job("spin"),
    spinLater: job("spin_later"),
    exit: job("exit"),
    closeSelf: job("close_self"),
  },
  minWorkers: 2,
  maxWorkers: 2,
  // Only the stuck job may time out; the others fail for what they did.
  timeoutMs: fault.startsWith("stuck") ? 500 : 120_000,
  metrics,
  name: "faults",
  logger: {
    error: (message: string) => void logged.push(message),
    warn: (message: string) => void logged.push(message),
    info: () => {},
  },
  resourceLimits: { maxHeapMb: 32 },
});

const squares = (from: number) =>
  Promise.all([0, 1, 2, 3].map((i) => pool.submit<number>("square", from + i)));
const settled = (promise: Promise<unknown>) =>
  promise.then(
    (value) => ({ value }),
    (error) => ({ name: error?.name, code: error?.code, message: String(error?.message) }),
  );

const before = await squares(1);
let faulty: Promise<unknown>;
switch (fault) {
  case "transfer":
    faulty = pool.submit("square", 3, { transfer: 5 as unknown as Transferable[] });
    break;
  case "oom":
    faulty = pool.submit("oom");
    break;
  case "stuck":
    faulty = pool.submit("spin");
    break;
  case "stuck-async":
    faulty = pool.submit("spinLater");
    break;
  case "close-self":
    faulty = pool.submit("closeSelf");
    break;
  case "exit":
    faulty = pool.submit("exit", 3);
    break;
  default:
    throw new Error(`Unknown fault: ${fault}`);
}
const outcome = settled(faulty);
// Let the faulty job reach a worker first: the others go to the idle one.
await new Promise((resolve) => setTimeout(resolve, 0));
const during = await squares(5);
const failure = await outcome;
const after = await squares(9);
// A worker that stops answering is replaced a timeout after its job timed out.
while (fault !== "transfer" && pool.stats().workersReplaced === 0) {
  await new Promise((resolve) => setTimeout(resolve, 20));
}
const text = metrics.exposeText();
const stats = pool.stats();
const close = await pool.close({ graceMs: 1_000 });
console.log(JSON.stringify({
  before,
  during,
  failure,
  after,
  stats: {
    submitted: stats.submitted,
    completed: stats.completed,
    failed: stats.failed,
    timedOut: stats.timedOut,
    crashed: stats.crashed,
    rejected: stats.rejected,
    workersReplaced: stats.workersReplaced,
    stuckWorkers: stats.stuckWorkers,
    oomKills: stats.oomKills,
    workersAlive: stats.workersAlive,
  },
  metrics: text.split("\n").filter((line) =>
    /^chronetix_offload_(jobs_total|workers_replaced_total|stuck_workers_total|oom_kills_total)/
      .test(line)
  ),
  logged,
  close,
}));
