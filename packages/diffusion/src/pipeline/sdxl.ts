/**
 * SDXL in Hugging Face Optimum's ONNX layout (StableDiffusionXLPipeline): two text encoders exported with their
 * hidden states, text_encoder/ (CLIP ViT-L: last_hidden_state, pooler_output, hidden_states.0…N) and
 * text_encoder_2/ with tokenizer_2/ (OpenCLIP bigG with projection: text_embeds, last_hidden_state,
 * hidden_states.0…M). As diffusers does, the UNet's encoder_hidden_states are the two penultimate hidden states
 * concatenated on the feature axis (768 + 1280 = 2048), `text_embeds` is text_encoder_2's pooled projection, and
 * `time_ids` are (original height, width, crop top, crop left, target height, width) = (h, w, 0, 0, h, w).
 */
import type * as ort from 'onnxruntime-node';
import { DiffusionError } from '../errors.js';
import { GRAPH_FILES } from '../model-folder.js';
import { fixedDim } from '../onnx/graph.js';
import type { Graph, GraphSpec } from '../onnx/graph.js';
import { floatTensor, readFloat } from '../onnx/tensors.js';
import type { FloatType } from '../onnx/tensors.js';
import type { LoadedModel } from './load.js';
import { idsTensor, joinBatch, runGraphOutputs } from './stages.js';
import type { TimingRecorder } from './timings.js';

export interface XlEncoders {
  encoder2: Graph;
  /** Output names of the penultimate hidden states of text_encoder/ and text_encoder_2/. */
  hidden1: string;
  hidden2: string;
  /** Width of the concatenated hidden states, when both are fixed in the graphs. */
  width: number | undefined;
}

/** UNet inputs only SDXL UNets have (and must have). */
export const XL_UNET_INPUTS = ['text_embeds', 'time_ids'] as const;

export async function openXlEncoder(
  open: (file: string, spec: GraphSpec) => Promise<Graph>,
  textEncoder: Graph,
): Promise<XlEncoders> {
  const encoder2 = await open(GRAPH_FILES.textEncoder2, {
    inputs: [{ name: 'input_ids', types: ['int32', 'int64'], rank: 2 }],
    outputs: ['text_embeds'],
  });
  const hidden1 = penultimate(textEncoder);
  const hidden2 = penultimate(encoder2);
  const widthOf = (graph: Graph, name: string) => {
    const meta = graph.session.outputMetadata.find((m) => m.name === name);
    return meta?.isTensor ? fixedDim(meta, 2) : undefined;
  };
  const [w1, w2] = [widthOf(textEncoder, hidden1), widthOf(encoder2, hidden2)];
  return { encoder2, hidden1, hidden2, width: w1 !== undefined && w2 !== undefined ? w1 + w2 : undefined };
}

/** hidden_states.{N−1} of an encoder exporting hidden_states.0 … hidden_states.N (diffusers' hidden_states[-2]). */
function penultimate(graph: Graph): string {
  const layers = graph.session.outputNames
    .map((name) => /^hidden_states\.(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));
  if (layers.length < 2) {
    throw new DiffusionError(
      'model_file_malformed',
      `${graph.file} has no hidden_states.N outputs; SDXL needs the text encoders exported with their hidden ` +
        'states (as `optimum-cli export onnx` does for SDXL)',
      { file: graph.file },
    );
  }
  return `hidden_states.${Math.max(...layers) - 1}`;
}

export interface XlConditioning {
  /** As encodeText returns them: one batch-2 tensor [uncond, cond], or one batch-1 tensor per UNet run. */
  embeddings: ort.Tensor[];
  /** text_embeds and time_ids for each entry of `embeddings`. */
  extras: Array<Record<string, ort.Tensor>>;
}

export async function encodeTextXl(
  model: LoadedModel,
  texts: { prompt: string; negativePrompt: string | undefined },
  batched: boolean,
  size: { width: number; height: number },
  timings: TimingRecorder,
): Promise<XlConditioning> {
  const xl = model.xl!;
  const typeOf = (name: string) => model.unet.inputs.get(name)!.type as FloatType;
  const encodeOne = async (text: string) => {
    const [ids1, ids2] = timings.measure('tokenizeMs', () => [
      model.folder.tokenizer.encode(text),
      model.folder.tokenizer2!.encode(text),
    ]);
    const feed1 = timings.measure('tensorsMs', () => idsTensor(model.textEncoder, [ids1!]));
    const feed2 = timings.measure('tensorsMs', () => idsTensor(xl.encoder2, [ids2!]));
    const one = await runGraphOutputs(
      model.textEncoder,
      { input_ids: feed1 },
      [xl.hidden1],
      timings,
      'textEncoderMs',
    );
    const two = await runGraphOutputs(
      xl.encoder2,
      { input_ids: feed2 },
      [xl.hidden2, 'text_embeds'],
      timings,
      'textEncoderMs',
    );
    return timings.measure('tensorsMs', () => {
      const h1 = one.outputs[xl.hidden1]!;
      const h2 = two.outputs[xl.hidden2]!;
      const pooled = two.outputs['text_embeds']!;
      const [sequence, w1, w2] = [h1.dims[1]!, h1.dims[2]!, h2.dims[2]!];
      const context = concatFeatures(readFloat(h1), readFloat(h2), sequence, w1, w2);
      return {
        context: floatTensor(typeOf('encoder_hidden_states'), context, [1, sequence, w1 + w2]),
        pooled: floatTensor(typeOf('text_embeds'), readFloat(pooled).slice(), [1, pooled.dims[1]!]),
      };
    });
  };
  const entries = [await encodeOne(texts.prompt)];
  if (texts.negativePrompt !== undefined) {
    const zeros = texts.negativePrompt === '' && model.info.forceZerosForEmptyPrompt;
    entries.unshift(
      zeros
        ? timings.measure('tensorsMs', () => ({
            context: zerosLike(entries[0]!.context),
            pooled: zerosLike(entries[0]!.pooled),
          }))
        : await encodeOne(texts.negativePrompt),
    );
  }
  const { width, height } = size;
  const timeIds = floatTensor(
    typeOf('time_ids'),
    Float32Array.of(height, width, 0, 0, height, width),
    [1, 6],
  );
  if (batched && entries.length === 2) {
    return timings.measure('tensorsMs', () => ({
      embeddings: [
        joinBatch(
          entries.map((e) => e.context),
          typeOf('encoder_hidden_states'),
        ),
      ],
      extras: [
        {
          text_embeds: joinBatch(
            entries.map((e) => e.pooled),
            typeOf('text_embeds'),
          ),
          time_ids: joinBatch([timeIds, timeIds], typeOf('time_ids')),
        },
      ],
    }));
  }
  return {
    embeddings: entries.map((e) => e.context),
    extras: entries.map((e) => ({ text_embeds: e.pooled, time_ids: timeIds })),
  };
}

/** [S, w1] ‖ [S, w2] → [S, w1 + w2]. */
function concatFeatures(a: Float32Array, b: Float32Array, sequence: number, w1: number, w2: number) {
  const out = new Float32Array(sequence * (w1 + w2));
  for (let s = 0; s < sequence; s++) {
    out.set(a.subarray(s * w1, (s + 1) * w1), s * (w1 + w2));
    out.set(b.subarray(s * w2, (s + 1) * w2), s * (w1 + w2) + w1);
  }
  return out;
}

function zerosLike(tensor: ort.Tensor): ort.Tensor {
  return floatTensor(tensor.type as FloatType, new Float32Array(tensor.size), [...tensor.dims]);
}
