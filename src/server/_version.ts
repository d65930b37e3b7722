// The version the server reports (vendor_info.version, /docs info.version).
// A test keeps it equal to deno.json's.

/** Chronetix's version. */
export const CHRONETIX_VERSION = "0.1.0";
