/** Fills the given buffer with a byte and returns it (transferred both ways). */
export default function fill(input: { buffer: ArrayBuffer; value: number }): Uint8Array {
  const bytes = new Uint8Array(input.buffer);
  bytes.fill(input.value);
  return bytes;
}
