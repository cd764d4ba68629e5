import { test } from 'node:test';
import assert from 'node:assert/strict';
import { float16ToFloat32, float32ToFloat16 } from './index.js';

test('float16 edge cases encode to the IEEE bit patterns', () => {
  const cases: Array<[number, number]> = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff], // largest finite half
    [65519.99, 0x7bff], // just below the rounding boundary to infinity
    [65520, 0x7c00], // halfway to 2^16 rounds (to even) to infinity
    [1e6, 0x7c00],
    [-1e6, 0xfc00],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // exactly half the smallest subnormal: ties to even (zero)
    [1.5 * 2 ** -25, 0x0001],
    [3 * 2 ** -25, 0x0002], // 1.5 subnormal units: ties to even (2)
    [1 + 2 ** -11, 0x3c00], // tie between 1 and 1+2^-10: to even (1)
    [1 + 3 * 2 ** -11, 0x3c02], // tie between 1+2^-10 and 1+2^-9: to even (1+2^-9)
    [2 ** -14 - 2 ** -25, 0x0400], // largest subnormal + half a unit rounds up into the normals
    [1e-10, 0x0000],
    [0.1, 0x2e66],
  ];
  for (const [value, bits] of cases) {
    assert.equal(float32ToFloat16(value), bits, `${value} → 0x${bits.toString(16)}`);
  }
  assert.equal(float32ToFloat16(NaN) & 0x7c00, 0x7c00);
  assert.notEqual(float32ToFloat16(NaN) & 0x03ff, 0, 'NaN must stay NaN, not become infinity');
  assert.ok(Number.isNaN(float16ToFloat32(0x7e00)));
  assert.equal(float16ToFloat32(0x0001), 2 ** -24);
  assert.equal(float16ToFloat32(0x7bff), 65504);
  assert.equal(float16ToFloat32(0xfc00), -Infinity);
  assert.ok(Object.is(float16ToFloat32(0x8000), -0));
});

test('every float16 value round-trips, and midpoints between neighbours round to even', () => {
  for (let h = 0; h < 0x10000; h++) {
    const exponent = (h >> 10) & 0x1f;
    if (exponent === 31 && (h & 0x3ff) !== 0) continue; // NaN payloads are not preserved bit-for-bit
    const value = float16ToFloat32(h);
    assert.equal(float32ToFloat16(value), h);
    // The midpoint to the next larger magnitude (exactly representable in float32) rounds to the even one.
    if ((h & 0x7fff) < 0x7bff) {
      const next = h + 1;
      const mid = (value + float16ToFloat32(next)) / 2;
      const even = (h & 1) === 0 ? h : next;
      assert.equal(float32ToFloat16(mid), even, `midpoint after 0x${h.toString(16)}`);
    }
  }
});
