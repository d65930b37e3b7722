/**
 * `deno run --allow-env examples/timer_compare.ts`: a live side-by-side of a 1 kHz Chronetix periodic task
 * and `setInterval(1)`, for 10 seconds or until Ctrl-C. Once a second it
 * prints each one's lateness (p50, p99, max over that second) and its
 * accumulated drift: how far its latest tick is behind the ideal schedule
 * `t0 + k * 1 ms`. Then a summary over the whole run.
 *
 * Environment: `DEMO_SECONDS` (default 10), `DEMO_PERIOD_MS` (default 1),
 * `DEMO_PROFILE` (`efficient` | `balanced` | `precise`, default `precise`).
 *
 * @module
 */
import { Driver, LatencyHistogram, type PrecisionProfile } from "../mod.ts";
import { envNumber } from "./_env.ts";

const seconds = envNumber("DEMO_SECONDS", 10);
const periodMs = envNumber("DEMO_PERIOD_MS", 1);
const profile = (Deno.env.get("DEMO_PROFILE") ?? "precise") as PrecisionProfile;

/** Per-second and whole-run lateness of one contender, judged against t0 + k * period. */
class Contender {
  readonly second = new LatencyHistogram();
  readonly total = new LatencyHistogram();
  ticks = 0;
  drift = 0;
  constructor(readonly name: string) {}
  tick(t0: number): void {
    this.ticks++;
    const late = performance.now() - (t0 + this.ticks * periodMs);
    this.drift = late;
    this.second.record(late);
    this.total.record(late);
  }
}

/** A duration in milliseconds, in the unit that keeps it short. */
function dur(ms: number): string {
  const text = Math.abs(ms) < 1
    ? `${(ms * 1000).toFixed(0)} µs`
    : Math.abs(ms) < 1000
    ? `${ms.toFixed(2)} ms`
    : `${(ms / 1000).toFixed(2)} s`;
  return text.padStart(11);
}

const driver = new Driver({ profile });
await driver.warmUp();
const ours = new Contender(`chronetix:${profile}`);
const theirs = new Contender("setInterval");

console.log(
  `Chronetix demo: a ${
    1000 / periodMs
  } Hz periodic task on the ${profile} profile and setInterval(${periodMs}) side by side for ${seconds} s (Ctrl-C stops).`,
);
console.log(
  `${"time".padEnd(5)}${"contender".padEnd(22)}${"ticks".padStart(7)}${
    ["p50", "p99", "max", "drift"].map((h) => h.padStart(11)).join("")
  }`,
);

const { promise: done, resolve: finish } = Promise.withResolvers<void>();
const t0 = performance.now();
driver.every(periodMs, () => ours.tick(t0), { firstAtMs: t0 + periodMs, missedTicks: "burst" });
const interval = setInterval(() => theirs.tick(t0), periodMs);

let elapsed = 0;
const reporter = driver.every(1000, () => {
  elapsed++;
  for (const c of [ours, theirs]) {
    const s = c.second.snapshot();
    console.log(
      `${`${elapsed}s`.padEnd(5)}${c.name.padEnd(22)}${String(s.count).padStart(7)}${dur(s.p50)}${
        dur(s.p99)
      }${dur(s.max)}${dur(c.drift)}`,
    );
    c.second.reset();
  }
  if (elapsed >= seconds) finish();
}, { firstAtMs: t0 + 1000, latenessClass: "reporter" });

const onSignal = () => finish();
Deno.addSignalListener("SIGINT", onSignal);
await done;
Deno.removeSignalListener("SIGINT", onSignal);
reporter.cancel();
clearInterval(interval);
const wallS = (performance.now() - t0) / 1000;
driver.close();

console.log(
  `\nSummary over ${wallS.toFixed(1)} s (expected ${
    Math.floor(wallS * 1000 / periodMs)
  } ticks each):`,
);
for (const c of [ours, theirs]) {
  const s = c.total.snapshot();
  console.log(
    `  ${c.name.padEnd(22)} ticks ${String(s.count).padStart(6)}  p50 ${dur(s.p50)}  p99 ${
      dur(s.p99)
    }  max ${dur(s.max)}  drift ${dur(c.drift)}`,
  );
}
const ratio = theirs.total.snapshot().p99 / Math.max(ours.total.snapshot().p99, 1e-6);
console.log(`  setInterval's p99 lateness is ${ratio.toFixed(0)}x Chronetix's.`);
