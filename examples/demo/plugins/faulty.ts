// The demo's faulty plugin: examples/plugins/faulty.ts, crashing 7 s after each start.
import { faultyPlugin } from "../../plugins/faulty.ts";

export default faultyPlugin({ crashAfterMs: 7000 });
