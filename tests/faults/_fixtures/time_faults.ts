// Run as a subprocess by time_faults_test.ts, one fault per process (mode in
// Deno.args[0]), on the real clock. Each mode runs a healthy 1 ms loop next
// to the fault, closes everything, prints a JSON report as its last line and
// then ends by itself: no Deno.exit, so a timer, Worker or unhandled
// rejection left behind would show as a hang or a non-zero exit code.
import { Driver } from "../../../src/time/driver.ts";
import { TimerWheel } from "../../../src/time/timer_wheel.ts";
import { VirtualClock } from "../../../src/time/virtual_clock.ts";
import { MetricsRegistry } from "../../../src/metrics/registry.ts";
import type { Logger } from "../../../src/logger.ts";

const log: string[] = [];
const logger: Logger = {
  error: (m) => void log.push(m.split("\n")[0]!),
  warn: (m) => void log.push(m.split("\n")[0]!),
  info: () => {},
};

/** The healthy work: 20 ticks of a 1 ms loop on its own driver. */
async function otherWork(): Promise<number> {
  using driver = new Driver({ name: "healthy", logger });
  let ticks = 0;
  const loop = driver.every(1, () => {
    if (++ticks === 20) loop.cancel();
  });
  await driver.whenIdle();
  return ticks;
}

/** Lets every settled promise's reactions run. */
function turn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function metricLines(registry: MetricsRegistry, prefix: string): string[] {
  return registry.exposeText().split("\n").filter((l) => l.startsWith(prefix));
}

async function rejectingCallback(): Promise<Record<string, unknown>> {
  const metrics = new MetricsRegistry();
  const driver = new Driver({ name: "faulty", metrics, logger });
  let faultyFires = 0;
  const faulty = driver.every(2, async () => {
    faultyFires++;
    await null;
    throw new Error("async boom");
  });
  driver.after(1, () => Promise.reject(new Error("rejected at once")));
  const work = await otherWork();
  faulty.cancel();
  await turn();
  const callbackErrors = driver.stats().wheel.callbackErrors;
  driver.close();
  return {
    otherWork: work,
    faultyFires,
    callbackErrors,
    metrics: metricLines(metrics, "chronetix_timer_callback_errors_total"),
    log,
    pending: driver.pending,
  };
}

function rangeError(fn: () => unknown): string {
  try {
    fn();
    return "accepted";
  } catch (error) {
    return error instanceof RangeError ? error.message : `not a RangeError: ${error}`;
  }
}

async function tinyPeriods(): Promise<Record<string, unknown>> {
  const driver = new Driver({ name: "tiny", logger });
  const noop = () => {};
  const errors = [
    rangeError(() => driver.every(1e-15, noop)),
    rangeError(() => new Driver({ clock: new VirtualClock(1e6) }).every(1e-12, noop)),
    rangeError(() =>
      new TimerWheel().schedule(-1e308, noop, { periodMs: 0.5, missedTicks: "burst" })
    ),
  ];
  // A burst after a huge gap: bounded, the rest counted as skipped.
  const wheel = new TimerWheel();
  let burstFires = 0;
  wheel.schedule(0, () => void burstFires++, { periodMs: 0.001, missedTicks: "burst" });
  wheel.advance(1e9);
  const work = await otherWork();
  driver.close();
  return {
    otherWork: work,
    errors,
    burstFires,
    skippedTicks: wheel.skippedTicks,
    pending: driver.pending,
  };
}

const modes: Record<string, () => Promise<Record<string, unknown>>> = {
  "rejecting-callback": rejectingCallback,
  "tiny-period": tinyPeriods,
};
const mode = modes[Deno.args[0] ?? ""];
if (mode === undefined) throw new Error(`Unknown mode ${Deno.args[0]}`);
console.log(JSON.stringify(await mode()));
