// A consumer that also holds a data port.
import { consumer } from "./_lib.ts";

export default consumer({
  stateVersion: 1,
  init(ctx) {
    ctx.dataPort("frames");
  },
});
