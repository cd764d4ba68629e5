// What the cheap checks and the replication comparison look at in a result: a few statistics and two
// 64-bit perceptual hashes, all computed from one decode of the (already validated) PNG.
//
// - pixelSha256: the exact identity of the picture (the stored PNG carries per-job text chunks, so two
//   uploads of one picture for two jobs differ in bytes but not in pixels).
// - spread: the largest per-channel standard deviation (0–255 scale) over a 32×32 area-averaged copy.
//   Averaging first means a "blank" image with a little dither or noise sprinkled on still reads as
//   blank, and a real picture is dominated by its large-scale structure anyway.
// - correlation: Pearson correlation of horizontally and vertically neighbouring luminance values at
//   full resolution (the mean of the two). Photographs, renders and gradients sit near 1; independent
//   per-pixel noise sits near 0 whatever its distribution.
// - phash: the DCT hash (32×32 luminance → 2-D DCT-II → the 8×8 lowest frequencies → bit = above their
//   median). Small numeric differences between GPUs, providers and thread counts move few bits; another
//   seed moves about half of them. dhash (9×8 luminance, bit = brighter than the right neighbour) is kept
//   as a second opinion for measurements.
//
// The thresholds that use these numbers, and the measurements behind them, are in thresholds.ts.
import { createHash } from 'node:crypto';
import sharp from 'sharp';

export interface ImageFeatures {
  width: number;
  height: number;
  /** SHA-256 of the decoded RGB pixels: the same picture whatever PNG encoding or text chunks carry it. */
  pixelSha256: string;
  spread: number;
  correlation: number;
  /** 16 hex digits (64 bits). */
  phash: string;
  dhash: string;
}

const HASH_SIDE = 32;
const LOW = 8;

export async function analyseImage(png: Buffer): Promise<ImageFeatures> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return analyseRaw(data, info.width, info.height, info.channels);
}

/** The same analysis on raw interleaved pixels (channels ≥ 3; only the first three are read). */
export function analyseRaw(data: Uint8Array, width: number, height: number, channels: number): ImageFeatures {
  const luma = new Float64Array(width * height);
  for (let i = 0, p = 0; i < luma.length; i++, p += channels) {
    luma[i] = 0.299 * data[p]! + 0.587 * data[p + 1]! + 0.114 * data[p + 2]!;
  }
  let spread = 0;
  for (let c = 0; c < 3; c++) {
    // Straight from the interleaved bytes: a copy of each channel cost 2 MB and a pass per channel.
    spread = Math.max(spread, std(areaDownscale(data, width, height, 32, 32, channels, c)));
  }
  const rgb = channels === 3 ? data : rgbOf(data, width * height, channels);
  return {
    width,
    height,
    pixelSha256: createHash('sha256').update(rgb).digest('hex'),
    spread,
    correlation: neighbourCorrelation(luma, width, height),
    phash: dctHash(areaDownscale(luma, width, height, HASH_SIDE, HASH_SIDE)),
    dhash: differenceHash(areaDownscale(luma, width, height, 9, 8)),
  };
}

function rgbOf(data: Uint8Array, pixels: number, channels: number): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    out[i * 3] = data[i * channels]!;
    out[i * 3 + 1] = data[i * channels + 1]!;
    out[i * 3 + 2] = data[i * channels + 2]!;
  }
  return out;
}

/**
 * Each output cell is the mean of the source pixels it covers (at least one when upscaling). The source
 * is `w`×`h` values; with `stride` and `offset` one channel of interleaved pixels (value of pixel i at
 * `src[i * stride + offset]`), summed in the same order, so the means are the same to the last bit.
 */
export function areaDownscale(
  src: ArrayLike<number>,
  w: number,
  h: number,
  tw: number,
  th: number,
  stride = 1,
  offset = 0,
): Float64Array {
  const out = new Float64Array(tw * th);
  for (let oy = 0; oy < th; oy++) {
    const y0 = Math.floor((oy * h) / th);
    const y1 = Math.max(y0 + 1, Math.floor(((oy + 1) * h) / th));
    for (let ox = 0; ox < tw; ox++) {
      const x0 = Math.floor((ox * w) / tw);
      const x1 = Math.max(x0 + 1, Math.floor(((ox + 1) * w) / tw));
      let sum = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += src[(y * w + x) * stride + offset]!;
      out[oy * tw + ox] = sum / ((y1 - y0) * (x1 - x0));
    }
  }
  return out;
}

