/**
 * The denoising loop: per step, scale the latents for the model, run the UNet on the conditional and
 * unconditional embeddings (one batch of 2, or two batch-1 runs), combine them with classifier-free guidance and
 * let the scheduler advance the latents. Buffers are allocated once per generation and reused by every step.
 */
import type * as ort from 'onnxruntime-node';
import { DiffusionError } from '../errors.js';
import { readFloat, SampleInput, timestepTensor } from '../onnx/tensors.js';
import type { FloatType, TimestepType } from '../onnx/tensors.js';
import type { NoiseSource, Scheduler } from '../schedulers/types.js';
import type { LoadedModel } from './load.js';
import { runGraph } from './stages.js';
import type { TimingRecorder } from './timings.js';

export interface DenoiseInput {
  model: LoadedModel;
  scheduler: Scheduler;
  latents: Float32Array;
  /** [C, h, w] of one latent. */
  latentDims: readonly number[];
  /**
   * One tensor: batch [uncond, cond] (batched guidance) or [cond] (no guidance);
   * two tensors: [uncond], [cond] (sequential guidance).
   */
  embeddings: ort.Tensor[];
  guidanceScale: number;
  /** Further UNet inputs for each entry of `embeddings` (SDXL's text_embeds and time_ids, LCM's timestep_cond). */
  extras: Array<Record<string, ort.Tensor>> | undefined;
  noise: NoiseSource;
  timings: TimingRecorder;
  signal: AbortSignal | undefined;
  onProgress: ((step: number, totalSteps: number) => void | Promise<void>) | undefined;
}

export function throwIfAborted(signal: AbortSignal | undefined, where: string): void {
  if (signal?.aborted)
    throw new DiffusionError('cancelled', `generation cancelled ${where}`, { cause: signal.reason });
}

/** Runs every step of `scheduler`, updating `latents` in place. */
export async function denoise(input: DenoiseInput): Promise<void> {
  const { model, scheduler, latents, latentDims, embeddings, timings, signal } = input;
  const size = latents.length;
  const batchedPair = embeddings.length === 1 && embeddings[0]!.dims[0] === 2;
  const guided = batchedPair || embeddings.length === 2;
  const unetBatch = batchedPair ? 2 : 1;
  const sample = new SampleInput(model.unet.inputs.get('sample')!.type as FloatType, size, unetBatch);
  const timestep = model.unet.inputs.get('timestep')!;
  // Scratch for widening float16 outputs; two, because sequential guidance holds two outputs at once.
  const widened = [new Float32Array(size * unetBatch), new Float32Array(size)];
  const guidedPrediction = new Float32Array(size);
  const total = scheduler.timesteps.length;

  const runUnet = async (entry: number, t: number, batch: number, scratch: Float32Array) => {
    const feeds = timings.measure('tensorsMs', () => ({
      sample: sample.tensor(batch, latentDims),
      timestep: timestepTensor(timestep.type as TimestepType, t, timestep.shape.length, batch),
      encoder_hidden_states: embeddings[entry]!,
      ...input.extras?.[entry],
    }));
    const { output, ms } = await runGraph(model.unet, feeds, timings, 'unetMs');
    if (output.size !== batch * size) {
      throw new DiffusionError(
        'inference_failed',
        `${model.unet.file} returned shape [${output.dims.join(', ')}], expected [${[batch, ...latentDims].join(', ')}]`,
        { file: model.unet.file },
      );
    }
    return { values: timings.measure('tensorsMs', () => readFloat(output, scratch)), ms };
  };

  for (let i = 0; i < total; i++) {
    throwIfAborted(signal, `before step ${i + 1} of ${total}`);
    const stepStart = timings.now();
    const t = scheduler.timesteps[i]!;
    timings.measure('schedulerMs', () => scheduler.scaleModelInput(latents, i, sample.target));
    let onnxMs: number;
    let prediction: Float32Array;
    if (!guided) {
      const r = await runUnet(0, t, 1, widened[0]!);
      onnxMs = r.ms;
      prediction = r.values;
    } else {
      let uncond: Float32Array;
      let cond: Float32Array;
      if (batchedPair) {
        const r = await runUnet(0, t, 2, widened[0]!);
        onnxMs = r.ms;
        uncond = r.values.subarray(0, size);
        cond = r.values.subarray(size, 2 * size);
      } else {
        const u = await runUnet(0, t, 1, widened[0]!);
        const c = await runUnet(1, t, 1, widened[1]!);
        onnxMs = u.ms + c.ms;
        uncond = u.values;
        cond = c.values;
      }
      const g = input.guidanceScale;
      prediction = timings.measure('guidanceMs', () => {
        for (let k = 0; k < size; k++) guidedPrediction[k] = uncond[k]! + g * (cond[k]! - uncond[k]!);
        return guidedPrediction;
      });
    }
    timings.measure('schedulerMs', () => scheduler.step(prediction, i, latents, input.noise));
    timings.steps.push({ onnxMs, overheadMs: timings.now() - stepStart - onnxMs });
    await input.onProgress?.(i + 1, total);
  }
}
