/** SDXL folders in Optimum's layout: two text encoders, pooled embeddings and time ids, on the tiny SDXL model. */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { inspectModelFolder, isDiffusionError, loadPipeline } from '../index.js';
import type { GenerateParams } from '../index.js';
import { tinyModel, tinyModelCopy } from '../test-support/tiny.js';
import { signature } from '../test-support/signature.js';

const base: GenerateParams = {
  prompt: 'a photo of a cat',
  width: 64,
  height: 64,
  steps: 4,
  guidanceScale: 7,
  sampler: 'euler',
  seed: 3,
};

const pixels = async (png: Buffer) => sharp(png).raw().toBuffer();

describe('SDXL', () => {
  it('the tiny SDXL folder has the graph interfaces of an Optimum SDXL export', async () => {
    const dir = await tinyModel({ sdxl: true });
    // The tiny position embedding fixes the sequence at 77 (as in the SD tiny model); the UNet keeps it symbolic.
    const seq = 'batch_size,77';
    assert.deepEqual((await signature(join(dir, 'text_encoder/model.onnx'))).outputs, [
      `last_hidden_state:float32[${seq},32]`,
      'pooler_output:float32[batch_size,32]',
      ...[0, 1, 2].map((i) => `hidden_states.${i}:float32[${seq},32]`),
    ]);
    assert.deepEqual((await signature(join(dir, 'text_encoder_2/model.onnx'))).outputs, [
      'text_embeds:float32[batch_size,40]',
      `last_hidden_state:float32[${seq},48]`,
      ...[0, 1, 2].map((i) => `hidden_states.${i}:float32[${seq},48]`),
    ]);
    assert.deepEqual((await signature(join(dir, 'unet/model.onnx'))).inputs, [
      'sample:float32[batch_size,4,height,width]',
      'timestep:int64[steps]',
      'encoder_hidden_states:float32[batch_size,sequence_length,80]',
      'text_embeds:float32[batch_size,40]',
      'time_ids:float32[batch_size,6]',
    ]);
  });

  it('loads as sdxl (hidden 32 + 48, VAE scale 0.13025) and generates reproducibly', async () => {
    const info = await inspectModelFolder(await tinyModel({ sdxl: true }));
    assert.deepEqual([info.architecture, info.forceZerosForEmptyPrompt], ['sdxl', true]);
    assert.ok(
      info.files.includes('text_encoder_2/model.onnx') && info.files.includes('tokenizer_2/vocab.json'),
    );
    const p = await loadPipeline(await tinyModel({ sdxl: true }));
    try {
      assert.deepEqual([p.info.family, p.info.hiddenSize, p.info.scalingFactor], ['sdxl', 80, 0.13025]);
      const a = await p.generate(base);
      assert.ok((await p.generate(base)).png.equals(a.png));
      assert.deepEqual([a.width, a.height], [64, 64]);
      assert.ok(!(await p.generate({ ...base, prompt: 'a red dog' })).png.equals(a.png));
      // An empty negative prompt is zeros (force_zeros_for_empty_prompt), another one is encoded.
      const negative = await p.generate({ ...base, negativePrompt: 'the dog' });
      assert.ok(!(await pixels(negative.png)).equals(await pixels(a.png)));
      // time_ids carry the size: a taller image is not the square one with more rows.
      const tall = await p.generate({ ...base, height: 72 });
      assert.equal((await sharp(tall.png).metadata()).height, 72);
    } finally {
      await p.dispose();
    }
  });

  it('batched and sequential guidance give the same image; fp16 and LCM variants run', async () => {
    const dir = await tinyModel({ sdxl: true });
    const [batched, sequential] = await Promise.all([
      loadPipeline(dir),
      loadPipeline(dir, { guidance: 'sequential' }),
    ]);
    try {
      const params = { ...base, negativePrompt: 'the dog' };
      const [x, y] = [await batched.generate(params), await sequential.generate(params)];
      const [px, py] = [await pixels(x.png), await pixels(y.png)];
      let worst = 0;
      for (let i = 0; i < px.length; i++) worst = Math.max(worst, Math.abs(px[i]! - py[i]!));
      assert.ok(worst <= 1, `largest pixel difference ${worst}`);
    } finally {
      await Promise.all([batched.dispose(), sequential.dispose()]);
    }
    for (const options of [{ precision: 'float16' as const }, { lcm: true }]) {
      const p = await loadPipeline(await tinyModel({ sdxl: true, ...options }));
      try {
        assert.equal(p.info.family, 'sdxl');
        await p.generate({ ...base, sampler: 'lcm' });
      } finally {
        await p.dispose();
      }
    }
  });

  it('a missing text_encoder_2 graph or tokenizer_2 file is named', async () => {
    const dir = await tinyModelCopy({ sdxl: true });
    await rm(join(dir, 'text_encoder_2/model.onnx'));
    await assert.rejects(
      loadPipeline(dir),
      (e) => isDiffusionError(e, 'model_file_missing') && e.file === 'text_encoder_2/model.onnx',
    );
    const other = await tinyModelCopy({ sdxl: true });
    await rm(join(other, 'tokenizer_2/merges.txt'));
    await assert.rejects(
      inspectModelFolder(other),
      (e) => isDiffusionError(e, 'model_file_missing') && e.file === 'tokenizer_2/merges.txt',
    );
  });
});
