// bench:plugins case `hang` for the worker host, run as a child process:
// Deno cannot stop a Web Worker spinning in synchronous code, so the hung
// plugin's thread (a zombie) lives until its process exits. This script
// measures one hang, then how much CPU the zombie burns over 300 ms, prints
// one JSON line and exits (taking the zombie with it).
import process from "node:process";
import { benchKernel, measureHang } from "./_plugins_util.ts";

const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "chronetix-plugins-hang-" });
try {
  const b = await benchKernel();
  const sample = await measureHang(b, "worker", dir, 0);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const cpu = process.cpuUsage(cpu0);
  const zombieCpuCore = (cpu.user + cpu.system) / 1000 / (performance.now() - t0);
  console.log(JSON.stringify({
    ...sample,
    factoryZombies: b.workers.stats().zombies,
    zombieCpuCore,
  }));
} catch (error) {
  console.log(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
} finally {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
Deno.exit(0);
