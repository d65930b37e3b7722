/** Throws: a job failure, not a crash. */
export default function fail(message: string): never {
  throw new Error(message);
}
