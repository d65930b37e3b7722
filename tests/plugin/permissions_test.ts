import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { validateManifest } from "../../src/plugin/manifest.ts";
import type { PluginManifest, ResolvedManifest } from "../../src/plugin/manifest_types.ts";
import {
  assertWithinKernel,
  exceedsKernel,
  inlinePermissionWarning,
  PermissionEscalationError,
  permissionFlags,
  workerPermissions,
} from "../../src/plugin/permissions.ts";

const CWD = Deno.cwd();
const BASE = new URL(`file://${CWD}/tests/plugin/`);

function manifest(fields: Partial<PluginManifest> = {}): ResolvedManifest {
  return validateManifest({ name: "p", version: "1.0.0", entry: "mod.ts", ...fields }, {
    baseUrl: BASE,
  });
}

/** The kernel these tests pretend to be: reads the repo, reads env, nothing else. */
const KERNEL: Deno.PermissionOptionsObject = {
  read: [CWD],
  env: true,
  write: false,
  net: false,
  run: false,
  ffi: false,
  sys: false,
  import: false,
};

Deno.test("workerPermissions() gives every kind, denying those left out", () => {
  assertEquals(workerPermissions(manifest()), {
    read: false,
    write: false,
    net: false,
    env: false,
    run: false,
    ffi: false,
    sys: false,
    import: false,
  });
  const m = manifest({
    permissions: { read: ["data"], net: ["127.0.0.1:8080"], env: true, sys: "inherit" },
  });
  const permissions = workerPermissions(m);
  assertEquals(permissions.read, [`${CWD}/tests/plugin/data`]);
  assertEquals(permissions.net, ["127.0.0.1:8080"]);
  assertEquals(permissions.env, true);
  assertEquals(permissions.sys, "inherit");
  assertEquals(permissions.write, false);
  (permissions.read as string[]).push("/etc");
  assertEquals(m.permissions.read, [`${CWD}/tests/plugin/data`]);
  assertEquals(workerPermissions(manifest({ permissions: "inherit" })).ffi, "inherit");
});

Deno.test("workerPermissions() merges the host's extra grants", () => {
  const m = manifest({ permissions: { read: ["a"], env: true, net: false } });
  const permissions = workerPermissions(m, {
    extra: { read: ["/runner", `${CWD}/tests/plugin/a`], env: ["X"], net: ["h:1"], run: [] },
  });
  assertEquals(permissions.read, [`${CWD}/tests/plugin/a`, "/runner"]);
  assertEquals(permissions.env, true);
  assertEquals(permissions.net, ["h:1"]);
  assertEquals(permissions.run, false);
});

Deno.test("workerPermissions() rejects what is not a resolved manifest", () => {
  assertThrows(
    () => workerPermissions({} as ResolvedManifest),
    TypeError,
    "Cannot map permissions for a worker as 'manifest' must be a resolved manifest",
  );
  assertThrows(
    () => permissionFlags(manifest(), 5 as never),
    TypeError,
    "'options'",
  );
});

Deno.test({
  name: "permissionFlags() writes --allow-*, --deny-* and --no-prompt in kind order",
  permissions: KERNEL,
  fn() {
    const m = manifest({
      permissions: {
        read: ["/a,b", "/c"],
        write: true,
        net: [],
        env: "inherit",
        run: "inherit",
        sys: ["hostname"],
      },
    });
    assertEquals(permissionFlags(m), [
      "--allow-read=/a,,b,/c",
      "--allow-write",
      "--deny-net",
      "--allow-env",
      "--deny-run",
      "--deny-ffi",
      "--allow-sys=hostname",
      "--deny-import",
      "--no-prompt",
    ]);
    assertEquals(permissionFlags(m, { extra: { net: ["127.0.0.1:1"], ffi: ["/lib.so"] } }), [
      "--allow-read=/a,,b,/c",
      "--allow-write",
      "--allow-net=127.0.0.1:1",
      "--allow-env",
      "--deny-run",
      "--allow-ffi=/lib.so",
      "--allow-sys=hostname",
      "--deny-import",
      "--no-prompt",
    ]);
  },
});

Deno.test("permissionFlags() give a real subprocess exactly the manifest's grants", async () => {
  const m = manifest({ permissions: { env: ["CHRONETIX_PERMISSION_TEST"] } });
  const script = `
    const results = [];
    results.push(Deno.env.get("CHRONETIX_PERMISSION_TEST"));
    for (const attempt of [() => Deno.env.get("HOME"), () => Deno.readTextFileSync("/etc/hostname")]) {
      try { attempt(); results.push("allowed"); } catch (e) { results.push(e.constructor.name); }
    }
    console.log(JSON.stringify(results));
  `;
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-config",
      ...permissionFlags(m),
      `data:application/javascript,${encodeURIComponent(script)}`,
    ],
    env: { CHRONETIX_PERMISSION_TEST: "granted", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(output.success, new TextDecoder().decode(output.stderr));
  assertEquals(JSON.parse(new TextDecoder().decode(output.stdout)), [
    "granted",
    "NotCapable",
    "NotCapable",
  ]);
});

