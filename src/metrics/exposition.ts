import { show } from "../internal/validate.ts";

/** The exposition formats the registry writes. */
export type ExpositionFormat = "prometheus" | "openmetrics";

/** Every {@linkcode ExpositionFormat}, for validation. Not public. */
export const EXPOSITION_FORMATS: readonly ExpositionFormat[] = ["prometheus", "openmetrics"];

/** `Content-Type` of the Prometheus text format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
/** `Content-Type` of OpenMetrics 1.0. */
export const OPENMETRICS_CONTENT_TYPE =
  "application/openmetrics-text; version=1.0.0; charset=utf-8";

/**
 * Chooses the exposition format for an HTTP `Accept` header: OpenMetrics when
 * the client accepts `application/openmetrics-text` with a higher or equal
 * quality than the text format, else Prometheus text 0.0.4 (also for a
 * missing or empty header).
 *
 * @example Choosing the format from an Accept header
 * ```ts
 * import { negotiateExpositionFormat } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const prometheusServer = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
 * assertEquals(negotiateExpositionFormat(prometheusServer), "openmetrics");
 * assertEquals(negotiateExpositionFormat("text/plain"), "prometheus");
 * assertEquals(negotiateExpositionFormat(null), "prometheus");
 * ```
 *
 * @param accept The `Accept` header value.
 * @returns The format to answer with.
 * @throws {TypeError} when `accept` is not a string, `null` or `undefined`.
 */
export function negotiateExpositionFormat(accept: string | null | undefined): ExpositionFormat {
  if (accept === null || accept === undefined) return "prometheus";
  if (typeof accept !== "string") {
    throw new TypeError(
      `Cannot negotiate the exposition format as 'accept' must be a string, null or undefined: current value is ${
        show(accept)
      }`,
    );
  }
  let om = -1;
  let text = -1;
  for (const part of accept.split(",")) {
    const [type, ...params] = part.trim().split(";").map((s) => s.trim());
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split("=");
      if (k === "q" && v !== undefined && Number.isFinite(Number(v))) q = Number(v);
    }
    if (type === "application/openmetrics-text") om = Math.max(om, q);
    else if (type === "text/plain" || type === "*/*" || type === "text/*") text = Math.max(text, q);
  }
  return om > 0 && om >= text ? "openmetrics" : "prometheus";
}

/**
 * Returns the `Content-Type` header value for a format. Not public: the
 * constants are.
 *
 * @param format The exposition format.
 * @returns The header value.
 */
export function expositionContentType(format: ExpositionFormat): string {
  return format === "openmetrics" ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE;
}
