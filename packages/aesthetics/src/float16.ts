// IEEE 754 binary16 <-> binary32 conversion. Node 20 has no Float16Array, and LAION ships its embeddings
// as '<f2', so this sits on the hot path of every read: decoding is one lookup in a 65,536-entry table
// (256 KiB, built once), encoding is integer arithmetic with round-to-nearest-even like NumPy's astype.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

let decodeTable: Float32Array | undefined;

function buildDecodeTable(): Float32Array {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    let value: number;
    if (exponent === 0)
      value = mantissa * 2 ** -24; // zero and subnormals
    else if (exponent === 31) value = mantissa === 0 ? Infinity : NaN;
    else value = (1 + mantissa / 1024) * 2 ** (exponent - 15);
    table[h] = sign * value;
  }
  return table;
}

/** The float16 -> float32 table (every half value is exactly representable as a float). */
export function float16Table(): Float32Array {
  decodeTable ??= buildDecodeTable();
  return decodeTable;
}

export function float16ToFloat32(bits: number): number {
  return float16Table()[bits & 0xffff] as number;
}

/** Bits of the float16 nearest to `value` (ties to even; overflow to ±inf; NaN stays NaN). */
export function float32ToFloat16(value: number): number {
  f32[0] = value;
  const x = u32[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;

  if (exponent === 0xff) return sign | (mantissa === 0 ? 0x7c00 : 0x7e00 | (mantissa >>> 13));
  // Unbiased exponent re-biased for half precision.
  const e = exponent - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Result is subnormal (or zero): shift the full 24-bit significand into the 10-bit field.
    if (e < -10) return sign; // below half the smallest subnormal: rounds to zero
    const significand = mantissa | 0x800000;
    const shift = 14 - e; // 14..24
    const half = significand >>> shift;
    const remainder = significand & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    const roundUp = remainder > halfway || (remainder === halfway && (half & 1) === 1);
    return sign | (half + (roundUp ? 1 : 0));
  }
  // Normal: keep 10 mantissa bits, round on the 13 dropped ones. A carry out of the mantissa correctly
  // bumps the exponent (and 65520 and above become infinity).
  const base = (e << 10) | (mantissa >>> 13);
  const dropped = mantissa & 0x1fff;
  const roundUp = dropped > 0x1000 || (dropped === 0x1000 && (base & 1) === 1);
  return sign | (base + (roundUp ? 1 : 0));
}

/** Decodes little-endian float16 values from `bytes` into `out` (same element count). */
export function decodeFloat16(bytes: Uint8Array, out: Float32Array): void {
  const table = float16Table();
  const n = out.length;
  if ((bytes.byteOffset & 1) === 0) {
    // Aligned: read 16-bit words directly (little-endian hosts; every platform Node ships on).
    const words = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
    for (let i = 0; i < n; i++) out[i] = table[words[i] as number] as number;
  } else {
    for (let i = 0; i < n; i++) {
      out[i] = table[(bytes[2 * i] as number) | ((bytes[2 * i + 1] as number) << 8)] as number;
    }
  }
}

/** Encodes `values` as little-endian float16 into `out` (2 bytes per value). */
export function encodeFloat16(values: Float32Array, out: Uint8Array): void {
  for (let i = 0; i < values.length; i++) {
    const h = float32ToFloat16(values[i] as number);
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >>> 8;
  }
}
