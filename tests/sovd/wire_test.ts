import { assert, assertEquals, assertThrows } from "@std/assert";
import {
  dataCategoryList,
  dataList,
  dataValue,
  entityCapabilities,
  entityCollection,
  parseDataCategories,
  parseEntityCollection,
  parseIncludeSchema,
  relationCollection,
  statusBody,
} from "../../src/sovd/wire.ts";
import {
  faultDetail,
  faultEventData,
  faultEventFrame,
  faultItem,
  faultList,
  filterFaults,
  parseFaultFilter,
} from "../../src/sovd/wire_faults.ts";
import type { EntityInfo, Fault } from "../../src/sovd/model.ts";
import { ExecutorProvider } from "../../src/sovd/executor_provider.ts";
import { dataPortProvider } from "../../src/sovd/part_providers.ts";
import { Executor } from "../../src/exec/executor.ts";
import { DataPort } from "../../src/data/data_port.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { toSovdId } from "../../src/sovd/ids.ts";

const APP: EntityInfo = {
  id: "motor_left",
  name: "motor/left",
  type: "app",
  seamId: "motor/left",
  locatedOn: "executor",
};

function fault(extra: Partial<Fault> = {}): Fault {
  return {
    code: "DEADLINE_MISS",
    name: "Deadline misses",
    description: "3 misses",
    severity: 3,
    status: "active",
    entityId: "motor_left",
    entityType: "app",
    occurrenceCount: 3,
    firstOccurredMs: 1_700_000_000_000,
    lastOccurredMs: 1_700_000_001_500,
    reportingSources: ["executor"],
    environmentData: { misses: 3 },
    ...extra,
  };
}

Deno.test("entityCollection() and relationCollection() keep every href on the mount asked", () => {
  for (const base of ["/sovd/v1", "/api/v1"]) {
    const body = entityCollection([APP], { base }) as { items: { href: string }[] };
    assertEquals(body.items[0]?.href, `${base}/apps/motor_left`);
    assertEquals(relationCollection([APP], { base }).items[0]?.href, `${base}/apps/motor_left`);
  }
  assertEquals(
    entityCollection([APP], { base: "/sovd/v1", dialect: "iso" })["x-medkit"],
    undefined,
  );
  for (const base of ["", "/", "/a/", "a/b", "/a b", "//x", "/../x"]) {
    assertThrows(() => entityCollection([], { base }), TypeError, "'base'");
  }
  assertThrows(
    () => entityCollection([], { base: "/a", dialect: "x" as never }),
    TypeError,
    "'dialect'",
  );
});

Deno.test("entityCapabilities() links resources and relations per type, medkit keys only in that dialect", () => {
  const body = entityCapabilities(APP, { base: "/api/v1", faults: [fault({ severity: 2 })] });
  assertEquals(body["is-located-on"], "/api/v1/apps/motor_left/is-located-on");
  assertEquals(body.hosts, undefined);
  assertEquals(body["x-medkit"], {
    is_online: true,
    health: "ERROR",
    component_id: "executor",
    source: "chronetix",
    seam_id: "motor/left",
  });
  const caps = body.capabilities as { name: string; href: string }[];
  for (const c of caps) assertEquals(body[c.name], c.href);
  const iso = entityCapabilities({ id: "plant", name: "Plant", type: "area" }, {
    base: "/sovd/v1",
    dialect: "iso",
  });
  assertEquals(iso.contains, "/sovd/v1/areas/plant/contains");
  assertEquals(iso["x-medkit"], undefined);
});

Deno.test("Data bodies: categories, list filter, values with schemas and units", () => {
  const clock = new VirtualClock();
  using executor = new Executor({ clock });
  executor.periodic({ name: "motor/left", periodMs: 4, run: () => clock.spend(1) });
  const provider = new ExecutorProvider(executor);
  clock.advance(40);
  const items = provider.data(toSovdId("motor/left"), "app");
  assertEquals(dataCategoryList(items), {
    items: [{ item: "currentData" }, { item: "identData" }],
  });
  assertEquals(dataList(items, ["identData"]).items.map((i) => i.id), ["identity"]);
  assertEquals(dataList(items).items.length, 4);
  const timing = dataValue(items.find((i) => i.id === "timing")!, true) as {
    data: Record<string, number>;
    schema: { properties: Record<string, Record<string, unknown>> };
  };
  assertEquals(timing.data.executions, 10);
  assertEquals(timing.data.last_us, 1000);
  assertEquals(timing.schema.properties.last_us?.["x-sovd-unit"], {
    display_name: "µs",
    factor_si_to_unit: 1e6,
  });
  // Every value's keys are exactly its schema's required keys.
  for (const item of items) {
    const body = dataValue(item, true) as {
      data: Record<string, unknown>;
      schema: { required: string[] };
    };
    assertEquals(Object.keys(body.data).sort(), [...body.schema.required].sort(), item.id);
  }
  assertEquals("schema" in dataValue(items[0]!), false);
});

