// The image statistics and hashes behind the checks, and the reputation rules, as plain functions.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import sharp from 'sharp';
import { analyseImage, analyseRaw, areaDownscale, hammingDistance, hashBands } from './image-analysis.js';
import { THRESHOLDS } from './thresholds.js';
import { nextState, replicationChance, type TrustPolicy } from './policy.js';
import { honestPng } from './testing.js';

const raw = (width: number, height: number, pixel: (x: number, y: number) => [number, number, number]) => {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * 3);
  return data;
};

describe('image analysis', () => {
  test('a solid image has no spread; a gradient has plenty and neighbours that agree; noise has neither', () => {
    const solid = analyseRaw(
      raw(64, 64, () => [30, 60, 90]),
      64,
      64,
      3,
    );
    assert.equal(solid.spread, 0);
    assert.equal(solid.correlation, 1);
    const gradient = analyseRaw(
      raw(64, 64, (x, y) => [x * 4, y * 4, 128]),
      64,
      64,
      3,
    );
    assert.ok(gradient.spread > 50, String(gradient.spread));
    assert.ok(gradient.correlation > 0.95, String(gradient.correlation));
    const noise = analyseRaw(randomBytes(128 * 128 * 3), 128, 128, 3);
    assert.ok(noise.spread > THRESHOLDS.blankSpread);
    assert.ok(Math.abs(noise.correlation) < 0.1, String(noise.correlation));
  });

  test('the pixel hash ignores the encoding; the perceptual hash barely moves under a brightness change', async () => {
    const png = await honestPng({ seed: 3, width: 96, height: 64 });
    const recoded = await sharp(png).png({ compressionLevel: 9 }).withMetadata().toBuffer();
    const a = await analyseImage(png);
    const b = await analyseImage(recoded);
    assert.notDeepEqual(png, recoded);
    assert.equal(a.pixelSha256, b.pixelSha256);
    const brighter = await analyseImage(await sharp(png).linear(1, 2).png().toBuffer());
    assert.notEqual(brighter.pixelSha256, a.pixelSha256);
    assert.ok(hammingDistance(a.phash, brighter.phash) <= THRESHOLDS.agreeDistance);
    const other = await analyseImage(await honestPng({ seed: 4, width: 96, height: 64 }));
    assert.ok(hammingDistance(a.phash, other.phash) > THRESHOLDS.replayDistance);
  });

  test('Hamming distance counts differing bits; any hash within 7 bits shares a band within one bit', () => {
    assert.equal(hammingDistance('0000000000000000', 'ffffffffffffffff'), 64);
    assert.equal(hammingDistance('00000000000000f1', '0000000000000010'), 4);
    assert.throws(() => hammingDistance('00', '000'));
    for (let trial = 0; trial < 500; trial++) {
      const a = randomBytes(8).toString('hex');
      const bits = BigInt(`0x${a}`);
      let flipped = bits;
      const flips = randomInt(0, 8);
      const chosen = new Set<number>();
      while (chosen.size < flips) chosen.add(randomInt(0, 64));
      for (const bit of chosen) flipped ^= 1n << BigInt(bit);
      const b = flipped.toString(16).padStart(16, '0');
      assert.equal(hammingDistance(a, b), flips);
      const [ba, bb] = [hashBands(a), hashBands(b)];
      const close = ba.some(
        (v, i) => hammingDistance(v.toString(16).padStart(4, '0'), bb[i]!.toString(16).padStart(4, '0')) <= 1,
      );
      assert.ok(close, `${a} ${b}`);
    }
  });
});

describe('reputation rules', () => {
  const policy: TrustPolicy = {
    minReplication: 0.05,
    verifiedToTrust: 5,
    probationStrikes: 2,
    suspendStrikes: 4,
    strikeDecayResults: 10,
  };

  test('replication: every result while new or on probation, then k / v down to the floor', () => {
    assert.equal(replicationChance({ state: 'new', streak: 50 }, policy), 1);
    assert.equal(replicationChance({ state: 'probation', streak: 50 }, policy), 1);
    assert.equal(replicationChance({ state: 'suspended', streak: 0 }, policy), 0);
    assert.equal(replicationChance({ state: 'trusted', streak: 5 }, policy), 1);
    assert.equal(replicationChance({ state: 'trusted', streak: 10 }, policy), 0.5);
    assert.equal(replicationChance({ state: 'trusted', streak: 50 }, policy), 0.1);
    assert.equal(replicationChance({ state: 'trusted', streak: 1000 }, policy), 0.05);
  });

  test('states: strikes lead to probation and suspension; a clean verified record to trust', () => {
    const at = (state: 'new' | 'trusted' | 'probation' | 'suspended', strikes: number, streak: number) =>
      nextState({ state, strikes, streak }, policy, 'cause')?.to;
    assert.equal(at('new', 0, 4), undefined);
    assert.equal(at('new', 0, 5), 'trusted');
    assert.equal(at('new', 1, 9), undefined, 'not trusted while a strike remains');
    assert.equal(at('trusted', 1, 0), undefined);
    assert.equal(at('trusted', 2, 0), 'probation');
    assert.equal(at('new', 2, 0), 'probation');
    assert.equal(at('probation', 3, 0), undefined);
    assert.equal(at('probation', 0, 5), 'trusted');
    assert.equal(at('probation', 4, 0), 'suspended');
    assert.equal(at('suspended', 0, 100), undefined, 'suspension is not undone by counters');
  });
});

describe('area means of one channel of interleaved pixels', () => {
  test('are the means of that channel copied out, to the last bit', () => {
    for (const [w, h, channels, tw, th] of [
      [512, 512, 3, 32, 32],
      [100, 37, 4, 32, 32],
      [7, 5, 3, 9, 8],
      [513, 511, 3, 7, 7],
    ] as const) {
      const data = randomBytes(w * h * channels);
      for (let c = 0; c < 3; c++) {
        const copied = new Float64Array(w * h);
        for (let i = 0; i < copied.length; i++) copied[i] = data[i * channels + c]!;
        assert.deepEqual(
          areaDownscale(data, w, h, tw, th, channels, c),
          areaDownscale(copied, w, h, tw, th),
          `${w}×${h}×${channels}, channel ${c}`,
        );
      }
    }
  });
});
