/**
 * A producer for Destination.putStream tests: `bytes` in chunks of `size` through one reused buffer
 * (as the manifest spill yields them), throwing 'the producer failed' after `failAfter` chunks.
 */
export async function* chunked(bytes: Buffer, size: number, failAfter = Infinity): AsyncGenerator<Uint8Array> {
  const buf = Buffer.alloc(size);
  for (let o = 0, n = 0; o < bytes.length; o += size, n++) {
    if (n >= failAfter) throw new Error('the producer failed');
    const c = bytes.copy(buf, 0, o, Math.min(bytes.length, o + size));
    yield buf.subarray(0, c);
  }
}
