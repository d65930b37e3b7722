// Seeded fuzz of the SOVD input surfaces a client reaches: ids (path
// segments), the collection segment, the data category and include-schema
// queries, the fault filters, Last-Event-ID, the mount of the wire options,
// and the registry and monitor entry points. Every call returns or throws a
// clean, Deno-style error naming the parameter; an accepted id always
// matches the pattern; a mapped name is always a valid id; a fault filter
// keeps exactly what a reference model keeps.
import { assert, assertEquals } from "@std/assert";
import { check, cleanCall, fc, hostile } from "./_hostile.ts";
import { isSovdId, requireSovdId, SOVD_ID_PATTERN, toSovdId } from "../../src/sovd/ids.ts";
import {
  entityCollection,
  parseDataCategories,
  parseEntityCollection,
  parseIncludeSchema,
} from "../../src/sovd/wire.ts";
import { filterFaults, parseFaultFilter } from "../../src/sovd/wire_faults.ts";
import { parseLastEventId } from "../../src/sovd/fault_log.ts";
import { ProviderRegistry } from "../../src/sovd/provider.ts";
import { FaultMonitor } from "../../src/sovd/fault_monitor.ts";
import type { Fault, FaultSeverity, FaultStatus } from "../../src/sovd/model.ts";
import { SILENT_LOGGER } from "../_util/logger.ts";

const segment = fc.oneof(
  fc.string(),
  fc.constantFrom("..", ".", "a/b", "%2e%2e", "kernel", "a:b", "x".repeat(256), "x".repeat(257)),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/),
);
const anything = fc.oneof(hostile(), segment);

Deno.test("fuzz: requireSovdId() accepts exactly the pattern, toSovdId() always yields a valid id", () => {
  check(fc.property(anything, (value) => {
    const id = cleanCall(() => requireSovdId("read an entity", "id", value), ["id"]);
    assertEquals(id !== undefined, typeof value === "string" && SOVD_ID_PATTERN.test(value));
    assertEquals(isSovdId(value), id !== undefined);
    if (typeof value === "string") {
      const mapped = toSovdId(value);
      assert(isSovdId(mapped), `toSovdId(${JSON.stringify(value)}) = ${JSON.stringify(mapped)}`);
      if (isSovdId(value)) assertEquals(mapped, value);
    } else {
      cleanCall(() => toSovdId(value as string), ["name"]);
    }
  }));
});

Deno.test("fuzz: the query and path parsers return or throw clean errors naming the parameter", () => {
  check(fc.property(anything, fc.array(anything, { maxLength: 3 }), (value, values) => {
    cleanCall(() => parseEntityCollection(value as string), ["collection"]);
    cleanCall(() => parseDataCategories(values as string[]), ["category"]);
    cleanCall(() => parseDataCategories(value as string[]), ["category"]);
    cleanCall(() => parseIncludeSchema(value as string), ["include-schema"]);
    const id = cleanCall(() => parseLastEventId(value as string), ["Last-Event-ID"]);
    if (id !== undefined) assert(Number.isSafeInteger(id) && id >= 0);
    cleanCall(() => entityCollection([], { base: value as string }), ["base"]);
    cleanCall(() => entityCollection([], value as never), ["base", "options"]);
  }));
});

const STATUSES: FaultStatus[] = ["active", "passive", "cleared"];

Deno.test("fuzz: parseFaultFilter() over hostile queries matches a reference model", () => {
  const key = fc.constantFrom("status[aggregatedStatus]", "severity", "status", "x");
  const value = fc.oneof(
    fc.constantFrom("active", "passive", "cleared", "1", "2", "3", "4", "0", "5"),
    fc.string(),
  );
  const fault = fc.record({
    severity: fc.constantFrom<FaultSeverity>(1, 2, 3, 4),
    status: fc.constantFrom(...STATUSES),
  });
  check(
    fc.property(
      fc.array(fc.tuple(key, value), { maxLength: 5 }),
      fc.array(fault, { maxLength: 6 }),
      (pairs, raw) => {
        const query = new URLSearchParams(pairs);
        const filter = cleanCall(() => parseFaultFilter(query), [
          "status[aggregatedStatus]",
          "severity",
        ]);
        const statuses = query.getAll("status[aggregatedStatus]");
        const severities = query.getAll("severity");
        const valid = statuses.every((s) => (STATUSES as string[]).includes(s)) &&
          severities.length <= 1 && severities.every((s) => /^[1-4]$/.test(s));
        assertEquals(filter !== undefined, valid, `query ${query}`);
        if (filter === undefined) return;
        const faults = raw.map((f, i) => ({ ...f, code: `F${i}` }) as unknown as Fault);
        const expected = faults.filter((f) =>
          (statuses.length === 0 || statuses.includes(f.status)) &&
          (severities.length === 0 || f.severity <= Number(severities[0]))
        );
        assertEquals(filterFaults(faults, filter).map((f) => f.code), expected.map((f) => f.code));
      },
    ),
  );
});

Deno.test("fuzz: ProviderRegistry and FaultMonitor reads with hostile ids and types throw only clean errors", () => {
  const registry = new ProviderRegistry({ logger: SILENT_LOGGER });
  registry.register({
    name: "p",
    entities: () => [{ id: "kernel", name: "kernel", type: "component" }],
    data: () => [],
    faults: () => [],
    status: () => ({ status: "ready", controls: [] }),
  });
  const monitor = new FaultMonitor({ logger: SILENT_LOGGER, wallClock: () => 0 });
  const type = fc.oneof(fc.constantFrom("component", "app", "area", "function"), anything);
  check(fc.property(type, anything, anything, (t, id, code) => {
    for (const read of ["entity", "relations", "data", "faults", "status", "operations"] as const) {
      const result = cleanCall(() => registry[read](t as never, id as string), ["type", "id"]);
      if (result !== undefined) assertEquals(t === "component" && id === "kernel", true);
    }
    cleanCall(() => registry.clearFault(t as never, id as string, code as string), [
      "type",
      "id",
      "code",
    ]);
    cleanCall(() => registry.entities(t as never), ["type"]);
    cleanCall(() => monitor.clear(t as never, id as string, code as string), [
      "type",
      "id",
      "code",
    ]);
    cleanCall(() => registry.register(id as never), [
      "provider",
      "provider.name",
      "provider.entities",
    ]);
  }));
});
