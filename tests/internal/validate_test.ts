import { assertEquals, assertThrows } from "@std/assert";
import { requireFinite, show } from "../../src/internal/validate.ts";

Deno.test("show() describes a revoked Proxy instead of throwing", () => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  assertEquals(show(proxy), "an object that cannot be inspected");
  const error = assertThrows(() => requireFinite("run", "x", proxy), TypeError);
  assertEquals(
    error.message,
    "Cannot run as 'x' must be a finite number: current value is an object that cannot be inspected",
  );
});

Deno.test("show() clips long values and names typed arrays by length", () => {
  assertEquals(show(new Float64Array(3)), "Float64Array(3)");
  assertEquals(show("x".repeat(200)).length, 80);
});
