/** The non-loop stages of a generation: text encoding, VAE encoding of an init image, VAE decoding. */
import * as ort from 'onnxruntime-node';
import { DiffusionError, messageOf } from '../errors.js';
import type { Graph } from '../onnx/graph.js';
import { floatTensor, readFloat } from '../onnx/tensors.js';
import type { FloatType } from '../onnx/tensors.js';
import type { LoadedModel } from './load.js';
import type { OnnxPart, TimingRecorder } from './timings.js';

export async function runGraph(
  graph: Graph,
  feeds: Record<string, ort.Tensor>,
  timings: TimingRecorder,
  part: OnnxPart,
): Promise<{ output: ort.Tensor; ms: number }> {
  const { outputs, ms } = await runGraphOutputs(graph, feeds, [graph.output.name], timings, part);
  return { output: outputs[graph.output.name]!, ms };
}

/** session.run fetching the named outputs; a failure is `inference_failed` naming the file. */
export async function runGraphOutputs(
  graph: Graph,
  feeds: Record<string, ort.Tensor>,
  names: string[],
  timings: TimingRecorder,
  part: OnnxPart,
): Promise<{ outputs: Record<string, ort.Tensor>; ms: number }> {
  try {
    const { result, ms } = await timings.run(part, () => graph.session.run(feeds, names));
    return { outputs: result as Record<string, ort.Tensor>, ms };
  } catch (error) {
    throw new DiffusionError('inference_failed', `${graph.file} failed: ${messageOf(error)}`, {
      file: graph.file,
      cause: error,
    });
  }
}

/** Token ids as the text encoder's input_ids dtype (int32 or int64), [ids.length, 77]. */
export function idsTensor(graph: Graph, ids: Int32Array[]): ort.Tensor {
  const length = ids[0]!.length;
  const flat = new Int32Array(ids.length * length);
  ids.forEach((one, i) => flat.set(one, i * length));
  return graph.inputs.get('input_ids')!.type === 'int64'
    ? new ort.Tensor(
        'int64',
        BigInt64Array.from(flat, (v) => BigInt(v)),
        [ids.length, length],
      )
    : new ort.Tensor('int32', flat, [ids.length, length]);
}

/** Float tensors of batch 1 (or more) joined along the batch axis, in `type`. */
export function joinBatch(tensors: ort.Tensor[], type: FloatType): ort.Tensor {
  const parts = tensors.map((e) => readFloat(e));
  const joined = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  const batch = tensors.reduce((n, t) => n + t.dims[0]!, 0);
  return floatTensor(type, joined, [batch, ...tensors[0]!.dims.slice(1)]);
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
  const wanted = model.unet.inputs.get('encoder_hidden_states')!.type as FloatType;
  const groups = batched && model.batchText ? [ids] : ids.map((one) => [one]);
  const embeddings: ort.Tensor[] = [];
  for (const group of groups) {
    const feed = timings.measure('tensorsMs', () => idsTensor(model.textEncoder, group));
    const { output } = await runGraph(model.textEncoder, { input_ids: feed }, timings, 'textEncoderMs');
    embeddings.push(
      output.type === wanted
        ? output
        : timings.measure('tensorsMs', () => floatTensor(wanted, readFloat(output), [...output.dims])),
    );
  }
  // Sequential text encoding but batched UNet (a fixed-batch text encoder): join the per-prompt embeddings.
  if (batched && embeddings.length > 1) {
    return [timings.measure('tensorsMs', () => joinBatch(embeddings, wanted))];
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
