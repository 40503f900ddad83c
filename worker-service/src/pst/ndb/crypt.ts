/**
 * Block encodings (MS-PST 2.2.2.6 bCryptMethod; algorithms in MS-PST 5.1 "Permutative Encoding" and
 * 5.2 "Cyclic Encoding"). Only the payload of external data blocks is encoded; internal blocks
 * (XBLOCK, XXBLOCK, SLBLOCK, SIBLOCK), pages and the header never are. CRCs cover the encoded bytes.
 */

/** bCryptMethod values (MS-PST 2.2.2.6). */
export enum CryptMethod {
  None = 0x00,
  Permute = 0x01,
  Cyclic = 0x02,
}

/** mpbbCrypt from MS-PST 5.1: three 256-byte tables mpbbR, mpbbS, mpbbI (mpbbI is the inverse of mpbbR). */
const MPBB_CRYPT = Uint8Array.from([
  65, 54, 19, 98, 168, 33, 110, 187, 244, 22, 204, 4, 127, 100, 232, 93,
  30, 242, 203, 42, 116, 197, 94, 53, 210, 149, 71, 158, 150, 45, 154, 136,
  76, 125, 132, 63, 219, 172, 49, 182, 72, 95, 246, 196, 216, 57, 139, 231,
  35, 59, 56, 142, 200, 193, 223, 37, 177, 32, 165, 70, 96, 78, 156, 251,
  170, 211, 86, 81, 69, 124, 85, 0, 7, 201, 43, 157, 133, 155, 9, 160,
  143, 173, 179, 15, 99, 171, 137, 75, 215, 167, 21, 90, 113, 102, 66, 191,
  38, 74, 107, 152, 250, 234, 119, 83, 178, 112, 5, 44, 253, 89, 58, 134,
  126, 206, 6, 235, 130, 120, 87, 199, 141, 67, 175, 180, 28, 212, 91, 205,
  226, 233, 39, 79, 195, 8, 114, 128, 207, 176, 239, 245, 40, 109, 190, 48,
  77, 52, 146, 213, 14, 60, 34, 50, 229, 228, 249, 159, 194, 209, 10, 129,
  18, 225, 238, 145, 131, 118, 227, 151, 230, 97, 138, 23, 121, 164, 183, 220,
  144, 122, 92, 140, 2, 166, 202, 105, 222, 80, 26, 17, 147, 185, 82, 135,
  88, 252, 237, 29, 55, 73, 27, 106, 224, 41, 51, 153, 189, 108, 217, 148,
  243, 64, 84, 111, 240, 198, 115, 184, 214, 62, 101, 24, 68, 31, 221, 103,
  16, 241, 12, 25, 236, 174, 3, 161, 20, 123, 169, 11, 255, 248, 163, 192,
  162, 1, 247, 46, 188, 36, 104, 117, 13, 254, 186, 47, 181, 208, 218, 61,
  20, 83, 15, 86, 179, 200, 122, 156, 235, 101, 72, 23, 22, 21, 159, 2,
  204, 84, 124, 131, 0, 13, 12, 11, 162, 98, 168, 118, 219, 217, 237, 199,
  197, 164, 220, 172, 133, 116, 214, 208, 167, 155, 174, 154, 150, 113, 102, 195,
  99, 153, 184, 221, 115, 146, 142, 132, 125, 165, 94, 209, 93, 147, 177, 87,
  81, 80, 128, 137, 82, 148, 79, 78, 10, 107, 188, 141, 127, 110, 71, 70,
  65, 64, 68, 1, 17, 203, 3, 63, 247, 244, 225, 169, 143, 60, 58, 249,
  251, 240, 25, 48, 130, 9, 46, 201, 157, 160, 134, 73, 238, 111, 77, 109,
  196, 45, 129, 52, 37, 135, 27, 136, 170, 252, 6, 161, 18, 56, 253, 76,
  66, 114, 100, 19, 55, 36, 106, 117, 119, 67, 255, 230, 180, 75, 54, 92,
  228, 216, 53, 61, 69, 185, 44, 236, 183, 49, 43, 41, 7, 104, 163, 14,
  105, 123, 24, 158, 33, 57, 190, 40, 26, 91, 120, 245, 35, 202, 42, 176,
  175, 62, 254, 4, 140, 231, 229, 152, 50, 149, 211, 246, 74, 232, 166, 234,
  233, 243, 213, 47, 112, 32, 242, 31, 5, 103, 173, 85, 16, 206, 205, 227,
  39, 59, 218, 186, 215, 194, 38, 212, 145, 29, 210, 28, 34, 51, 248, 250,
  241, 90, 239, 207, 144, 182, 139, 181, 189, 192, 191, 8, 151, 30, 108, 226,
  97, 224, 198, 193, 89, 171, 187, 88, 222, 95, 223, 96, 121, 126, 178, 138,
  71, 241, 180, 230, 11, 106, 114, 72, 133, 78, 158, 235, 226, 248, 148, 83,
  224, 187, 160, 2, 232, 90, 9, 171, 219, 227, 186, 198, 124, 195, 16, 221,
  57, 5, 150, 48, 245, 55, 96, 130, 140, 201, 19, 74, 107, 29, 243, 251,
  143, 38, 151, 202, 145, 23, 1, 196, 50, 45, 110, 49, 149, 255, 217, 35,
  209, 0, 94, 121, 220, 68, 59, 26, 40, 197, 97, 87, 32, 144, 61, 131,
  185, 67, 190, 103, 210, 70, 66, 118, 192, 109, 91, 126, 178, 15, 22, 41,
  60, 169, 3, 84, 13, 218, 93, 223, 246, 183, 199, 98, 205, 141, 6, 211,
  105, 92, 134, 214, 20, 247, 165, 102, 117, 172, 177, 233, 69, 33, 112, 12,
  135, 159, 116, 164, 34, 76, 111, 191, 31, 86, 170, 46, 179, 120, 51, 80,
  176, 163, 146, 188, 207, 25, 28, 167, 99, 203, 30, 77, 62, 75, 27, 155,
  79, 231, 240, 238, 173, 58, 181, 89, 4, 234, 64, 85, 37, 81, 229, 122,
  137, 56, 104, 82, 123, 252, 39, 174, 215, 189, 250, 7, 244, 204, 142, 95,
  239, 53, 156, 132, 43, 21, 213, 119, 52, 73, 182, 18, 10, 127, 113, 136,
  253, 157, 24, 65, 125, 147, 216, 88, 44, 206, 254, 36, 175, 222, 184, 54,
  200, 161, 128, 166, 153, 152, 168, 47, 14, 129, 101, 115, 228, 194, 162, 138,
  212, 225, 17, 208, 8, 139, 42, 242, 237, 154, 100, 63, 193, 108, 249, 236,
]);
const R = MPBB_CRYPT.subarray(0, 256);
const S = MPBB_CRYPT.subarray(256, 512);
const I = MPBB_CRYPT.subarray(512, 768);

