/** Ends its own worker with `Deno.exit(code)`: a worker that dies without an error. */
export default function exit(code: number): never {
  Deno.exit(code);
}
