// A real subprocess: the Driver must let the process exit by itself once no
// timer is pending, on every profile (the waker Worker would otherwise keep
// it alive). The 30 s kill only guards against a hang; it asserts no speed.
import { assertEquals } from "@std/assert";

Deno.test("Driver lets the process exit by itself once no timer is pending", async () => {
  const script = new URL("./_fixtures/exit_when_idle.ts", import.meta.url);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--no-lock", script.href],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let hung = false;
  const guard = setTimeout(() => {
    hung = true;
    child.kill("SIGKILL");
  }, 30_000);
  const out = await child.output();
  clearTimeout(guard);
  const stdout = new TextDecoder().decode(out.stdout);
  assertEquals(hung, false, "the process did not exit by itself within 30 s");
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  assertEquals(stdout.trim().split("\n"), [
    "efficient: one-shot fired",
    "balanced: one-shot fired",
    "precise: one-shot fired",
    "all idle",
  ]);
});
