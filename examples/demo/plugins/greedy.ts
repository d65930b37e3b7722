// The demo's greedy plugin: examples/plugins/greedy.ts, trying every escape again every 5 s.
import { greedyPlugin } from "../../plugins/greedy.ts";

export default greedyPlugin({ retryEveryMs: 5000 });
