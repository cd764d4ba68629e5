/** The whole pipeline on tiny random-weight models in the Optimum layout, through the exported API. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { isDiffusionError, loadPipeline, readPngParameters, SAMPLER_NAMES } from '../index.js';
import type { GenerateParams, Pipeline } from '../index.js';
import { tinyModel } from '../test-support/tiny.js';

const base: GenerateParams = {
  prompt: 'a photo of a cat',
  negativePrompt: 'a dog',
  width: 64,
  height: 48,
  steps: 4,
  guidanceScale: 7,
  sampler: 'euler',
  seed: 1234,
};

async function rawPixels(png: Buffer): Promise<Buffer> {
  return sharp(png).raw().toBuffer();
}

describe('pipeline on the tiny model', () => {
  let pipeline: Pipeline;
  before(async () => {
    pipeline = await loadPipeline(await tinyModel());
  });
  after(() => pipeline.dispose());

  it('describes the loaded model', () => {
    assert.equal(pipeline.info.precision, 'float32');
    assert.equal(pipeline.info.timestepType, 'int64');
    assert.equal(pipeline.info.guidance, 'batched');
    assert.equal(pipeline.info.provider, 'cpu');
    assert.equal(pipeline.info.img2img, true);
    assert.equal(pipeline.info.hiddenSize, 32);
    assert.equal(pipeline.modelId, 'tiny-sd');
  });

  it('same seed → identical PNG bytes; another seed → a different image', async () => {
    const a = await pipeline.generate(base);
    const b = await pipeline.generate(base);
    const c = await pipeline.generate({ ...base, seed: 1235 });
    assert.equal(a.seed, 1234);
    assert.ok(a.png.equals(b.png));
    assert.ok(!(await rawPixels(a.png)).equals(await rawPixels(c.png)));
    // A second pipeline on the same folder reproduces it too.
    const again = await loadPipeline(await tinyModel());
    try {
      assert.ok((await again.generate(base)).png.equals(a.png));
    } finally {
      await again.dispose();
    }
  });

  it('writes a PNG of the requested size with the A1111 parameters chunk', async () => {
    const result = await pipeline.generate(base);
    const meta = await sharp(result.png).metadata();
    assert.equal(meta.format, 'png');
    assert.equal(meta.width, 64);
    assert.equal(meta.height, 48);
    assert.equal(
      result.parameters,
      'a photo of a cat\nNegative prompt: a dog\n' +
        'Steps: 4, Sampler: euler, CFG scale: 7, Seed: 1234, Size: 64x48, Model: tiny-sd',
    );
    const parsed = readPngParameters(result.png);
    assert.equal(parsed?.prompt, 'a photo of a cat');
    assert.equal(parsed?.negativePrompt, 'a dog');
    assert.equal(parsed?.seed, 1234);
  });

  it('runs every sampler, each to a different image', async () => {
    const images = new Set<string>();
    for (const sampler of SAMPLER_NAMES) {
      const result = await pipeline.generate({ ...base, sampler });
      assert.equal(result.timings.steps.length, 4, sampler);
      images.add((await rawPixels(result.png)).toString('base64'));
    }
    assert.equal(images.size, SAMPLER_NAMES.length);
  });

  it('negative prompt and guidance scale change the image', async () => {
    const pixels = async (params: Partial<GenerateParams>) =>
      rawPixels((await pipeline.generate({ ...base, ...params })).png);
    const reference = await pixels({});
    assert.ok(!reference.equals(await pixels({ negativePrompt: 'the red cat' })));
    assert.ok(!reference.equals(await pixels({ guidanceScale: 2 })));
    // Guidance ≤ 1 runs the prompt alone: the negative prompt no longer matters.
    assert.ok(
      (await pixels({ guidanceScale: 1 })).equals(await pixels({ guidanceScale: 1, negativePrompt: 'x' })),
    );
  });

  it('reports progress per step and splits timings into ONNX Runtime and overhead', async () => {
    const seen: Array<[number, number]> = [];
    const result = await pipeline.generate(
      { ...base, steps: 5 },
      { onProgress: (s, n) => void seen.push([s, n]) },
    );
    assert.deepEqual(seen, [
      [1, 5],
      [2, 5],
      [3, 5],
      [4, 5],
      [5, 5],
    ]);
    const t = result.timings;
    assert.equal(t.steps.length, 5);
    assert.ok(t.onnx.unetMs > 0 && t.onnx.textEncoderMs > 0 && t.onnx.vaeDecoderMs > 0);
    assert.ok(Math.abs(t.onnx.totalMs + t.overhead.totalMs - t.totalMs) < 1e-6);
    assert.ok(t.timeToFirstStepMs > 0 && t.timeToFirstStepMs < t.totalMs);
  });

  it('stops between steps when the signal aborts, with code cancelled', async () => {
    const controller = new AbortController();
    let calls = 0;
    await assert.rejects(
      pipeline.generate(
        { ...base, steps: 6 },
        {
          signal: controller.signal,
          onProgress: (step) => {
            calls++;
            if (step === 2) controller.abort();
          },
        },
      ),
      (error) => isDiffusionError(error, 'cancelled'),
    );
    assert.equal(calls, 2);
    await assert.rejects(pipeline.generate(base, { signal: AbortSignal.abort() }), (error) =>
      isDiffusionError(error, 'cancelled'),
    );
  });

  it('rejects sizes that are not multiples of 8 and other bad parameters', async () => {
    await assert.rejects(
      pipeline.generate({ ...base, width: 60 }),
      (error) =>
        isDiffusionError(error, 'invalid_params') &&
        /width must be a positive multiple of 8/.test(error.message),
    );
    await assert.rejects(pipeline.generate({ ...base, height: 0 }), (e) =>
      isDiffusionError(e, 'invalid_params'),
    );
    await assert.rejects(pipeline.generate({ ...base, steps: 0 }), (e) =>
      isDiffusionError(e, 'invalid_params'),
    );
    await assert.rejects(pipeline.generate({ ...base, seed: -1 }), (e) =>
      isDiffusionError(e, 'invalid_params'),
    );
    await assert.rejects(pipeline.generate({ ...base, sampler: 'plms' as GenerateParams['sampler'] }), (e) =>
      isDiffusionError(e, 'unknown_sampler'),
    );
  });

  it('picks and returns a seed when none is given', async () => {
    const { seed, png } = await pipeline.generate({ ...base, seed: undefined });
    assert.ok(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32);
    assert.ok((await pipeline.generate({ ...base, seed })).png.equals(png));
  });
});

describe('guidance modes', () => {
  it('sequential guidance gives the same image as batched', async () => {
    const dir = await tinyModel();
    const batched = await loadPipeline(dir, { guidance: 'batched' });
    const sequential = await loadPipeline(dir, { guidance: 'sequential' });
    try {
      assert.equal(sequential.info.guidance, 'sequential');
      const a = await rawPixels((await batched.generate(base)).png);
      const b = await rawPixels((await sequential.generate(base)).png);
      // Batch 1 and batch 2 kernels may round differently; allow one level of 8-bit difference.
      assert.equal(a.length, b.length);
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1, `pixel byte ${i}`);
    } finally {
      await Promise.all([batched.dispose(), sequential.dispose()]);
    }
  });

  it('refuses to generate after dispose', async () => {
    const p = await loadPipeline(await tinyModel());
    await p.dispose();
    await assert.rejects(p.generate(base), (e) => isDiffusionError(e, 'disposed'));
  });
});
