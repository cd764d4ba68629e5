/** Model variants real exports come in (fp16, external data, float timestep, SD 2.x), and img2img. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { isDiffusionError, loadPipeline, readPngParameters } from '../index.js';
import type { GenerateParams, TinyModelOptions } from '../index.js';
import { tinyModel } from '../test-support/tiny.js';

const base: GenerateParams = {
  prompt: 'a photo of a cat',
  width: 64,
  height: 64,
  steps: 4,
  guidanceScale: 7.5,
  sampler: 'euler_a',
  seed: 7,
};

async function withPipeline<T>(
  options: TinyModelOptions,
  work: (p: Awaited<ReturnType<typeof loadPipeline>>) => Promise<T>,
  load: Parameters<typeof loadPipeline>[1] = {},
) {
  const pipeline = await loadPipeline(await tinyModel(options), load);
  try {
    return await work(pipeline);
  } finally {
    await pipeline.dispose();
  }
}

const gradient = (width: number, height: number, format: 'png' | 'jpeg') => {
  const raw = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) raw.set([(i * 7) % 256, (i * 3) % 256, 128], i * 3);
  const image = sharp(raw, { raw: { width, height, channels: 3 } });
  return (format === 'png' ? image.png() : image.jpeg()).toBuffer();
};

describe('model variants', () => {
  it('fp16 graphs: float16 inputs/outputs are converted, results reproducible', async () => {
    await withPipeline({ precision: 'float16' }, async (p) => {
      assert.equal(p.info.precision, 'float16');
      const a = await p.generate(base);
      const b = await p.generate(base);
      assert.ok(a.png.equals(b.png));
      const meta = await sharp(a.png).stats();
      // A real image, not a flat one: fp16 conversion did not collapse the values.
      assert.ok(meta.channels.some((c) => c.max - c.min > 10));
    });
  });

  it('fp16 and fp32 versions of the same weights give nearly the same image', async () => {
    const pixels = async (precision: 'float16' | 'float32') =>
      withPipeline({ precision }, async (p) =>
        sharp((await p.generate({ ...base, sampler: 'ddim' })).png)
          .raw()
          .toBuffer(),
      );
    const [half, full] = await Promise.all([pixels('float16'), pixels('float32')]);
    let total = 0;
    for (let i = 0; i < full.length; i++) total += Math.abs(half[i]! - full[i]!);
    assert.ok(total / full.length < 4, `mean abs difference ${total / full.length}`);
  });

  it('external-data UNet (unet/model.onnx_data) loads and generates', async () => {
    await withPipeline({ unetExternalData: true }, async (p) => {
      assert.equal(p.info.unetExternalData, true);
      assert.ok(p.info.files.includes('unet/model.onnx_data'));
      const { png } = await p.generate(base);
      assert.equal((await sharp(png).metadata()).width, 64);
    });
  });

  it('float timestep input and int64 timestep input both work', async () => {
    await withPipeline({ timestepType: 'float' }, async (p) => {
      assert.equal(p.info.timestepType, 'float32');
      await p.generate({ ...base, sampler: 'euler' });
    });
    await withPipeline({ timestepType: 'float', precision: 'float16' }, async (p) => {
      assert.equal(p.info.timestepType, 'float16');
      await p.generate({ ...base, sampler: 'dpmpp_2m_karras' });
    });
  });

  it('SD 2.x style folder: v_prediction and "!" padding', async () => {
    await withPipeline({ flavor: 'sd2' }, async (p) => {
      assert.equal(p.info.scheduler.predictionType, 'v_prediction');
      assert.equal(p.info.tokenizer.padId, 0);
      const { png } = await p.generate({ ...base, sampler: 'dpmpp_2m_karras' });
      assert.equal((await sharp(png).metadata()).height, 64);
    });
  });
});

describe('img2img', () => {
  it('starts from the init image and runs floor(steps·strength) steps', async () => {
    await withPipeline({}, async (p) => {
      const init = await gradient(80, 80, 'png');
      const steps: number[] = [];
      const params = { ...base, steps: 8, strength: 0.5, initImage: init, sampler: 'ddim' as const };
      const result = await p.generate(params, { onProgress: (s) => void steps.push(s) });
      assert.deepEqual(steps, [1, 2, 3, 4]);
      assert.ok(result.timings.onnx.vaeEncoderMs > 0);
      assert.equal(readPngParameters(result.png)?.settings['Denoising strength'], '0.5');
      assert.ok((await p.generate(params)).png.equals(result.png));
      // Another init image (JPEG this time) gives another result.
      const other = await p.generate({ ...params, initImage: await gradient(64, 96, 'jpeg') });
      assert.ok(!other.png.equals(result.png));
      // The strength changes how far the result moves from the init image.
      const initPixels = await sharp(init).resize(64, 64, { fit: 'cover' }).raw().toBuffer();
      const distance = async (strength: number) => {
        const out = await sharp((await p.generate({ ...params, strength })).png)
          .raw()
          .toBuffer();
        let sum = 0;
        for (let i = 0; i < out.length; i++) sum += Math.abs(out[i]! - initPixels[i]!);
        return sum;
      };
      assert.notEqual(await distance(0.25), await distance(1));
    });
  });

  it('rejects init images that are not PNG/JPEG or exceed the pixel limit', async () => {
    await withPipeline({}, async (p) => {
      await assert.rejects(p.generate({ ...base, initImage: Buffer.from('GIF89a not really') }), (e) =>
        isDiffusionError(e, 'invalid_init_image'),
      );
      const truncated = (await gradient(64, 64, 'png')).subarray(0, 60);
      await assert.rejects(p.generate({ ...base, initImage: truncated }), (e) =>
        isDiffusionError(e, 'invalid_init_image'),
      );
    });
    await withPipeline(
      {},
      async (p) => {
        await assert.rejects(
          p.generate({ ...base, initImage: await gradient(100, 100, 'png') }),
          (e) => isDiffusionError(e, 'invalid_init_image') && /pixel/i.test(e.message),
        );
      },
      { maxInitImagePixels: 64 * 64 },
    );
  });

  it('needs vae_encoder/', async () => {
    await withPipeline({ vaeEncoder: false }, async (p) => {
      assert.equal(p.info.img2img, false);
      await assert.rejects(p.generate({ ...base, initImage: await gradient(64, 64, 'png') }), (e) =>
        isDiffusionError(e, 'img2img_unsupported'),
      );
    });
  });
});