Deno.test("A DataPort's data item reads its live stats", () => {
  using port = new DataPort({ credit: 2 });
  port.send(Uint8Array.of(1));
  const provider = dataPortProvider(port, { id: "camera" });
  const value = dataValue(provider.data("camera", "component")[0]!).data as Record<string, number>;
  assertEquals([value.frames_sent, value.credit, value.credit_limit], [1, 1, 2]);
});

Deno.test("parse helpers reject what SOVD does not define", () => {
  assertEquals(parseEntityCollection("components"), "component");
  assertThrows(() => parseEntityCollection("Components"), TypeError, "'collection'");
  assertEquals(parseDataCategories(["identData", "identData"]), ["identData"]);
  assertThrows(() => parseDataCategories(["currentdata"]), TypeError, "'category'");
  assertEquals(parseIncludeSchema("false"), false);
  assertThrows(() => parseIncludeSchema("1"), TypeError, "'include-schema'");
});

Deno.test("statusBody() lists the controls' URIs", () => {
  const body = statusBody(
    { status: "notReady", controls: ["restart", "shutdown"], reason: "quarantined" },
    APP,
    { base: "/sovd/v1" },
  );
  assertEquals(body, {
    status: "notReady",
    restart: "/sovd/v1/apps/motor_left/status/restart",
    shutdown: "/sovd/v1/apps/motor_left/status/shutdown",
    "x-medkit": { reason: "quarantined" },
  });
});

Deno.test("faultItem() writes ISO status bits per aggregated status and medkit keys in that dialect", () => {
  const bits = (status: Fault["status"]) => faultItem(fault({ status })).status;
  assertEquals(bits("active"), {
    aggregatedStatus: "active",
    testFailed: "1",
    confirmedDTC: "1",
    pendingDTC: "0",
  });
  assertEquals(bits("passive"), {
    aggregatedStatus: "passive",
    testFailed: "0",
    confirmedDTC: "1",
    pendingDTC: "1",
  });
  assertEquals(bits("cleared"), {
    aggregatedStatus: "cleared",
    testFailed: "0",
    confirmedDTC: "0",
    pendingDTC: "0",
  });
  const item = faultItem(fault());
  assertEquals(item.first_occurred, 1_700_000_000);
  assertEquals(item.last_occurred, 1_700_000_001.5);
  assertEquals([item.fault_code, item.severity_label, item.occurrence_count], [
    "DEADLINE_MISS",
    "WARN",
    3,
  ]);
  assertEquals(faultDetail(fault()).environment_data, { misses: 3 });
  assertEquals(faultList([fault()], { dialect: "iso" }), { items: [faultItem(fault(), "iso")] });
  assertEquals(faultList([fault()])["x-medkit"], { count: 1 });
});

Deno.test("parseFaultFilter() and filterFaults() keep statuses (OR) and severities up to n", () => {
  const faults = [
    fault({ code: "A", severity: 1 }),
    fault({ code: "B", severity: 3, status: "passive" }),
    fault({ code: "C", severity: 4 }),
  ];
  const codes = (query: string) =>
    filterFaults(faults, parseFaultFilter(new URLSearchParams(query))).map((f) => f.code);
  assertEquals(codes(""), ["A", "B", "C"]);
  assertEquals(codes("status[aggregatedStatus]=passive"), ["B"]);
  assertEquals(codes("status[aggregatedStatus]=passive&status[aggregatedStatus]=active"), [
    "A",
    "B",
    "C",
  ]);
  assertEquals(codes("severity=3"), ["A", "B"]);
  assertEquals(codes("severity=1&status[aggregatedStatus]=active"), ["A"]);
  for (
    const bad of [
      "severity=5",
      "severity=1&severity=2",
      "severity=",
      "status[aggregatedStatus]=open",
    ]
  ) {
    assertThrows(
      () => parseFaultFilter(new URLSearchParams(bad)),
      TypeError,
      "Cannot filter faults",
    );
  }
});

Deno.test("faultEventFrame() writes one SSE frame whose data parses back", () => {
  const event = {
    id: 42,
    type: "fault_cleared" as const,
    fault: fault({ description: "line\nbreak" }),
    timestampMs: 2500,
  };
  const frame = faultEventFrame(event);
  const lines = frame.split("\n");
  assertEquals(lines.slice(0, 2), ["id: 42", "event: fault_cleared"]);
  assertEquals(lines.length, 5, "id, event, one data line, blank line end");
  const data = JSON.parse(lines[2]!.slice("data: ".length));
  assertEquals(data, faultEventData(event));
  assertEquals(data["x-medkit"], { entity_type: "app", entity_id: "motor_left" });
  assert(frame.endsWith("\n\n"));
});
