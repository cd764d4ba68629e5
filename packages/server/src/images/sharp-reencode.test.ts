import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { reencodeWithSharp } from './sharp-reencode.js';
import { validateUpload } from './validate-upload.js';

const SIDE = 256;
const RAW_BYTES = SIDE * SIDE * 3;

const noisePixels = () => randomBytes(RAW_BYTES);
/** Smooth colour ramps that change every other pixel: level 1 without filters roughly halves them. */
function gradientPixels(): Buffer {
  const px = Buffer.alloc(RAW_BYTES);
  for (let y = 0; y < SIDE; y++)
    for (let x = 0; x < SIDE; x++) px.set([x >> 1, y >> 1, (x + y) >> 2], (y * SIDE + x) * 3);
  return px;
}
const png = (pixels: Buffer, compressionLevel: number) =>
  sharp(pixels, { raw: { width: SIDE, height: SIDE, channels: 3 } })
    .png({ compressionLevel, adaptiveFiltering: false })
    .toBuffer();
const rgb = async (p: Buffer) => (await sharp(p).removeAlpha().raw().toBuffer()).toString('base64');

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
