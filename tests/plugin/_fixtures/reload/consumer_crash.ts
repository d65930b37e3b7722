// A new version that crashes 50 ms after it starts (for probation).
import { consumer } from "./_lib.ts";

export default consumer({
  stateVersion: 1,
  init(ctx) {
    ctx.after({
      name: "boom",
      delayMs: 50,
      run: () => {
        throw new Error("boom");
      },
    });
  },
});
