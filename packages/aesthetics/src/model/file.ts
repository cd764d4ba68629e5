// Model files are safetensors (https://huggingface.co/docs/safetensors): an 8-byte little-endian header
// length, a JSON header naming each tensor's dtype, shape and byte range, then the raw little-endian data.
// Tensor names and shapes are PyTorch's (layers.0.weight [1024, 768], …), so
//   safetensors.torch.save_file(torch.load("sac+logos+ava1-l14-linearMSE.pth"), "laion.safetensors")
// turns LAION's published checkpoint into a file loadModel reads. Our own metadata travels in the header's
// "__metadata__" string map (safetensors allows only string values there; `training` is JSON).

import { readFile, rename, writeFile } from 'node:fs/promises';
import { AestheticsError } from '../errors.js';
import { float16Table } from '../float16.js';
import {
  DEFAULT_EMBEDDING_MODEL,
  HIDDEN_SIZES,
  LAYER_NAMES,
  validateLayers,
  type AestheticModel,
  type LinearLayer,
  type ModelMetadata,
  type TrainingStats,
} from './mlp.js';

export const MODEL_FORMAT = 'dreamfold-aesthetic-mlp';
export const MODEL_FORMAT_VERSION = '1';

interface TensorEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

const BYTES_PER_ELEMENT: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };

/** Serialises a model to safetensors bytes. */
export function encodeModel(model: AestheticModel): Uint8Array {
  validateLayers(model.layers);
  const header: Record<string, TensorEntry | Record<string, string>> = {};
  const metadata: Record<string, string> = {
    format: MODEL_FORMAT,
    format_version: MODEL_FORMAT_VERSION,
    architecture: `laion-improved-aesthetic-predictor (Linear ${model.metadata.dim}→${HIDDEN_SIZES.join('→')}, no activations)`,
    input_normalization: 'l2',
    embedding_model: model.metadata.embeddingModel,
    dim: String(model.metadata.dim),
    created_at: model.metadata.createdAt,
  };
  if (model.metadata.training) metadata.training = JSON.stringify(model.metadata.training);
  header.__metadata__ = metadata;
  const tensors: Float32Array[] = [];
  let offset = 0;
  model.layers.forEach((layer, i) => {
    const name = LAYER_NAMES[i] as string;
    for (const [suffix, data, shape] of [
      ['weight', layer.weight, [layer.outputs, layer.inputs]],
      ['bias', layer.bias, [layer.outputs]],
    ] as const) {
      header[`${name}.${suffix}`] = {
        dtype: 'F32',
        shape: [...shape],
        data_offsets: [offset, offset + data.byteLength],
      };
      offset += data.byteLength;
      tensors.push(data);
    }
  });
  // Pad the JSON with spaces to a multiple of 8 bytes so the tensor data is aligned for zero-copy readers.
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let position = 8 + json.length;
  for (const data of tensors) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), position);
    position += data.byteLength;
  }
  return out;
}

/** Writes the model as a safetensors file (via a temporary name, so a crash never leaves half a model). */
export async function saveModel(model: AestheticModel, path: string): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(temp, encodeModel(model));
  await rename(temp, path);
}

export async function loadModel(path: string): Promise<AestheticModel> {
  return decodeModel(await readFile(path), path);
}

/** Parses safetensors bytes; `file` only names the source in errors. */
export function decodeModel(bytes: Uint8Array, file?: string): AestheticModel {
  const fail = (why: string): never => {
    throw new AestheticsError('model_format', `not a readable aesthetic model (${why})`, file);
  };
  if (bytes.length < 8) fail('file shorter than the safetensors header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8 || headerLength > 100_000_000) fail('header length beyond end of file');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(
      Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLength).toString('utf8'),
    ) as Record<string, unknown>;
  } catch (error) {
    return fail(`header is not JSON: ${(error as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    return fail('header is not an object');
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;

  const tensor = (name: string, shape: readonly number[]): Float32Array => {
    const entry = header[name] as TensorEntry | undefined;
    if (!entry || typeof entry !== 'object') return fail(`tensor '${name}' missing`);
    const size = BYTES_PER_ELEMENT[entry.dtype];
    if (size === undefined) {
      throw new AestheticsError(
        'model_dtype',
        `tensor '${name}' has dtype ${entry.dtype} (read: F32, F16, BF16, F64)`,
        file,
      );
    }
    if (!Array.isArray(entry.shape) || entry.shape.join(',') !== shape.join(',')) {
      fail(`tensor '${name}' has shape [${String(entry.shape)}], expected [${shape.join(', ')}]`);
    }
    const count = shape.reduce((a, b) => a * b, 1);
    const [begin, end] = entry.data_offsets ?? [];
    if (
      typeof begin !== 'number' ||
      typeof end !== 'number' ||
      end - begin !== count * size ||
      end > dataLength
    ) {
      fail(`tensor '${name}' byte range [${begin}, ${end}) is inconsistent with its shape`);
    }
    return decodeTensor(bytes.subarray(dataStart + begin, dataStart + end), entry.dtype, count);
  };

  const rawMetadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const first = header[`${LAYER_NAMES[0]}.weight`] as TensorEntry | undefined;
  const dim = first?.shape?.[1];
  if (typeof dim !== 'number') return fail(`tensor '${LAYER_NAMES[0]}.weight' missing`);
  const expectedNames = new Set(LAYER_NAMES.flatMap((n) => [`${n}.weight`, `${n}.bias`]));
  for (const name of Object.keys(header)) {
    if (name !== '__metadata__' && !expectedNames.has(name)) fail(`unexpected tensor '${name}'`);
  }

  const layers: LinearLayer[] = [];
  let inputs = dim;
  LAYER_NAMES.forEach((name, i) => {
    const outputs = HIDDEN_SIZES[i] as number;
    layers.push({
      inputs,
      outputs,
      weight: tensor(`${name}.weight`, [outputs, inputs]),
      bias: tensor(`${name}.bias`, [outputs]),
    });
    inputs = outputs;
  });
  validateLayers(layers, file);

  if (rawMetadata.dim !== undefined && Number(rawMetadata.dim) !== dim) {
    fail(`metadata says dim ${rawMetadata.dim} but ${LAYER_NAMES[0]}.weight has ${dim} inputs`);
  }
  const metadata: ModelMetadata = {
    // A converted LAION checkpoint carries no metadata: it was trained on CLIP ViT-L/14 embeddings.
    embeddingModel: rawMetadata.embedding_model ?? DEFAULT_EMBEDDING_MODEL,
    dim,
    createdAt: rawMetadata.created_at ?? '',
  };
  if (rawMetadata.training !== undefined) {
    try {
      metadata.training = JSON.parse(rawMetadata.training) as TrainingStats;
    } catch {
      fail('metadata.training is not JSON');
    }
  }
  return { layers, metadata };
}

function decodeTensor(bytes: Uint8Array, dtype: string, count: number): Float32Array {
  // Copy into a fresh, aligned buffer: the file's bytes may sit at any offset.
  const copy = new Uint8Array(bytes);
  switch (dtype) {
    case 'F32':
      return new Float32Array(copy.buffer, 0, count);
    case 'F64':
      return Float32Array.from(new Float64Array(copy.buffer, 0, count));
    case 'F16': {
      const table = float16Table();
      return Float32Array.from(new Uint16Array(copy.buffer, 0, count), (h) => table[h] as number);
    }
    default: {
      // BF16 is the top half of a float32.
      const words = new Uint16Array(copy.buffer, 0, count);
      const out = new Float32Array(count);
      const outBits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) outBits[i] = (words[i] as number) << 16;
      return out;
    }
  }
}
