// Version 2: state version 2, migrates version 1 ({ count }) and refuses older.
import { consumer } from "./_lib.ts";

export default consumer({
  stateVersion: 2,
  accept(version, value) {
    if (version === 1 || version === 2) return (value as { count: number }).count;
    throw new Error(`state version ${version} is too old`);
  },
});
