// Refuses every state below version 3.
import { consumer } from "./_lib.ts";

export default consumer({
  stateVersion: 3,
  accept(version) {
    throw new Error(`state version ${version} cannot be migrated`);
  },
});
