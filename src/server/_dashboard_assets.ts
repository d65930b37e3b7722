// The dashboard's files, imported as text so that `deno publish` and
// `deno compile` carry them: the page, its script and style (under
// ./dashboard/), and uPlot's browser build and style straight from the npm
// package (never vendored). Each is served with its content type, an ETag
// (304 on If-None-Match), `nosniff`, and a cache policy: the page is
// revalidated every time; the files it links carry their content hash in
// the URL, so they are cached for a year.

import page from "./dashboard/index.html" with { type: "text" };
import script from "./dashboard/app.js" with { type: "text" };
import style from "./dashboard/app.css" with { type: "text" };
import uplotScript from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotStyle from "uplot/dist/uPlot.min.css" with { type: "text" };

/** A file the app serves as it is, outside the route table (no OpenAPI entry). */
export interface StaticAsset {
  /** Path below the base path: `/`, `/dashboard/app.js`. */
  readonly path: string;
  /** The response body. */
  readonly body: Uint8Array<ArrayBuffer>;
  /** The `Content-Type`. */
  readonly contentType: string;
  /** The `Cache-Control`. */
  readonly cacheControl: string;
  /** A strong ETag of the body. */
  readonly etag: string;
  /** More headers (the page's Content-Security-Policy). */
  readonly headers: Readonly<Record<string, string>>;
}

const IMMUTABLE = "public, max-age=31536000, immutable";
const encoder = new TextEncoder();

/** FNV-1a, 32 bits, as 8 hex digits: a content hash for URLs and ETags (not a security measure). */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

function asset(
  path: string,
  text: string,
  contentType: string,
  cacheControl: string,
  headers: Record<string, string> = {},
): StaticAsset {
  return {
    path,
    body: encoder.encode(text),
    contentType,
    cacheControl,
    etag: `"${hash(text)}-${text.length.toString(16)}"`,
    headers,
  };
}

/** The page's policy: its own files and its own origin only; no inline script or style. */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * The dashboard's files for a server at `basePath` whose SOVD mount for
 * the page is `mount`.
 */
export function dashboardAssets(basePath: string, mount: string): StaticAsset[] {
  const files = [
    asset("/dashboard/uPlot.iife.min.js", uplotScript, "text/javascript; charset=utf-8", IMMUTABLE),
    asset("/dashboard/uPlot.min.css", uplotStyle, "text/css; charset=utf-8", IMMUTABLE),
    asset("/dashboard/app.js", script, "text/javascript; charset=utf-8", IMMUTABLE),
    asset("/dashboard/app.css", style, "text/css; charset=utf-8", IMMUTABLE),
  ];
  const links: Record<string, string> = {};
  for (const file of files) {
    links[file.path] = `${basePath}${file.path}?v=${file.etag.slice(1, 9)}`;
  }
  // basePath and mount hold only [A-Za-z0-9._~/-] (checked by createServer): safe in HTML.
  const html = page
    .replaceAll("{{base}}", basePath)
    .replaceAll("{{mount}}", mount)
    .replace(/\{\{(\/dashboard\/[A-Za-z.]+)\}\}/g, (_, path: string) => links[path] ?? path);
  return [
    asset("/", html, "text/html; charset=utf-8", "no-cache", {
      "content-security-policy": CSP,
      "referrer-policy": "no-referrer",
    }),
    ...files,
  ];
}
