import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { levelFor, uploadShowsCompressible } from './deflate-level.js';
import { reencodeWithSharp } from './sharp-reencode.js';
import { PLAIN_CODEC_MAX_PIXELS, validateUpload } from './validate-upload.js';

const SIDE = 256;
const RAW_BYTES = SIDE * SIDE * 3;

const noisePixels = (side = SIDE) => randomBytes(side * side * 3);
/** Smooth colour ramps that change every other pixel: level 1 without filters roughly halves them. */
function gradientPixels(side = SIDE): Buffer {
  const px = Buffer.alloc(side * side * 3);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) px.set([x >> 1, y >> 1, (x + y) >> 2], (y * side + x) * 3);
  return px;
}
const png = (pixels: Buffer, compressionLevel: number, side = SIDE) =>
  sharp(pixels, { raw: { width: side, height: side, channels: 3 } })
    .png({ compressionLevel, adaptiveFiltering: false })
    .toBuffer();

const rgb = async (p: Buffer) => (await sharp(p).removeAlpha().raw().toBuffer()).toString('base64');

describe('the zlib level decision', () => {
  test('noise is stored, smooth pixels deflated: sampled as bare rows or as PNG scanlines', () => {
    const side = 64;
    const scanlines = (pixels: Buffer) =>
      Buffer.concat(
        Array.from({ length: side }, (_, y) => [
          Buffer.from([0]),
          pixels.subarray(y * side * 3, (y + 1) * side * 3),
        ]).flat(),
      );
    assert.equal(levelFor(noisePixels(side), side * 3, false), 0);
    assert.equal(levelFor(scanlines(noisePixels(side)), side * 3 + 1, true), 0);
    assert.equal(levelFor(gradientPixels(side), side * 3, false), 1);
    assert.equal(levelFor(scanlines(gradientPixels(side)), side * 3 + 1, true), 1);
  });

  test('only an upload shrunk below 90 % of the raw pixels proves they compress', () => {
    assert.equal(uploadShowsCompressible(0.89 * 300, 100), true);
    assert.equal(uploadShowsCompressible(0.9 * 300, 100), false);
    assert.equal(uploadShowsCompressible(400, 100), false);
  });

  test('small uploads (the plain codec) follow the pixels too', async () => {
    const side = 64;
    assert.ok(side * side <= PLAIN_CODEC_MAX_PIXELS);
    const raw = side * side * 3;
    // A smooth picture uploaded uncompressed is stored compressed.
    const smooth = await png(gradientPixels(side), 0, side);
    assert.equal(uploadShowsCompressible(smooth.length, side * side), false);
    const out = await validateUpload(smooth, { width: side, height: side });
    assert.ok(out.png.length < 0.7 * raw, `${out.png.length} bytes`);
    assert.equal(await rgb(out.png), await rgb(smooth));
    // Noise comes back as the same pixels, no larger than stored.
    const noisy = await png(noisePixels(side), 6, side);
    const stored = await validateUpload(noisy, { width: side, height: side });
    assert.ok(stored.png.length < raw + side + 200, `${stored.png.length} bytes`);
    assert.equal(await rgb(stored.png), await rgb(noisy));
  });
});

describe('re-encoding large uploads: zlib effort by what the pixels allow', () => {
  test('pixels deflate cannot shrink are stored, smaller and the same picture', async () => {
    const pixels = noisePixels();
    for (const uploaded of [await png(pixels, 6), await png(pixels, 0)]) {
      const out = await reencodeWithSharp(uploaded, SIDE, SIDE);
      assert.equal(out.level, 0);
      // Stored deflate blocks: the raw rows (a filter byte each) plus a few bytes per 64 KB block.
      assert.ok(out.png.length < RAW_BYTES + SIDE + 1024, `${out.png.length} bytes`);
      const level1 = await sharp(uploaded).png({ compressionLevel: 1, adaptiveFiltering: false }).toBuffer();
      assert.ok(out.png.length < level1.length, 'level 1 would have written more bytes');
      assert.equal(await rgb(out.png), await rgb(uploaded));
    }
  });

  test('compressible pixels are deflated, whether or not the worker compressed its upload', async () => {
    const pixels = gradientPixels();
    const compressed = await png(pixels, 6);
    const stored = await png(pixels, 0);
    assert.ok(stored.length > RAW_BYTES, 'the uncompressed upload is as large as the pixels');
    for (const uploaded of [compressed, stored]) {
      const out = await reencodeWithSharp(uploaded, SIDE, SIDE);
      assert.equal(out.level, 1);
      assert.ok(out.png.length < 0.7 * RAW_BYTES, `${out.png.length} bytes`);
      assert.equal(await rgb(out.png), await rgb(uploaded));
    }
  });

  test('through validateUpload: the same checks on both paths (size, truncation)', async () => {
    const noisy = await png(noisePixels(), 0);
    const out = await validateUpload(noisy, { width: SIDE, height: SIDE }, 'a prompt\nSteps: 1');
    assert.equal(await rgb(out.png), await rgb(noisy));
    await assert.rejects(
      validateUpload(noisy.subarray(0, Math.floor(noisy.length * 0.6)), { width: SIDE, height: SIDE }),
      /could not be decoded/,
    );
    await assert.rejects(validateUpload(noisy, { width: SIDE, height: SIDE / 2 }), /allows|asked for/);
  });
});
