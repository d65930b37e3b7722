// The server's errors: one class that carries the HTTP status and the SOVD
// GenericError body, the helpers that build the common ones, and the single
// mapping from anything thrown to a response (never a stack trace).

import { genericError, type GenericErrorJson, type SovdErrorCode } from "../sovd/wire_faults.ts";
import type { Logger } from "../logger.ts";

/** An error a handler throws to answer with a status and a GenericError body (or none). */
export class HttpError extends Error {
  /** The HTTP status. */
  readonly status: number;
  /** The body; `null` for an empty one (401). */
  readonly body: GenericErrorJson | null;
  /** Extra response headers (`Allow`, `WWW-Authenticate`). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    body: GenericErrorJson | null,
    headers: Readonly<Record<string, string>> = {},
  ) {
    super(body?.message ?? `HTTP ${status}`);
    this.name = "HttpError";
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

/** Builds an {@linkcode HttpError} with a GenericError body. */
export function httpError(
  status: number,
  code: SovdErrorCode,
  message: string,
  options: { vendorCode?: string; parameters?: Record<string, unknown> } = {},
  headers: Readonly<Record<string, string>> = {},
): HttpError {
  return new HttpError(status, genericError(code, message, options), headers);
}

/** A `400 incomplete-request` for a bad path or query parameter. */
export function badRequest(message: string, parameter?: string): HttpError {
  return httpError(
    400,
    "incomplete-request",
    message,
    parameter === undefined ? {} : { parameters: { name: parameter } },
  );
}

/** A `404 vendor-specific` with a vendor code (`entity-not-found`, `resource-not-found`). */
export function notFound(message: string, vendorCode: string): HttpError {
  return httpError(404, "vendor-specific", message, { vendorCode });
}

/**
 * Runs a parser of client input; its `TypeError` / `RangeError` (a
 * Deno-style message naming the parameter) becomes a `400`.
 */
export function parseInput<T>(parse: () => T, parameter?: string): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) {
      throw badRequest(error.message, parameter ?? quotedName(error.message));
    }
    throw error;
  }
}

function quotedName(message: string): string | undefined {
  return /'([^']+)'/.exec(message)?.[1];
}

/** JSON response headers. */
export const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "content-type": "application/json; charset=utf-8",
});

/**
 * The one mapping from a thrown value to a response: an {@linkcode HttpError}
 * answers as it says; anything else is a `500 sovd-server-failure` with a
 * fixed message (the error goes to the logger, never to the client).
 */
export function errorResponse(error: unknown, logger: Logger, name: string): Response {
  if (error instanceof HttpError) {
    const headers = new Headers(error.headers);
    if (error.body === null) return new Response(null, { status: error.status, headers });
    headers.set("content-type", JSON_HEADERS["content-type"]!);
    return new Response(JSON.stringify(error.body), { status: error.status, headers });
  }
  try {
    logger.error(
      `Diagnostics server "${name}" failed a request: ${
        error instanceof Error ? `${error.name}: ${error.message}` : String(error)
      }`,
    );
  } catch {
    // A throwing logger does not turn a 500 into a crash.
  }
  const body = genericError("sovd-server-failure", "The server failed to answer this request");
  return new Response(JSON.stringify(body), { status: 500, headers: JSON_HEADERS });
}
