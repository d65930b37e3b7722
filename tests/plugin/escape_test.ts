// Permission escapes, one test per attempt and host. A worker or process
// plugin with `permissions: "none"` tries each escape in its init and reports
// the outcome on the bus; each must be denied (Deno.errors.NotCapable).
// Static imports outside the allowed roots are refused by the import audit
// before anything loads; asking for more than the kernel has is refused by
// assertWithinKernel. An inline plugin has the kernel's permissions (the
// documented fact): its read succeeds.
import { assertEquals, assertMatch, assertRejects, assertStringIncludes } from "@std/assert";
import { ImportAuditError } from "../../src/plugin/import_audit.ts";
import { PermissionEscalationError } from "../../src/plugin/permissions.ts";
import { setUp } from "./_fixtures/remote/_cases.ts";
import { nextEvent, remoteManifest } from "./_fixtures/remote/_kernel.ts";
import { ESCAPE_ATTEMPTS } from "./_fixtures/escape_attempts.ts";

interface Outcome {
  attempt: string;
  outcome: "allowed" | "denied" | "failed";
  error?: string;
  isolation: string;
}

const ATTEMPTS = ESCAPE_ATTEMPTS;

async function attempt(isolation: "inline" | "worker" | "process", what: string): Promise<Outcome> {
  const { p, plugins, settle } = setUp();
  try {
    const outcome = nextEvent<Outcome>(p.bus, "escape");
    await plugins.load(remoteManifest(`escape-${what}`, "greedy.ts", isolation, {
      capabilities: ["publish"],
    }));
    return await outcome;
  } finally {
    await settle();
  }
}

for (const isolation of ["worker", "process"] as const) {
  for (const what of ATTEMPTS) {
    Deno.test(`Escape (${isolation}): ${what} is denied`, async () => {
      const result = await attempt(isolation, what);
      assertEquals([result.attempt, result.isolation], [what, isolation]);
      assertEquals(result.outcome, "denied", result.error);
      assertMatch(result.error!, /NotCapable|Requires read access/);
    });
  }

  for (
    const [kind, file, specifier] of [
      ["code", "static/code_outside.ts", "counter.ts"],
      ["JSON", "static/json_outside.ts", "ticker.json"],
    ] as const
  ) {
    Deno.test(`Escape (${isolation}): a static ${kind} import outside the roots is refused before load`, async () => {
      const { plugins, settle } = setUp();
      try {
        const error = await assertRejects(
          () => plugins.load(remoteManifest(`static-${kind.toLowerCase()}`, file, isolation)),
          ImportAuditError,
        );
        assertEquals(error.code, "E_IMPORT_OUTSIDE_ROOTS");
        assertStringIncludes(error.specifier, specifier);
        assertEquals(plugins.list(), []);
      } finally {
        await settle();
      }
    });
  }

  Deno.test(`Escape (${isolation}): permissions beyond the kernel's are refused before load`, async () => {
    const { plugins, settle } = setUp();
    try {
      for (const permissions of [{ net: ["203.0.113.9:1"] }, { ffi: true }] as const) {
        const error = await assertRejects(
          () =>
            plugins.load(remoteManifest("escalate", "greedy.ts", isolation, {
              permissions: permissions as never,
            })),
          PermissionEscalationError,
        );
        assertEquals(error.code, "E_PLUGIN_PERMISSION_ESCALATION");
        assertEquals(error.escalations[0]!.kind, Object.keys(permissions)[0]);
      }
      assertEquals(plugins.list(), []);
    } finally {
      await settle();
    }
  });
}

Deno.test("Escape (inline): an inline plugin has the kernel's permissions (its read succeeds)", async () => {
  const result = await attempt("inline", "read");
  assertEquals([result.attempt, result.outcome, result.isolation], ["read", "allowed", "inline"]);
});
