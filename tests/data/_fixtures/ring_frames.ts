// Test frames for the shared ring: mixed sizes (8 to 1024 bytes), each
// carrying its sequence number, its length and a checksum of its payload, so
// a consumer can tell a lost, duplicated, reordered or torn frame.

/** The length of frame `seq`: 12 to `max` bytes (at least 12), varying frame to frame. */
export function frameLength(seq: number, max = 1024): number {
  return 12 + ((seq * 7919) % (max - 11));
}

function checksum(bytes: Uint8Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum = (Math.imul(sum, 31) + bytes[i]!) | 0;
  return sum;
}

/** Writes frame `seq` (at most `max` bytes) into `into`; returns its length. */
export function writeFrame(into: Uint8Array, seq: number, max?: number): number {
  const length = frameLength(seq, max);
  const view = new DataView(into.buffer, into.byteOffset, length);
  for (let i = 12; i < length; i++) into[i] = (seq * 13 + i) & 255;
  view.setUint32(0, seq, true);
  view.setUint32(4, length, true);
  view.setInt32(8, checksum(into, 12, length), true);
  return length;
}

/** Checks that `slot` holds frame `seq` (at most `max` bytes); returns what is wrong, if anything. */
export function checkFrame(
  slot: Uint8Array,
  length: number,
  seq: number,
  max?: number,
): string | undefined {
  const view = new DataView(slot.buffer, slot.byteOffset, length);
  const got = view.getUint32(0, true);
  if (got !== seq) return `frame ${got} where ${seq} was expected`;
  if (length !== frameLength(seq, max) || view.getUint32(4, true) !== length) {
    return `frame ${seq} has length ${length}, expected ${frameLength(seq, max)}`;
  }
  if (view.getInt32(8, true) !== checksum(slot, 12, length)) return `frame ${seq} is corrupt`;
  return undefined;
}
