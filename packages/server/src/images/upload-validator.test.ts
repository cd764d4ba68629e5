// The upload thread gives exactly what the event loop would: the same stored bytes and hash, the same
// errors with the same codes, the same features for trust/ checks.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { AppError } from '../errors.js';
import { analyseImage } from '../trust/image-analysis.js';
import { inlineUploadValidator, UploadThread } from './upload-validator.js';
import { validateUpload } from './validate-upload.js';

const png = (side: number, pixels: Buffer) =>
  sharp(pixels, { raw: { width: side, height: side, channels: 3 } })
    .png()
    .toBuffer();
function smooth(side: number): Buffer {
  const px = Buffer.alloc(side * side * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i >> 4) & 255;
  return px;
}

describe('uploads validated on a thread of their own', () => {
  const thread = new UploadThread();
  after(() => thread.close());

  test('the same stored bytes, hash and features as on the event loop, small and large', async () => {
    for (const [side, pixels] of [
      [64, randomBytes(64 * 64 * 3)],
      [64, smooth(64)],
      [256, randomBytes(256 * 256 * 3)],
      [256, smooth(256)],
    ] as const) {
      const upload = await png(side, pixels);
      const options = { parameters: 'a prompt\nSteps: 1', analyse: true };
      const inline = await inlineUploadValidator.validate(
        Buffer.from(upload),
        { width: side, height: side },
        options,
      );
      const threaded = await thread.validate(Buffer.from(upload), { width: side, height: side }, options);
      assert.ok(threaded.png.equals(inline.png), `${side}×${side}: the same bytes`);
      assert.equal(threaded.sha256, inline.sha256);
      assert.deepEqual([threaded.width, threaded.height], [side, side]);
      assert.deepEqual(threaded.features, await analyseImage(inline.png));
    }
  });

  test('grey pictures (with or without alpha, 8 or 16 bits) are analysed from the decoded pixels, as RGB', async () => {
    // Both decoders hand back three channels for them (sharp converts to sRGB, plain-png.ts expands), so
    // upload-analysis.ts's fallback to the stored PNG is not taken; the features are those of the stored
    // picture either way.
    for (const side of [64, 256]) {
      const noise = sharp({
        create: {
          width: side,
          height: side,
          channels: 3,
          background: { r: 0, g: 0, b: 0 },
          noise: { type: 'gaussian', mean: 128, sigma: 30 },
        },
      });
      for (const grey of [
        await noise.clone().toColourspace('b-w').png().toBuffer(),
        await noise.clone().toColourspace('b-w').ensureAlpha(0.5).png().toBuffer(),
        await noise.clone().toColourspace('grey16').png().toBuffer(),
      ]) {
        const decoded = await validateUpload(grey, { width: side, height: side }, undefined, {
          keepPixels: true,
        });
        assert.equal(decoded.pixels?.channels, 3, 'decoded as three channels');
        const image = await thread.validate(grey, { width: side, height: side }, { analyse: true });
        assert.equal((await sharp(image.png).metadata()).channels, 3, 'stored as RGB');
        assert.deepEqual(image.features, await analyseImage(image.png));
      }
    }
  });

  test('features only when asked', async () => {
    const upload = await png(64, smooth(64));
    const image = await thread.validate(upload, { width: 64, height: 64 });
    assert.equal(image.features, undefined);
  });

  test('the upload is moved to the thread, not copied, when the buffer is its own', async () => {
    // Noise: ~12 KB, above the size Node takes small buffers from a shared pool at.
    const upload = Buffer.from(await png(64, randomBytes(64 * 64 * 3)));
    assert.equal(upload.byteLength, upload.buffer.byteLength);
    await thread.validate(upload, { width: 64, height: 64 });
    assert.equal(upload.byteLength, 0, 'detached: it now belongs to the thread');
  });

  test('errors keep their codes and messages; the thread goes on', async () => {
    const good = await png(64, smooth(64));
    const cases: [Buffer, { width: number; height: number }, string][] = [
      [Buffer.from('hello, I am text'), { width: 64, height: 64 }, 'invalid_image'],
      [good, { width: 32, height: 32 }, 'image_too_large'],
      [good, { width: 128, height: 32 }, 'wrong_image_size'],
      [good.subarray(0, good.length - 30), { width: 64, height: 64 }, 'invalid_image'],
    ];
    for (const [upload, expected, code] of cases) {
      const inline = await inlineUploadValidator.validate(upload, expected).catch((e: unknown) => e);
      const threaded = await thread.validate(Buffer.from(upload), expected).catch((e: unknown) => e);
      assert.ok(threaded instanceof AppError && inline instanceof AppError, String(threaded));
      assert.equal(threaded.code, code);
      assert.equal(threaded.message, inline.message);
    }
    assert.ok((await thread.validate(good, { width: 64, height: 64 })).png.length > 0);
  });

  test('after close, the next upload starts a new thread', async () => {
    const other = new UploadThread();
    const upload = await png(64, smooth(64));
    const first = await other.validate(Buffer.from(upload), { width: 64, height: 64 });
    await other.close();
    const second = await other.validate(Buffer.from(upload), { width: 64, height: 64 });
    assert.equal(second.sha256, first.sha256);
    await other.close();
  });
});
