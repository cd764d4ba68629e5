/**
 * One text-to-image or image-to-image generation: tokenize, encode text, prepare latents, run the denoising
 * loop with classifier-free guidance, decode, write the PNG with its parameters.
 */
import { DiffusionError } from '../errors.js';
import { decodeInitImage } from '../image/init-image.js';
import { encodePng } from '../image/encode-png.js';
import { formatParameters } from '@dreamfold/protocol/png';
import { fixedDim } from '../onnx/graph.js';
import { floatTensor } from '../onnx/tensors.js';
import type { FloatType } from '../onnx/tensors.js';
import type * as ort from 'onnxruntime-node';
import { guidanceScaleEmbedding } from './guidance-embedding.js';
import { encodeTextXl } from './sdxl.js';
import { NoiseStream, SeededRandom } from '../random.js';
import { createScheduler } from '../schedulers/index.js';
import type { LoadedModel } from './load.js';
import { validateParams } from './params.js';
import type { GenerateParams } from './params.js';
import { denoise, throwIfAborted } from './denoise.js';
import { decodeLatents, encodeImage, encodeText } from './stages.js';
import { TimingRecorder } from './timings.js';
import type { GenerateTimings } from './timings.js';

export interface GenerateOptions {
  /** Called after each denoising step with (stepsDone, totalSteps); awaited if it returns a promise. */
  onProgress?: (step: number, totalSteps: number) => void | Promise<void>;
  /** Checked before every step: aborting stops between steps with DiffusionError code 'cancelled'. */
  signal?: AbortSignal;
}

export interface GenerateResult {
  png: Buffer;
  seed: number;
  width: number;
  height: number;
  /** The A1111-style text written into the PNG's `parameters` chunk. */
  parameters: string;
  timings: GenerateTimings;
}

export interface GenerateLimits {
  maxPixels: number;
  maxInitImagePixels: number;
}

export async function generate(
  model: LoadedModel,
  input: GenerateParams,
  options: GenerateOptions,
  limits: GenerateLimits,
): Promise<GenerateResult> {
  const timings = new TimingRecorder();
  const params = validateParams(input, limits);
  const { width, height, signal } = { ...params, signal: options.signal };
  const sample = model.unet.inputs.get('sample')!;
  const fixedH = fixedDim(sample, 2);
  const fixedW = fixedDim(sample, 3);
  if ((fixedH !== undefined && fixedH !== height / 8) || (fixedW !== undefined && fixedW !== width / 8)) {
    throw new DiffusionError(
      'invalid_params',
      `this model was exported for ${(fixedW ?? width / 8) * 8}x${(fixedH ?? height / 8) * 8} only`,
    );
  }
  if (params.initImage && !model.vaeEncoder) {
    throw new DiffusionError(
      'img2img_unsupported',
      `${model.info.modelId} has no vae_encoder/, needed for img2img`,
    );
  }
  throwIfAborted(signal, 'before start');

  const scheduler = timings.measure('schedulerMs', () =>
    createScheduler(params.sampler, model.folder.info.scheduler, params.steps, { strength: params.strength }),
  );
  // As in diffusers: guidance ≤ 1 means the unconditional pass would not change the result, so skip it; an
  // LCM UNet takes the guidance scale as an embedding instead, one run on the prompt alone.
  const embeddingDim = model.info.guidanceEmbeddingDim;
  const guided = params.guidanceScale > 1 && embeddingDim === undefined;
  const batched = guided && model.info.guidance === 'batched';
  let embeddings: ort.Tensor[];
  let extras: Array<Record<string, ort.Tensor>> | undefined;
  if (model.xl) {
    const texts = { prompt: params.prompt, negativePrompt: guided ? params.negativePrompt : undefined };
    ({ embeddings, extras } = await encodeTextXl(model, texts, batched, { width, height }, timings));
  } else {
    const ids = timings.measure('tokenizeMs', () =>
      guided
        ? [model.folder.tokenizer.encode(params.negativePrompt), model.folder.tokenizer.encode(params.prompt)]
        : [model.folder.tokenizer.encode(params.prompt)],
    );
    embeddings = await encodeText(model, ids, batched, timings);
  }

  const latentSize = 4 * (height / 8) * (width / 8);
  const latentDims = [4, height / 8, width / 8];
  const noise = new SeededRandom(params.seed, NoiseStream.initialLatents);
  const stepNoise = new SeededRandom(params.seed, NoiseStream.samplerSteps);
  let latents: Float32Array;
  if (params.initImage && model.vaeEncoder) {
    const pixels = await timings.measureAsync('imageMs', () =>
      decodeInitImage(params.initImage!, width, height, limits.maxInitImagePixels),
    );
    latents = await encodeImage(model, model.vaeEncoder, pixels, width, height, timings);
    timings.measure('schedulerMs', () => {
      const n = new Float32Array(latentSize);
      noise.fill(n);
      scheduler.addNoise(latents, n, 0);
    });
  } else {
    latents = timings.measure('schedulerMs', () => {
      const l = new Float32Array(latentSize);
      noise.fill(l);
      for (let k = 0; k < latentSize; k++) l[k] = l[k]! * scheduler.initNoiseSigma;
      return l;
    });
  }

  if (embeddingDim !== undefined) {
    // Unguided, so one batch-1 entry.
    const timestepCond = timings.measure('tensorsMs', () =>
      floatTensor(
        model.unet.inputs.get('timestep_cond')!.type as FloatType,
        guidanceScaleEmbedding(params.guidanceScale, embeddingDim),
        [1, embeddingDim],
      ),
    );
    extras = [{ ...extras?.[0], timestep_cond: timestepCond }];
  }
  await denoise({
    model,
    extras,
    scheduler,
    latents,
    latentDims,
    embeddings,
    guidanceScale: params.guidanceScale,
    noise: stepNoise,
    timings,
    signal,
    onProgress: options.onProgress,
  });

  throwIfAborted(signal, 'before decoding');
  const pixels = await decodeLatents(model, latents, width, height, timings);
  const settings: Array<[string, string | number]> = [
    ['Steps', params.steps],
    ['Sampler', params.sampler],
    ['CFG scale', params.guidanceScale],
    ['Seed', params.seed],
    ['Size', `${width}x${height}`],
    ['Model', model.info.modelId],
  ];
  if (params.strength !== undefined) settings.push(['Denoising strength', params.strength]);
  const parameters = formatParameters(params.prompt, params.negativePrompt, settings);
  const png = await timings.measureAsync('imageMs', () => encodePng(pixels, width, height, parameters));
  return { png, seed: params.seed, width, height, parameters, timings: timings.finish() };
}
