// Seeded fuzz of the kernel side of remote data ports: whatever a worker or
// process plugin sends as port ops (ids, names, bytes, recycle lists), the
// links never throw, never hand the kernel's port a frame that is not bytes,
// and the port's own books stay consistent.
import { assert, assertEquals } from "@std/assert";
import { DataPort } from "../../src/data/data_port.ts";
import { PortLinks } from "../../src/plugin/_remote_port_link.ts";
import type { HostMessage } from "../../src/plugin/_remote_protocol.ts";
import { check, fc, hostile } from "./_hostile.ts";

const op = fc.oneof(
  fc.tuple(fc.constant("do"), fc.oneof(fc.integer({ min: 0, max: 4 }), hostile()), hostile()),
  fc.tuple(fc.constant("do"), fc.integer({ min: 0, max: 4 }), fc.constantFrom("p", "q", "x")),
  fc.tuple(
    fc.constant("ds"),
    fc.integer({ min: 0, max: 4 }),
    fc.oneof(fc.uint8Array({ maxLength: 16 }), fc.base64String({ maxLength: 24 }), hostile()),
  ),
  fc.tuple(fc.constant("dc"), fc.integer({ min: 0, max: 4 })),
  fc.tuple(fc.constant("dr"), fc.integer({ min: 0, max: 4 }), hostile()),
  fc.tuple(
    fc.constant("dr"),
    fc.integer({ min: 0, max: 4 }),
    fc.array(fc.integer({ min: 0, max: 40 })),
  ),
);

Deno.test("Remote port links survive any sequence of port ops a plugin can send", async () => {
  await check(
    fc.asyncProperty(fc.array(op, { maxLength: 40 }), fc.boolean(), async (ops, text) => {
      const p = new DataPort({ name: "p", credit: 4 });
      const q = new DataPort({ name: "q", credit: 2 });
      const sent: HostMessage[] = [];
      let received = 0;
      p.onFrame((meta, view) => {
        assert(view instanceof Uint8Array);
        received++;
        p.recycle(meta);
      });
      const links = new PortLinks({
        plugin: "fuzz",
        allowed: true,
        text,
        lookup: (name) => name === "p" ? p : name === "q" ? q : undefined,
        post: (message) => void sent.push(message),
        later: () => {},
        warn: () => {},
      });
      for (const [kind, id, arg] of ops as [string, number, unknown][]) {
        if (kind === "do") links.open(id as number, arg);
        else if (kind === "ds") links.send(id as number, arg);
        else if (kind === "dc") links.consume(id as number);
        else links.recycle(id as number, arg);
      }
      await new Promise((resolve) => setTimeout(resolve, 0));
      const report = links.close();
      assert(report.lost >= 0 && report.unrecycled >= 0);
      for (const port of [p, q]) {
        const s = port.stats();
        assertEquals(s.framesSent - s.framesRecycled, s.unreceived + s.unrecycled);
      }
      assert(received <= p.stats().framesSent);
      for (const m of sent) assert(["port", "pc", "pf", "px"].includes(m.t));
      p.close();
      q.close();
    }),
  );
});
