// Bearer-token checks: the token compared in constant time (both sides
// hashed to 32 bytes first, so neither the content nor the length of the
// expected token leaks through timing).

import { HttpError, httpError } from "./_errors.ts";

const encoder = new TextEncoder();

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** Compares two equal-length byte arrays without an early exit. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Checks `Authorization: Bearer <token>` headers against one token. */
export class BearerCheck {
  readonly #expected: Promise<Uint8Array> | undefined;
  readonly #realm: string;

  /** @param token The token; `undefined`: no token configured (writes are refused). */
  constructor(token: string | undefined, realm: string) {
    this.#expected = token === undefined ? undefined : digest(token);
    this.#realm = realm;
  }

  /** Whether a token is configured. */
  get configured(): boolean {
    return this.#expected !== undefined;
  }

  /**
   * Throws unless the header carries the token: `401` (empty body,
   * `WWW-Authenticate`) without credentials, `403 insufficient-access-rights`
   * with a wrong token, or when no token is configured at all.
   */
  async require(header: string | null | undefined, what: string): Promise<void> {
    if (this.#expected === undefined) {
      throw httpError(
        403,
        "insufficient-access-rights",
        `Cannot ${what} as the server has no token: start it with 'token' to allow state-changing requests`,
      );
    }
    const match = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(header ?? "");
    if (match === null) {
      throw new HttpError(401, null, {
        "www-authenticate": `Bearer realm="${this.#realm}"`,
      });
    }
    const given = await digest(match[1]!);
    if (!constantTimeEqual(given, await this.#expected)) {
      throw httpError(
        403,
        "insufficient-access-rights",
        `Cannot ${what} as the bearer token is not the server's`,
      );
    }
  }
}