/** NDB_CRYPT_PERMUTE, in place (MS-PST 5.1): encoding maps through mpbbR, decoding through mpbbI. */
export function cryptPermute(data: Uint8Array, encode: boolean): void {
  const table = encode ? R : I;
  for (let i = 0; i < data.length; i++) data[i] = table[data[i]];
}

/**
 * The permute encoding as a WebAssembly function, 2-3× faster than a JavaScript loop (which pays a
 * bounds check per byte): one 64 KiB page of memory holds mpbbR at 0-255 and the data from 256 on;
 * `p(ptr, n)` maps n bytes at ptr through the table in place, a 32-bit word at a time (so up to 3
 * bytes past n are mapped too, harmlessly). In WebAssembly text:
 *
 *   (module (memory (export "m") 1)
 *     (func (export "p") (param $ptr i32) (param $n i32) (local $i i32) (local $w i32)
 *       (block (loop
 *         (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
 *         (local.set $w (i32.load (i32.add (local.get $ptr) (local.get $i))))
 *         (i32.store (i32.add (local.get $ptr) (local.get $i))
 *           (i32.or (i32.or (i32.or
 *             (i32.load8_u (i32.and (local.get $w) (i32.const 255)))
 *             (i32.shl (i32.load8_u (i32.and (i32.shr_u (local.get $w) (i32.const 8)) (i32.const 255))) (i32.const 8)))
 *             (i32.shl (i32.load8_u (i32.and (i32.shr_u (local.get $w) (i32.const 16)) (i32.const 255))) (i32.const 16)))
 *             (i32.shl (i32.load8_u (i32.shr_u (local.get $w) (i32.const 24))) (i32.const 24))))
 *         (local.set $i (i32.add (local.get $i) (i32.const 4)))
 *         (br 0)))))
 */
