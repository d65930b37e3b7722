// A cheap fingerprint of a plugin's files (path, size and modification time
// of every file under its file: import roots), so a reload of a worker or
// process plugin whose files did not change can re-use the import audit of
// its previous load instead of running `deno info` again.

/** At most this many files are fingerprinted; past it the fingerprint is `undefined` (audit again). */
const MAX_FILES = 2000;

/**
 * The fingerprint of the files under `roots` (`file:` URLs of folders or
 * files; others are skipped), or `undefined` when it cannot be taken (a
 * root that cannot be read, too many files, a non-file root).
 */
export async function fingerprint(roots: readonly string[]): Promise<string | undefined> {
  const parts: string[] = [];
  try {
    for (const root of roots) {
      if (!root.startsWith("file:")) return undefined; // npm:, jsr:, https: roots: audit again
      const path = decodeURIComponent(new URL(root).pathname);
      if (!(await walk(path, parts))) return undefined;
    }
  } catch {
    return undefined;
  }
  return parts.join("\n");
}

async function walk(path: string, parts: string[]): Promise<boolean> {
  const info = await Deno.stat(path);
  if (info.isFile) {
    parts.push(`${path} ${info.size} ${info.mtime?.getTime() ?? "?"}`);
    return parts.length <= MAX_FILES;
  }
  if (!info.isDirectory) return true;
  const names: string[] = [];
  for await (const e of Deno.readDir(path)) names.push(e.name);
  names.sort();
  for (const name of names) {
    if (!(await walk(`${path.replace(/\/$/, "")}/${name}`, parts))) return false;
  }
  return true;
}
