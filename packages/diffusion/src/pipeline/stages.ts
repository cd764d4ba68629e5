/** The non-loop stages of a generation: text encoding, VAE encoding of an init image, VAE decoding. */
import * as ort from 'onnxruntime-node';
import { DiffusionError, messageOf } from '../errors.js';
import type { Graph } from '../onnx/graph.js';
import { floatTensor, readFloat } from '../onnx/tensors.js';
import type { FloatType } from '../onnx/tensors.js';
import type { LoadedModel } from './load.js';
import type { TimingRecorder } from './timings.js';

export async function runGraph(
  graph: Graph,
  feeds: Record<string, ort.Tensor>,
  timings: TimingRecorder,
  part: 'textEncoderMs' | 'unetMs' | 'vaeDecoderMs' | 'vaeEncoderMs',
): Promise<{ output: ort.Tensor; ms: number }> {
  try {
    const { result, ms } = await timings.run(part, () => graph.session.run(feeds, [graph.output.name]));
    return { output: result[graph.output.name] as ort.Tensor, ms };
  } catch (error) {
    throw new DiffusionError('inference_failed', `${graph.file} failed: ${messageOf(error)}`, {
      file: graph.file,
      cause: error,
    });
  }
}

/**
 * Token ids → embeddings in the dtype the UNet wants. Returns one tensor of batch `ids.length` when `batched`,
 * else one batch-1 tensor per prompt. Output is passed through untouched when dtypes already match.
 */
export async function encodeText(
  model: LoadedModel,
  ids: Int32Array[],
  batched: boolean,
  timings: TimingRecorder,
): Promise<ort.Tensor[]> {
  const idsType = model.textEncoder.inputs.get('input_ids')!.type;
  const wanted = model.unet.inputs.get('encoder_hidden_states')!.type as FloatType;
  const groups = batched && model.batchText ? [ids] : ids.map((one) => [one]);
  const embeddings: ort.Tensor[] = [];
  for (const group of groups) {
    const length = group[0]!.length;
    const feed = timings.measure('tensorsMs', () => {
      const flat = new Int32Array(group.length * length);
      group.forEach((one, i) => flat.set(one, i * length));
      return idsType === 'int64'
        ? new ort.Tensor(
            'int64',
            BigInt64Array.from(flat, (v) => BigInt(v)),
            [group.length, length],
          )
        : new ort.Tensor('int32', flat, [group.length, length]);
    });
    const { output } = await runGraph(model.textEncoder, { input_ids: feed }, timings, 'textEncoderMs');
    embeddings.push(
      output.type === wanted
        ? output
        : timings.measure('tensorsMs', () => floatTensor(wanted, readFloat(output), [...output.dims])),
    );
  }
  // Sequential text encoding but batched UNet (a fixed-batch text encoder): join the per-prompt embeddings.
  if (batched && embeddings.length > 1) {
    return [
      timings.measure('tensorsMs', () => {
        const parts = embeddings.map((e) => readFloat(e));
        const joined = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
        let offset = 0;
        for (const part of parts) {
          joined.set(part, offset);
          offset += part.length;
        }
        const dims = [embeddings.length, ...embeddings[0]!.dims.slice(1)];
        return floatTensor(wanted, joined, dims);
      }),
    ];
  }
  return embeddings;
}

/** Init image pixels (NCHW, [-1, 1]) → scaled clean latents. */
export async function encodeImage(
  model: LoadedModel,
  graph: Graph,
  pixels: Float32Array,
  width: number,
  height: number,
  timings: TimingRecorder,
): Promise<Float32Array> {
  const type = graph.inputs.get('sample')!.type as FloatType;
  const feed = timings.measure('tensorsMs', () => floatTensor(type, pixels, [1, 3, height, width]));
  const { output } = await runGraph(graph, { sample: feed }, timings, 'vaeEncoderMs');
  return timings.measure('tensorsMs', () => {
    const values = readFloat(output);
    const size = 4 * (height / 8) * (width / 8);
    // latent_parameters carries mean ‖ logvar: take the mean (the deterministic choice).
    const latents = values.slice(0, size);
    const scale = model.info.scalingFactor;
    for (let k = 0; k < size; k++) latents[k] = latents[k]! * scale;
    return latents;
  });
}

export async function decodeLatents(
  model: LoadedModel,
  latents: Float32Array,
  width: number,
  height: number,
  timings: TimingRecorder,
): Promise<Float32Array> {
  const type = model.vaeDecoder.inputs.get('latent_sample')!.type as FloatType;
  const feed = timings.measure('tensorsMs', () => {
    const scaled = new Float32Array(latents.length);
    const inverse = 1 / model.info.scalingFactor;
    for (let k = 0; k < latents.length; k++) scaled[k] = latents[k]! * inverse;
    return floatTensor(type, scaled, [1, 4, height / 8, width / 8]);
  });
  const { output } = await runGraph(model.vaeDecoder, { latent_sample: feed }, timings, 'vaeDecoderMs');
  if (output.dims.join('x') !== `1x3x${height}x${width}`) {
    throw new DiffusionError(
      'inference_failed',
      `${model.vaeDecoder.file} returned shape [${output.dims.join(', ')}], expected [1, 3, ${height}, ${width}]`,
      { file: model.vaeDecoder.file },
    );
  }
  return timings.measure('tensorsMs', () => readFloat(output));
}