const PERMUTE_WASM = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x06, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x00, // type: (i32, i32) -> ()
  0x03, 0x02, 0x01, 0x00, // function 0 has type 0
  0x05, 0x03, 0x01, 0x00, 0x01, // memory: min 1 page
  0x07, 0x09, 0x02, 0x01, 0x6d, 0x02, 0x00, 0x01, 0x70, 0x00, 0x00, // exports "m" (memory 0), "p" (func 0)
  0x0a, 0x63, 0x01, 0x61, // code: one body of 97 bytes
  0x01, 0x02, 0x7f, // locals: 2 × i32 ($i, $w)
  0x02, 0x40, 0x03, 0x40, // block, loop
  0x20, 0x02, 0x20, 0x01, 0x4f, 0x0d, 0x01, // br_if 1 (i >= n)
  0x20, 0x00, 0x20, 0x02, 0x6a, // store address: ptr + i
  0x20, 0x00, 0x20, 0x02, 0x6a, 0x28, 0x02, 0x00, 0x21, 0x03, // w = load32(ptr + i)
  0x20, 0x03, 0x41, 0xff, 0x01, 0x71, 0x2d, 0x00, 0x00, // R[w & 255]
  0x20, 0x03, 0x41, 0x08, 0x76, 0x41, 0xff, 0x01, 0x71, 0x2d, 0x00, 0x00, 0x41, 0x08, 0x74, 0x72, // | R[(w >>> 8) & 255] << 8
  0x20, 0x03, 0x41, 0x10, 0x76, 0x41, 0xff, 0x01, 0x71, 0x2d, 0x00, 0x00, 0x41, 0x10, 0x74, 0x72, // | R[(w >>> 16) & 255] << 16
  0x20, 0x03, 0x41, 0x18, 0x76, 0x2d, 0x00, 0x00, 0x41, 0x18, 0x74, 0x72, // | R[w >>> 24] << 24
  0x36, 0x02, 0x00, // store32
  0x20, 0x02, 0x41, 0x04, 0x6a, 0x21, 0x02, // i += 4
  0x0c, 0x00, 0x0b, 0x0b, 0x0b, // br 0, end loop, end block, end function
]);
/** Data offset in the module's memory (after the table) and the most bytes one call maps. */
const WASM_DATA = 256;
const WASM_CHUNK = 65536 - WASM_DATA;

/** The part of the WebAssembly API used here. */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}

let permuteModule: { mem: Uint8Array; p: (ptr: number, n: number) => void } | null | undefined;

/** The permute module, instantiated on first use; null where WebAssembly is unavailable. */
export function wasmPermute(): { mem: Uint8Array; p: (ptr: number, n: number) => void } | null {
  if (permuteModule !== undefined) return permuteModule;
  try {
    // the TypeScript lib in use (ES2022, no DOM) does not declare WebAssembly; Node has it
    const wa = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const inst = new wa.Instance(new wa.Module(PERMUTE_WASM));
    const mem = new Uint8Array((inst.exports.m as { buffer: ArrayBuffer }).buffer);
    mem.set(R, 0);
    permuteModule = { mem, p: inst.exports.p as (ptr: number, n: number) => void };
  } catch {
    permuteModule = null;
  }
  return permuteModule;
}

/** NDB_CRYPT_PERMUTE encoding (MS-PST 5.1) of `src` written into `out` at `offset`: a copy and the encoding in one step. */
export function permuteInto(src: Uint8Array, out: Uint8Array, offset: number): void {
  const n = src.length;
  const w = n >= 64 ? wasmPermute() : null;
  if (!w) {
    for (let i = 0; i < n; i++) out[offset + i] = R[src[i]];
    return;
  }
  for (let o = 0; o < n; o += WASM_CHUNK) {
    const len = Math.min(WASM_CHUNK, n - o);
    w.mem.set(o === 0 && len === n ? src : src.subarray(o, o + len), WASM_DATA);
    w.p(WASM_DATA, len);
    out.set(w.mem.subarray(WASM_DATA, WASM_DATA + len), offset + o);
  }
}

/** NDB_CRYPT_CYCLIC, in place (MS-PST 5.2); its own inverse. `key` is the low 32 bits of the block's BID. */
export function cryptCyclic(data: Uint8Array, key: number): void {
  let w = ((key ^ (key >>> 16)) & 0xffff) >>> 0;
  for (let i = 0; i < data.length; i++) {
    let b = data[i];
    b = (b + (w & 0xff)) & 0xff;
    b = R[b];
    b = (b + (w >>> 8)) & 0xff;
    b = S[b];
    b = (b - (w >>> 8)) & 0xff;
    b = I[b];
    b = (b - (w & 0xff)) & 0xff;
    data[i] = b;
    w = (w + 1) & 0xffff;
  }
}

/** Encodes (`encode` true) or decodes a data block payload in place with the store's bCryptMethod. */
export function cryptBlock(data: Uint8Array, method: CryptMethod, bid: bigint, encode: boolean): void {
  if (method === CryptMethod.Permute) cryptPermute(data, encode);
  else if (method === CryptMethod.Cyclic) cryptCyclic(data, Number(bid & 0xffffffffn));
}
