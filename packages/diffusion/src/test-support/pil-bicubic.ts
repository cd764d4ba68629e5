/**
 * An independent reference for image-encoder preprocessing: PIL's ImagingResample with the BICUBIC filter
 * (a = −0.5, support widened by the scale when shrinking, weights normalised, a horizontal then a vertical
 * pass with rounding to 8 bits after each), which is what transformers' CLIPImageProcessor runs.
 */
function cubic(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

function coefficients(inSize: number, outSize: number): { first: number; weights: number[] }[] {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 2 * filterScale;
  const out: { first: number; weights: number[] }[] = [];
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const first = Math.max(0, Math.trunc(center - support + 0.5));
    const last = Math.min(inSize, Math.trunc(center + support + 0.5));
    const weights: number[] = [];
    for (let x = first; x < last; x++) weights.push(cubic((x - center + 0.5) / filterScale));
    const sum = weights.reduce((a, b) => a + b, 0);
    out.push({ first, weights: weights.map((w) => (sum === 0 ? 0 : w / sum)) });
  }
  return out;
}

const to8 = (v: number) => Math.min(255, Math.max(0, Math.round(v)));

/** Interleaved RGB w×h → ow×oh, as PIL's Image.resize((ow, oh), Image.BICUBIC). */
export function pilBicubic(src: Uint8Array, w: number, h: number, ow: number, oh: number): Uint8Array {
  const across = coefficients(w, ow);
  const mid = new Uint8Array(ow * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      const { first, weights } = across[x]!;
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let k = 0; k < weights.length; k++) sum += weights[k]! * src[(y * w + first + k) * 3 + c]!;
        mid[(y * ow + x) * 3 + c] = to8(sum);
      }
    }
  }
  const down = coefficients(h, oh);
  const out = new Uint8Array(ow * oh * 3);
  for (let y = 0; y < oh; y++) {
    const { first, weights } = down[y]!;
    for (let x = 0; x < ow; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let k = 0; k < weights.length; k++) sum += weights[k]! * mid[((first + k) * ow + x) * 3 + c]!;
        out[(y * ow + x) * 3 + c] = to8(sum);
      }
    }
  }
  return out;
}
