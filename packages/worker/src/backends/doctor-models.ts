// The doctor's checks of one model folder, in the order the onnx backend uses it: the layout (without
// reading weights), the model id, the fingerprint, whether it fits in memory, loading on the chosen
// provider, and a timed one-step generation at 64×64 (or the size a fixed-size export demands).
import { basename, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type * as DiffusionApi from '@dreamfold/diffusion';
import type { Pipeline, ProviderName } from '@dreamfold/diffusion';
import {
  estimateNeedMb,
  fits,
  folderBytes,
  memoryOf,
  type GuidanceChoice,
  type Resources,
} from '../resources.js';
import { MODEL_ID } from './choice.js';
import { check, mb, type DoctorCheck } from './doctor.js';

type Diffusion = typeof DiffusionApi;

export interface ModelCheckContext {
  provider: ProviderName;
  /** Whether the asked provider works here; when not, loading and generating are skipped. */
  providerReady: boolean;
  resources: Resources;
  maxPixels: number;
  guidance: GuidanceChoice;
}

const ms = (since: number) => `${Math.round(performance.now() - since)} ms`;
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

export async function* modelChecks(
  d: Diffusion,
  dir: string,
  ctx: ModelCheckContext,
): AsyncGenerator<DoctorCheck> {
  const label = `model ${basename(resolve(dir))}`;
  let info;
  try {
    info = await d.inspectModelFolder(dir);
  } catch (err) {
    yield check(label, 'fail', messageOf(err));
    return;
  }
  const parts = [
    info.pipelineClass ?? 'no _class_name',
    `${info.files.length} files`,
    `${info.scheduler.predictionType} prediction`,
    info.img2img ? 'img2img' : 'no vae_encoder (no img2img)',
    info.unetExternalData
      ? 'external weights unet/model.onnx_data present'
      : 'weights inside unet/model.onnx',
  ];
  yield check(label, 'ok', `layout valid: ${parts.join('; ')}`);
  if (!MODEL_ID.test(info.modelId)) {
    yield check(
      `${label} id`,
      'fail',
      `the folder name is the model id and must be lowercase letters, digits, ".", "_" or "-"; rename the folder`,
    );
  }

  let t0 = performance.now();
  try {
    const fingerprint = await d.fingerprintModel(info.root);
    const bytes = fingerprint.files.reduce((n, f) => n + f.bytes, 0);
    yield check(
      `${label} fingerprint`,
      'ok',
      `sha256 ${fingerprint.sha256.slice(0, 16)}… over ${fingerprint.files.length} weight files, ` +
        `${mb(bytes / 1024 / 1024)}, in ${ms(t0)}`,
    );
  } catch (err) {
    yield check(`${label} fingerprint`, 'fail', messageOf(err));
    return;
  }

  const verdict = fits(
    estimateNeedMb(await folderBytes(info.root), ctx.maxPixels, ctx.guidance),
    memoryOf(ctx.provider),
    ctx.resources,
  );
  yield check(
    `${label} memory`,
    verdict.fits ? (verdict.unknown ? 'warn' : 'ok') : 'fail',
    `needs about ${mb(verdict.needMb)} at up to ${ctx.maxPixels} pixels with ${ctx.guidance} guidance; ` +
      verdict.against +
      (verdict.fits
        ? ''
        : `: lower --max-pixels, use an fp16 copy${ctx.guidance === 'batched' ? ' or --guidance sequential' : ''}`),
  );

  if (!ctx.providerReady) {
    yield check(`${label} loads`, 'info', `not tried: provider ${ctx.provider} is unavailable`);
    return;
  }
  t0 = performance.now();
  let pipeline: Pipeline;
  try {
    pipeline = await d.loadPipeline(info.root, {
      provider: ctx.provider,
      maxPixels: ctx.maxPixels,
      guidance: ctx.guidance,
    });
  } catch (err) {
    yield check(`${label} loads`, 'fail', messageOf(err));
    return;
  }
  try {
    const p = pipeline.info;
    const variant = [
      p.family,
      p.precision === 'float16' ? 'fp16' : 'fp32',
      `timestep ${p.timestepType}`,
      `${p.guidance} guidance`,
      ...(p.guidanceEmbeddingDim ? [`LCM (timestep_cond ${p.guidanceEmbeddingDim})`] : []),
    ];
    yield check(`${label} loads`, 'ok', `${variant.join(', ')}; on ${ctx.provider} in ${ms(t0)}`);
    const { width, height } = p.fixedSize ?? { width: 64, height: 64 };
    t0 = performance.now();
    const result = await pipeline.generate({
      prompt: 'a photo of a cat',
      width,
      height,
      steps: 1,
      guidanceScale: 7.5,
      sampler: 'euler',
      seed: 1,
    });
    const t = result.timings;
    yield check(
      `${label} 1 step ${width}×${height}`,
      'ok',
      `${ms(t0)} in all; UNet step ${t.onnx.unetMs.toFixed(1)} ms, text encoder ` +
        `${t.onnx.textEncoderMs.toFixed(1)} ms, VAE ${t.onnx.vaeDecoderMs.toFixed(1)} ms on ${ctx.provider}`,
    );
  } catch (err) {
    yield check(`${label} 1 step`, 'fail', messageOf(err));
  } finally {
    await pipeline.dispose();
  }
}
