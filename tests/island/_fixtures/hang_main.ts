// Runs in its own process (a hung island thread spins until its process
// exits): starts an island whose task hangs, waits for the watchdog, and
// prints the island's figures and close report as JSON.
import { Island, type Logger } from "../../../mod.ts";

const crashed = Promise.withResolvers<string>();
const logger: Logger = { error: (m) => crashed.resolve(m), warn() {}, info() {} };
const island = await Island.start({
  name: "hangs",
  module: new URL("./faults.ts", import.meta.url),
  tasks: [{ name: "hangs", periodMs: 1 }],
  hangMs: 50,
  restart: { policy: "never" },
  logger,
});
const line = await crashed.promise;
const stats = island.stats();
const report = await island.close();
console.log(JSON.stringify({ line, stats, report }));
