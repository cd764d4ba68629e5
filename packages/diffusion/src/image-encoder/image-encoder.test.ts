/**
 * CLIP image preprocessing against values computed independently (PIL's bicubic resampling written out in
 * test-support/pil-bicubic.ts, transformers' crop and normalisation by hand), and the tiny image encoder.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import {
  CLIP_MEAN,
  CLIP_STD,
  TINY_PREPROCESSOR_CONFIG,
  isDiffusionError,
  loadImageEncoder,
  parsePreprocessorConfig,
  preprocessImage,
  resizedSize,
} from '../index.js';
import { pilBicubic } from '../test-support/pil-bicubic.js';
import { tinyModel, tinyModelCopy } from '../test-support/tiny.js';

const clip = parsePreprocessorConfig(TINY_PREPROCESSOR_CONFIG);

function pattern(width: number, height: number, phase = 0): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      rgb[i] = Math.floor((x * 255) / width);
      rgb[i + 1] = Math.floor((y * 255) / height);
      rgb[i + 2] = Math.round(128 + 100 * Math.sin(x / 7 + phase) * Math.cos(y / 11));
    }
  }
  return rgb;
}

const png = (rgb: Uint8Array, width: number, height: number) =>
  sharp(rgb, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();

/** transformers: resize (PIL bicubic), crop at ⌊(size − 224)/2⌋, (v/255 − mean)/std, CHW. */
function reference(rgb: Uint8Array, width: number, height: number): Float32Array {
  const short = Math.min(width, height);
  const ow = width <= height ? 224 : Math.trunc((224 * width) / short);
  const oh = width <= height ? Math.trunc((224 * height) / short) : 224;
  const resized = pilBicubic(rgb, width, height, ow, oh);
  const left = Math.floor((ow - 224) / 2);
  const top = Math.floor((oh - 224) / 2);
  const out = new Float32Array(3 * 224 * 224);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < 224; y++)
      for (let x = 0; x < 224; x++) {
        const v = resized[((top + y) * ow + left + x) * 3 + c]!;
        out[c * 224 * 224 + y * 224 + x] = (v / 255 - CLIP_MEAN[c]!) / CLIP_STD[c]!;
      }
  return out;
}

describe('CLIP image preprocessing', () => {
  it('reads both spellings of CLIPImageProcessor configs and refuses bad ones', () => {
    assert.deepEqual(clip.resize, { shortestEdge: 224 });
    assert.deepEqual(clip.crop, { height: 224, width: 224 });
    assert.equal(clip.kernel, 'cubic');
    const old = parsePreprocessorConfig({ size: 224, crop_size: 224, resample: 3, do_center_crop: true });
    assert.deepEqual([old.resize, old.crop, old.rescaleFactor], [clip.resize, clip.crop, 1 / 255]);
    assert.deepEqual(old.normalize, { mean: CLIP_MEAN, std: CLIP_STD });
    for (const bad of [
      { size: -1 },
      { resample: 9 },
      { image_std: [1, 0, 1] },
      { crop_size: { shortest_edge: 5 } },
    ]) {
      assert.throws(
        () => parsePreprocessorConfig(bad),
        (e: unknown) =>
          isDiffusionError(e, 'model_file_malformed') && e.file === 'image_encoder/preprocessor_config.json',
      );
    }
  });

  it('resizes the shortest side to 224 and truncates the other, as transformers does', () => {
    assert.deepEqual(resizedSize(clip, 512, 768), { width: 224, height: 336 });
    assert.deepEqual(resizedSize(clip, 768, 513), { width: 335, height: 224 });
    assert.deepEqual(resizedSize(clip, 64, 64), { width: 224, height: 224 });
  });

  it('a flat colour becomes exactly (v/255 − mean)/std in every pixel', async () => {
    const rgb = new Uint8Array(96 * 64 * 3);
    for (let i = 0; i < rgb.length; i += 3) rgb.set([200, 17, 99], i);
    const { pixels, width, height } = await preprocessImage(await png(rgb, 96, 64), clip);
    assert.deepEqual([width, height, pixels.length], [224, 224, 3 * 224 * 224]);
    for (let c = 0; c < 3; c++) {
      const want = ([200, 17, 99][c]! / 255 - CLIP_MEAN[c]!) / CLIP_STD[c]!;
      for (let p = 0; p < 224 * 224; p += 997) {
        assert.ok(Math.abs(pixels[c * 224 * 224 + p]! - want) < 1e-5, `channel ${c} pixel ${p}`);
      }
    }
  });

  for (const [width, height] of [
    [512, 512],
    [160, 96],
    [96, 200],
    [64, 64],
  ] as const) {
    it(`matches PIL bicubic + center crop + normalise within 4/255 (${width}×${height})`, async () => {
      const rgb = pattern(width, height);
      const { pixels } = await preprocessImage(await png(rgb, width, height), clip);
      const want = reference(rgb, width, height);
      let worst = 0;
      let total = 0;
      for (let i = 0; i < want.length; i++) {
        const std = CLIP_STD[Math.floor(i / (224 * 224))]!;
        // Back in 8-bit levels: sharp's Catmull-Rom and PIL's bicubic differ only by rounding.
        const levels = Math.abs(pixels[i]! - want[i]!) * std * 255;
        worst = Math.max(worst, levels);
        total += levels;
      }
      assert.ok(worst <= 4.01, `largest difference ${worst.toFixed(2)} levels`);
      assert.ok(total / want.length < 1, `mean difference ${(total / want.length).toFixed(3)} levels`);
    });
  }
});

describe('image encoder', () => {
  it('a folder without image_encoder/ has no encoder', async () => {
    assert.equal(await loadImageEncoder(await tinyModel()), undefined);
  });

  for (const precision of ['float32', 'float16'] as const) {
    it(`embeds generated images as unit vectors of the declared width (${precision})`, async () => {
      const encoder = await loadImageEncoder(await tinyModel({ imageEncoderDim: 24, precision }));
      assert.ok(encoder);
      try {
        assert.equal(encoder.dim, 24);
        const a = await encoder.embed(await png(pattern(64, 64), 64, 64));
        const again = await encoder.embed(await png(pattern(64, 64), 64, 64));
        const b = await encoder.embed(await png(pattern(64, 64, 2), 64, 64));
        assert.equal(a.length, 24);
        assert.ok(Math.abs(Math.hypot(...a) - 1) < 1e-5);
        assert.deepEqual(a, again);
        const cosine = a.reduce((s, v, i) => s + v * b[i]!, 0);
        assert.ok(cosine < 0.9999, `different images embed differently (cosine ${cosine})`);
      } finally {
        await encoder.dispose();
      }
    });
  }

  it('refuses a preprocessor that crops to another size than the graph takes, naming the file', async () => {
    const dir = await tinyModelCopy({ imageEncoderDim: 8 });
    await writeFile(
      join(dir, 'image_encoder/preprocessor_config.json'),
      JSON.stringify({ ...TINY_PREPROCESSOR_CONFIG, crop_size: { height: 256, width: 256 } }),
    );
    await assert.rejects(
      loadImageEncoder(dir),
      (e: unknown) => isDiffusionError(e, 'model_file_malformed') && e.file === 'image_encoder/model.onnx',
    );
  });
});
