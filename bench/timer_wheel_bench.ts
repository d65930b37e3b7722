// `deno bench bench/timer_wheel_bench.ts`: per-operation cost of the timing
// wheel against a binary-heap timer queue and setTimeout/clearTimeout, with
// 100,000 timers pending. `deno task bench:wheel` runs the 1M-timer version.
import { TimerWheel } from "../mod.ts";
import { BinaryHeapTimers } from "./_binary_heap_timers.ts";

const PENDING = 100_000;
const noop = () => {};
const wheel = new TimerWheel({ initialCapacity: PENDING + 1024 });
const heap = new BinaryHeapTimers();
for (let i = 0; i < PENDING; i++) {
  wheel.schedule(10_000 + (i % 5000), noop);
  heap.schedule(10_000 + (i % 5000), noop);
  // Unref'd, so these pending timers do not keep the bench process alive.
  Deno.unrefTimer(setTimeout(noop, 3_600_000));
}
let k = 0;

Deno.bench({
  group: "schedule+cancel",
  name: "setTimeout+clearTimeout",
  baseline: true,
  fn() {
    clearTimeout(setTimeout(noop, 1 + (k++ % 1000)));
  },
});

Deno.bench({
  group: "schedule+cancel",
  name: "binary-heap",
  fn() {
    heap.cancel(heap.schedule(1 + (k++ % 1000), noop));
  },
});

Deno.bench({
  group: "schedule+cancel",
  name: "chronetix:wheel",
  fn() {
    wheel.cancel(wheel.schedule(1 + (k++ % 1000), noop));
  },
});
