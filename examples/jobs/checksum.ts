/**
 * An offload job for the demo: a CRC-32 of the bytes it is given (about
 * 1 ms for 256 KiB), standing in for CPU-heavy work such as decoding or FFT.
 *
 * @module
 */
const TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

/** Returns the CRC-32 of `bytes`. */
export default function checksum(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