function std(values: Float64Array): number {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  let sq = 0;
  for (const v of values) sq += (v - mean) * (v - mean);
  return Math.sqrt(sq / values.length);
}

/** Mean of the horizontal and vertical lag-1 correlations; 1 for a constant image (nothing random in it). */
export function neighbourCorrelation(luma: Float64Array, w: number, h: number): number {
  const pairs = (dx: number, dy: number): number => {
    let n = 0;
    let sa = 0;
    let sb = 0;
    let saa = 0;
    let sbb = 0;
    let sab = 0;
    for (let y = 0; y + dy < h; y++) {
      for (let x = 0; x + dx < w; x++) {
        const a = luma[y * w + x]!;
        const b = luma[(y + dy) * w + x + dx]!;
        n++;
        sa += a;
        sb += b;
        saa += a * a;
        sbb += b * b;
        sab += a * b;
      }
    }
    const cov = sab / n - (sa / n) * (sb / n);
    const va = saa / n - (sa / n) ** 2;
    const vb = sbb / n - (sb / n) ** 2;
    if (va <= 1e-9 || vb <= 1e-9) return 1;
    return cov / Math.sqrt(va * vb);
  };
  return (pairs(1, 0) + pairs(0, 1)) / 2;
}

const COS = (() => {
  const table = new Float64Array(LOW * HASH_SIDE);
  for (let u = 0; u < LOW; u++)
    for (let x = 0; x < HASH_SIDE; x++)
      table[u * HASH_SIDE + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * HASH_SIDE));
  return table;
})();

function dctHash(pixels: Float64Array): string {
  // Rows first (only the 8 lowest frequencies are needed), then columns.
  const rows = new Float64Array(LOW * HASH_SIDE);
  for (let y = 0; y < HASH_SIDE; y++) {
    for (let u = 0; u < LOW; u++) {
      let s = 0;
      for (let x = 0; x < HASH_SIDE; x++) s += COS[u * HASH_SIDE + x]! * pixels[y * HASH_SIDE + x]!;
      rows[u * HASH_SIDE + y] = s;
    }
  }
  const coeffs: number[] = [];
  for (let v = 0; v < LOW; v++) {
    for (let u = 0; u < LOW; u++) {
      let s = 0;
      for (let y = 0; y < HASH_SIDE; y++) s += COS[v * HASH_SIDE + y]! * rows[u * HASH_SIDE + y]!;
      coeffs.push(s);
    }
  }
  const sorted = [...coeffs].sort((a, b) => a - b);
  const median = (sorted[31]! + sorted[32]!) / 2;
  return bitsToHex(coeffs.map((c) => c > median));
}

function differenceHash(pixels: Float64Array): string {
  const bits: boolean[] = [];
  for (let y = 0; y < 8; y++)
    for (let x = 0; x < 8; x++) bits.push(pixels[y * 9 + x]! > pixels[y * 9 + x + 1]!);
  return bitsToHex(bits);
}

function bitsToHex(bits: boolean[]): string {
  let hex = '';
  for (let i = 0; i < bits.length; i += 4) {
    hex += (
      (bits[i]! ? 8 : 0) |
      (bits[i + 1]! ? 4 : 0) |
      (bits[i + 2]! ? 2 : 0) |
      (bits[i + 3]! ? 1 : 0)
    ).toString(16);
  }
  return hex;
}

/** Bits that differ between two hashes of the same length (hex). */
export function hammingDistance(a: string, b: string): number {
  if (a.length !== b.length) throw new Error('Hashes of different lengths cannot be compared.');
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    let x = parseInt(a[i]!, 16) ^ parseInt(b[i]!, 16);
    while (x) {
      d += x & 1;
      x >>= 1;
    }
  }
  return d;
}

/** The hash cut into four 16-bit bands: two hashes within 3 bits of each other share at least one. */
export function hashBands(hex: string): [number, number, number, number] {
  return [0, 1, 2, 3].map((i) => parseInt(hex.slice(i * 4, i * 4 + 4), 16)) as [
    number,
    number,
    number,
    number,
  ];
}
