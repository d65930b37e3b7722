import { assertEquals, assertMatch, assertNotEquals, assertThrows } from "@std/assert";
import {
  blobWorkerDataUrl,
  blobWorkerSource,
  blobWorkerUrl,
  createBlobWorker,
  scopedPermissions,
  type WorkerPermissions,
} from "../../src/internal/blob_worker.ts";

/** Posts back its arguments and whether it may read the environment. */
function echo(label: string, values: number[]): void {
  const scope = globalThis as unknown as { postMessage(message: unknown): void };
  const env = Deno.permissions.querySync({ name: "env" }).state;
  scope.postMessage({ label, values, env });
}

function firstMessage(worker: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (event) => resolve(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(event.message));
    };
  });
}

Deno.test("createBlobWorker() runs a self-contained function with its JSON arguments", async () => {
  const worker = createBlobWorker(echo, ["hello", [1, 2, 3]], { name: "blob-test" });
  try {
    assertEquals(await firstMessage(worker), {
      label: "hello",
      values: [1, 2, 3],
      env: "granted",
    });
  } finally {
    worker.terminate();
  }
});

Deno.test("createBlobWorker() gives the Worker the permissions asked for", async () => {
  const worker = createBlobWorker(echo, ["none", []], { name: "blob-test", permissions: "none" });
  try {
    const reply = await firstMessage(worker) as { env: string };
    assertNotEquals(reply.env, "granted");
  } finally {
    worker.terminate();
  }
});

Deno.test("blobWorkerUrl() makes one blob: URL per distinct program", () => {
  const a = blobWorkerSource(echo, ["a", []]);
  const b = blobWorkerSource(echo, ["b", []]);
  assertMatch(blobWorkerUrl(a), /^blob:/);
  assertEquals(blobWorkerUrl(a), blobWorkerUrl(a));
  assertNotEquals(blobWorkerUrl(a), blobWorkerUrl(b));
});

Deno.test("blobWorkerSource() calls the function with its arguments as JSON literals", () => {
  function main(n: number, s: string): unknown[] {
    return [n, s];
  }
  assertEquals(blobWorkerSource(main, [2, 'say "hi"']), `(${main})(2, "say \\"hi\\"");\n`);
  assertEquals(blobWorkerSource(main), `(${main})();\n`);
});

Deno.test("blobWorkerSource() rejects a main that is not a function and arguments that are not JSON", () => {
  assertThrows(
    () => blobWorkerSource("code" as unknown as () => void),
    TypeError,
    "'main' must be a function: current value is string",
  );
  assertThrows(
    () => blobWorkerSource(() => 0, [undefined]),
    TypeError,
    "its arguments must be JSON values: current value is undefined",
  );
  assertThrows(() => blobWorkerSource(() => 0, [() => 1]), TypeError, "must be JSON values");
});

Deno.test("createBlobWorker() needs no unstable flag unless the permissions are scoped", async () => {
  // Any `deno` Worker option without --unstable-worker-options ends the
  // process with code 70: so it is passed only for scoped permissions.
  const fixture = new URL("./_fixtures/blob_worker_no_flag.ts", import.meta.url);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "--allow-read=.", fixture.pathname],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const err = new TextDecoder().decode(stderr);
  assertEquals(code, 0, err);
  assertEquals(new TextDecoder().decode(stdout), "hello undefined\nhello inherit\n");
});

Deno.test("scopedPermissions() is true only for permissions narrower than the parent's", () => {
  assertEquals(
    [undefined, "inherit", "none", {}, { env: true }].map((p) =>
      scopedPermissions(p as WorkerPermissions | undefined)
    ),
    [false, false, true, true, true],
  );
});

Deno.test("blobWorkerDataUrl() serves a program as a data: URL, one per distinct source", async () => {
  const source = blobWorkerSource(echo, ["data", [7]]);
  const url = blobWorkerDataUrl(source);
  assertMatch(url, /^data:text\/javascript,/);
  assertEquals(blobWorkerDataUrl(source), url);
  assertEquals(await (await fetch(url)).text(), source);
});
