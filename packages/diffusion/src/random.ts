/**
 * Seeded noise. Same seed, same sampler, same backend → the same latents, on any machine running the same Node
 * major (V8's Math.log/cos/sin are a deterministic fdlibm port). Not bit-identical with PyTorch's generator: a
 * seed does not reproduce an image made elsewhere.
 *
 * Generator: xoshiro128** (Blackman & Vigna), 32-bit integer ops only, seeded through SplitMix32 from the seed and a
 * stream number. Streams make the generator splittable: initial latents, per-step sampler noise and anything later
 * each draw from their own sequence, so adding a consumer never shifts another's numbers.
 * Gaussians: Marsaglia's polar method (see fill()).
 */
import { randomInt } from 'node:crypto';

/** Independent noise streams of one generation. */
export const NoiseStream = { initialLatents: 0, samplerSteps: 1 } as const;

export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | undefined;

  /** seed: an integer 0 … 2^53−1; stream: a small integer naming an independent sequence. */
  constructor(seed: number, stream = 0) {
    let state = (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32) >>> 0, 0x9e3779b1);
    state = (state ^ Math.imul(stream + 1, 0x85ebca6b)) >>> 0;
    const next = () => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    // xoshiro must not start from the all-zero state.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  nextGaussian(): number {
    if (this.spare !== undefined) {
      const value = this.spare;
      this.spare = undefined;
      return value;
    }
    const pair = new Float32Array(2);
    this.fill(pair);
    this.spare = pair[1];
    return pair[0]!;
  }

  /**
   * Fill with standard-normal samples (the NoiseSource contract of the schedulers), by Marsaglia's polar method:
   * x, y uniform in (−1, 1), rejected unless 0 < q = x² + y² < 1, then x·f and y·f with f = √(−2 ln q / q).
   * It needs no sin/cos, which makes it about twice as fast as Box–Muller here; this runs for every latent element
   * of every ancestral step, so the generator is also inlined on local variables.
   */
  fill(out: Float32Array): void {
    let i = 0;
    if (this.spare !== undefined && out.length > 0) {
      out[i++] = this.spare;
      this.spare = undefined;
    }
    let s0 = this.s0;
    let s1 = this.s1;
    let s2 = this.s2;
    let s3 = this.s3;
    const next = () => {
      const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3, 11);
      return result;
    };
    for (; i < out.length; i += 2) {
      let x: number;
      let y: number;
      let q: number;
      do {
        x = next() / 2147483648 - 1;
        y = next() / 2147483648 - 1;
        q = x * x + y * y;
      } while (q >= 1 || q === 0);
      const f = Math.sqrt((-2 * Math.log(q)) / q);
      out[i] = x * f;
      if (i + 1 < out.length) out[i + 1] = y * f;
      else this.spare = y * f;
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A fresh random seed for jobs that did not ask for one (fits A1111's 32-bit seed field). */
export function randomSeed(): number {
  return randomInt(2 ** 32);
}