Deno.test("workerPermissions() give a real Worker exactly the manifest's grants", async () => {
  const m = manifest({ permissions: { read: ["../../deno.json"] } });
  const source = `
    const results = [];
    for (const path of ["${CWD}/deno.json", "${CWD}/mod.ts"]) {
      try { Deno.readTextFileSync(path); results.push("allowed"); } catch (e) { results.push(e.constructor.name); }
    }
    try { Deno.env.get("HOME"); results.push("allowed"); } catch (e) { results.push(e.constructor.name); }
    postMessage(results);
  `;
  const worker = new Worker(`data:application/javascript,${encodeURIComponent(source)}`, {
    type: "module",
    deno: { permissions: workerPermissions(m) },
  });
  try {
    const results = await new Promise((resolve, reject) => {
      worker.onmessage = (event) => resolve(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(event.message));
      };
    });
    assertEquals(results, ["allowed", "NotCapable", "NotCapable"]);
  } finally {
    worker.terminate();
  }
});

Deno.test({
  name: "exceedsKernel() lists what the kernel itself does not have",
  permissions: KERNEL,
  fn() {
    assertEquals(exceedsKernel(manifest()), []);
    assertEquals(exceedsKernel(manifest({ permissions: "inherit" })), []);
    assertEquals(exceedsKernel(manifest({ permissions: { read: ["data", CWD], env: true } })), []);
    const escalations = exceedsKernel(manifest({
      permissions: {
        read: ["data", "/etc/passwd"],
        write: ["out"],
        net: true,
        env: ["HOME"],
        run: ["git"],
        ffi: ["/lib.so"],
        sys: ["hostname"],
        import: ["esm.sh:443"],
      },
    }));
    assertEquals(escalations.map((e) => [e.kind, e.target]), [
      ["read", "/etc/passwd"],
      ["write", `${CWD}/tests/plugin/out`],
      ["net", undefined],
      ["run", "git"],
      ["ffi", "/lib.so"],
      ["sys", "hostname"],
      ["import", "esm.sh:443"],
    ]);
    assert(escalations.every((e) => e.state !== "granted"));
  },
});

Deno.test({
  name: "assertWithinKernel() refuses an escalation with every item named",
  permissions: KERNEL,
  fn() {
    assertWithinKernel(manifest({ permissions: { env: true, read: [CWD] } }));
    const error = assertThrows(
      () => assertWithinKernel(manifest({ permissions: { net: true, read: ["/etc"] } })),
      PermissionEscalationError,
    );
    assertEquals(error.code, "E_PLUGIN_PERMISSION_ESCALATION");
    assertEquals(error.plugin, "p");
    assertEquals(error.escalations.map((e) => e.kind), ["read", "net"]);
    assertStringIncludes(
      error.message,
      'Cannot load plugin "p" as it asks for permissions the kernel does not have: read "/etc" (the kernel\'s is "',
    );
    assertStringIncludes(error.message, ", net (the kernel's is ");
  },
});

Deno.test({
  name: "inlinePermissionWarning() warns when an inline manifest asks for less than the kernel has",
  permissions: KERNEL,
  fn() {
    const warning = inlinePermissionWarning(manifest({ isolation: "inline" }));
    assertEquals(
      warning,
      'Plugin "p" runs inline with the kernel\'s permissions, not its manifest\'s: it asks for less than the kernel has (read, env) and gets the kernel\'s anyway. Use isolation "worker" or "process" to enforce its manifest',
    );
    assertEquals(
      inlinePermissionWarning(manifest({ isolation: "inline", permissions: { env: true } })),
      warning?.replace("(read, env)", "(read)"),
    );
    assertEquals(
      inlinePermissionWarning(manifest({ isolation: "inline", permissions: "inherit" })),
      undefined,
    );
    assertEquals(
      inlinePermissionWarning(
        manifest({ isolation: "inline", permissions: { read: "inherit", env: "inherit" } }),
      ),
      undefined,
    );
    assertEquals(inlinePermissionWarning(manifest({ isolation: "worker" })), undefined);
    assertEquals(inlinePermissionWarning(manifest({ isolation: "process" })), undefined);
  },
});
