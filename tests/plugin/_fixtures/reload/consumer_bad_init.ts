// A new version whose init fails.
import { consumer } from "./_lib.ts";

export default consumer({
  stateVersion: 1,
  init() {
    throw new Error("no configuration");
  },
});
