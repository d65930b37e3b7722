// Run as a subprocess by driver_exit_test.ts: schedules work on every profile
// and does not close anything. The process must exit by itself once the last
// timer has fired (no waker Worker or timer may keep it alive).
import { Driver } from "../../../src/time/driver.ts";

for (const profile of ["efficient", "balanced", "precise"] as const) {
  const driver = new Driver({ profile });
  let n = 0;
  const loop = driver.every(1, () => {
    if (++n === 20) loop.cancel();
  });
  driver.after(15, () => console.log(`${profile}: one-shot fired`));
  await driver.whenIdle();
}
console.log("all idle");
