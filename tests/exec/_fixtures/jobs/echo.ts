/** Returns its input as it arrived: whatever survived the trip into the worker. */
export default function echo(input: unknown): unknown {
  return input;
}
