import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { float32ToHalf, halfToFloat32, SeededRandom } from './index.js';

function draw(seed: number, stream: number, n = 8): number[] {
  const out = new Float32Array(n);
  new SeededRandom(seed, stream).fill(out);
  return [...out];
}

describe('seeded noise', () => {
  it('reproduces a sequence from its seed and stream, and differs across seeds and streams', () => {
    assert.deepEqual(draw(42, 0), draw(42, 0));
    assert.notDeepEqual(draw(42, 0), draw(43, 0));
    assert.notDeepEqual(draw(42, 0), draw(42, 1));
    // Seeds above 2^32 are distinct from their low 32 bits.
    assert.notDeepEqual(draw(2 ** 32 + 5, 0), draw(5, 0));
  });

  it('draws standard normals (mean ≈ 0, variance ≈ 1, tails present)', () => {
    const n = 200_000;
    const values = new Float32Array(n);
    new SeededRandom(1).fill(values);
    const mean = values.reduce((a, b) => a + b, 0) / n;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    // Standard errors: mean 0.0022, variance 0.0032; bounds are ~5 standard errors.
    assert.ok(Math.abs(mean) < 0.012, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.016, `variance ${variance}`);
    const beyond3 = values.filter((v) => Math.abs(v) > 3).length / n;
    assert.ok(beyond3 > 0.0015 && beyond3 < 0.004, `P(|z|>3) ${beyond3} (expected 0.0027)`);
  });
});

describe('float16 conversion', () => {
  it('encodes known bit patterns with round-to-nearest-even', () => {
    const cases: Array<[number, number]> = [
      [1, 0x3c00],
      [-2, 0xc000],
      [0.1, 0x2e66],
      [65504, 0x7bff],
      [65520, 0x7c00], // halfway to the next (nonexistent) value rounds to Infinity
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // halfway between 0 and 2^-24: ties to even (0)
      [1 + 2 ** -11, 0x3c00], // tie between 1 and 1+2^-10: even mantissa wins
      [1 + 3 * 2 ** -11, 0x3c02], // tie between 1+2^-10 and 1+2^-9: even wins
      [Infinity, 0x7c00],
      [-0, 0x8000],
    ];
    const bits = float32ToHalf(cases.map(([v]) => v));
    cases.forEach(([value, expected], i) =>
      assert.equal(bits[i], expected, `${value} → 0x${bits[i]!.toString(16)}`),
    );
    assert.ok(Number.isNaN(halfToFloat32(float32ToHalf([NaN]))[0]));
  });

  it('round-trips every finite half value exactly', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i).filter((b) => (b & 0x7c00) !== 0x7c00);
    assert.deepEqual(float32ToHalf(halfToFloat32(all)), all);
  });
});
