/** Throws from a timer: an error the job wrapper cannot catch, so the worker crashes. */
export default function crash(): Promise<never> {
  setTimeout(() => {
    throw new Error("boom from a timer");
  }, 0);
  return new Promise(() => {});
}
