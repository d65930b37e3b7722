// The subjects of `bench:drift` (see bench/_drift_subject.ts): the Chronetix
// profiles, what a user would use instead (a drift-corrected `setTimeout`
// chain, `setInterval`, npm `nanotimer`), and the floor (a bare Worker loop).

import NanoTimer from "nanotimer";
import { Driver, type PrecisionProfile } from "../mod.ts";
import type { DriftSubject } from "./_drift_subject.ts";
import type { FloorRun } from "./_drift_floor_worker.ts";

/** Arms a main-thread timer whose first tick is due at `t0 + period`; returns its stop. */
type Start = (periodMs: number, tick: () => void, t0: number) => () => void;

/** Runs `ticks` ticks of a main-thread timer and collects their lateness. */
function mainThread(start: Start): DriftSubject["run"] {
  return (periodMs, ticks) => {
    const lateness = new Float64Array(ticks);
    const { promise, resolve } = Promise.withResolvers<Float64Array>();
    let k = 0;
    let done = false;
    const t0 = performance.now();
    const tick = () => {
      if (done) return;
      lateness[k] = performance.now() - (t0 + (k + 1) * periodMs);
      if (++k === ticks) {
        done = true;
        // A timer may tick from inside its own start: stop it once that returned.
        queueMicrotask(() => {
          stop();
          resolve(lateness);
        });
      }
    };
    const stop = start(periodMs, tick, t0);
    return promise;
  };
}

/**
 * A Chronetix `Driver` of one profile with the `"burst"` policy, so every
 * tick fires and counts, as in the baselines. One driver serves all rounds
 * (`keepWarm`), so its waker Worker and learnt lead carry over like in a
 * long-running loop.
 */
export function chronetixSubject(profile: PrecisionProfile): DriftSubject {
  let driver: Driver | undefined;
  return {
    async prepare() {
      driver = new Driver({ profile, keepWarm: true, name: `drift-${profile}` });
      await driver.warmUp();
    },
    run: mainThread((periodMs, tick, t0) => {
      const timer = driver!.every(periodMs, tick, {
        missedTicks: "burst",
        firstAtMs: t0 + periodMs,
      });
      return () => timer.cancel();
    }),
    dispose() {
      driver?.close();
      return Promise.resolve();
    },
  };
}

/** What a careful user writes: each timeout re-aimed at `t0 + k * period`. */
export function chainSubject(): DriftSubject {
  return {
    run: mainThread((periodMs, tick, t0) => {
      let k = 0;
      let id: ReturnType<typeof setTimeout> | undefined;
      const step = () => {
        tick();
        k++;
        id = setTimeout(step, Math.max(0, t0 + (k + 1) * periodMs - performance.now()));
      };
      id = setTimeout(step, t0 + periodMs - performance.now());
      return () => clearTimeout(id);
    }),
  };
}

/** `setInterval`, which re-arms from when its callback ran. */
export function intervalSubject(): DriftSubject {
  return {
    run: mainThread((periodMs, tick) => {
      const id = setInterval(tick, periodMs);
      return () => clearInterval(id);
    }),
  };
}

/** npm `nanotimer` at the period in microseconds. */
export function nanotimerSubject(): DriftSubject {
  return {
    run: mainThread((periodMs, tick) => {
      const timer = new NanoTimer();
      timer.setInterval(tick, "", `${Math.round(periodMs * 1000)}u`);
      return () => timer.clearInterval();
    }),
  };
}

/**
 * The floor: a bare Worker loop, `Atomics.wait` until `leadUs` before each
 * deadline, then a spin on `performance.now()`; lateness measured in the Worker.
 */
export function floorSubject(leadUs: number): DriftSubject {
  let worker: Worker | undefined;
  return {
    async prepare() {
      worker = new Worker(new URL("./_drift_floor_worker.ts", import.meta.url), {
        type: "module",
        name: `drift-floor-${leadUs}us`,
      });
      // Warm it up (module load, JIT) with a few ticks that do not count.
      await exchange(worker, { periodMs: 1, ticks: 20, leadMs: leadUs / 1000 });
    },
    run(periodMs, ticks) {
      return exchange(worker!, { periodMs, ticks, leadMs: leadUs / 1000 });
    },
    dispose() {
      worker?.postMessage("stop");
      worker = undefined;
      return Promise.resolve();
    },
  };
}

function exchange(worker: Worker, run: FloorRun): Promise<Float64Array> {
  const { promise, resolve, reject } = Promise.withResolvers<Float64Array>();
  worker.onmessage = (event: MessageEvent<Float64Array>) => resolve(event.data);
  worker.onerror = (event) => {
    event.preventDefault();
    reject(new Error(`The floor Worker failed: ${event.message}`));
  };
  worker.postMessage(run);
  return promise;
}
