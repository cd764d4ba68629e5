/** LCM-distilled UNets: the guidance scale goes in as `timestep_cond`, and each step is one unguided UNet run. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { join } from 'node:path';
import { loadPipeline } from '../index.js';
import type { GenerateParams } from '../index.js';
import { tinyModel } from '../test-support/tiny.js';
import { guidanceScaleEmbedding } from './guidance-embedding.js';

const close = (actual: Float32Array, expected: number[]) => {
  assert.equal(actual.length, expected.length);
  expected.forEach((value, i) =>
    assert.ok(Math.abs(actual[i]! - value) < 1e-6, `[${i}] ${actual[i]} ≠ ${value}`),
  );
};

describe('guidance-scale embedding (diffusers get_guidance_scale_embedding)', () => {
  it('dim 4: w = (8.5 − 1)·1000, frequencies 10000^(−k/1) = 1 and 1e-4', () => {
    close(guidanceScaleEmbedding(8.5, 4), [Math.sin(7500), Math.sin(0.75), Math.cos(7500), Math.cos(0.75)]);
  });

  it('dim 6: frequencies 1, 10000^(−1/2) = 0.01, 1e-4; w = 1000 for guidance 2', () => {
    close(guidanceScaleEmbedding(2, 6), [
      Math.sin(1000),
      Math.sin(10),
      Math.sin(0.1),
      Math.cos(1000),
      Math.cos(10),
      Math.cos(0.1),
    ]);
  });

  it('odd dim is zero-padded; guidance 1 gives w = 0: sines 0, cosines 1', () => {
    close(guidanceScaleEmbedding(1, 5), [0, 0, 1, 1, 0]);
  });

  it('dim 256 (LCM UNets): first and last frequencies', () => {
    const e = guidanceScaleEmbedding(8, 256);
    const last = 7000 * Math.pow(10000, -127 / 127);
    close(e.subarray(0, 1), [Math.sin(7000)]);
    close(e.subarray(127, 129), [Math.sin(last), Math.cos(7000)]);
    close(e.subarray(255), [Math.cos(last)]);
  });
});

describe('LCM UNet (timestep_cond)', () => {
  const base: GenerateParams = {
    prompt: 'a photo of a cat',
    width: 64,
    height: 64,
    steps: 4,
    guidanceScale: 8,
    sampler: 'lcm',
    seed: 11,
  };

  it('the tiny LCM UNet has the Optimum input timestep_cond [batch_size, 256]', async () => {
    const session = await ort.InferenceSession.create(
      join(await tinyModel({ lcm: true }), 'unet/model.onnx'),
    );
    try {
      const meta = session.inputMetadata.find((m) => m.name === 'timestep_cond');
      assert.ok(meta?.isTensor);
      assert.deepEqual([meta.type, meta.shape], ['float32', ['batch_size', 256]]);
    } finally {
      await session.release();
    }
  });

  it('feeds the embedding, runs one pass per step: the negative prompt has no effect, the scale has', async () => {
    const p = await loadPipeline(await tinyModel({ lcm: true }));
    try {
      assert.equal(p.info.guidanceEmbeddingDim, 256);
      const a = await p.generate(base);
      assert.equal(a.timings.steps.length, 4);
      assert.ok((await p.generate(base)).png.equals(a.png), 'reproducible');
      // Pixels, not PNG bytes: the negative prompt is written into the parameters chunk.
      const pixels = async (png: Buffer) => sharp(png).raw().toBuffer();
      const negative = await p.generate({ ...base, negativePrompt: 'a red dog' });
      assert.ok((await pixels(negative.png)).equals(await pixels(a.png)), 'no unconditional pass');
      const other = await p.generate({ ...base, guidanceScale: 2 });
      assert.ok(!other.png.equals(a.png), 'the guidance scale reaches the UNet');
    } finally {
      await p.dispose();
    }
  });

  it('fp16 LCM export: the embedding goes in as float16; other UNets report no embedding', async () => {
    const p = await loadPipeline(await tinyModel({ lcm: true, precision: 'float16' }));
    try {
      assert.equal(p.info.precision, 'float16');
      await p.generate({ ...base, sampler: 'euler' });
    } finally {
      await p.dispose();
    }
    const plain = await loadPipeline(await tinyModel());
    assert.equal(plain.info.guidanceEmbeddingDim, undefined);
    await plain.dispose();
  });
});
