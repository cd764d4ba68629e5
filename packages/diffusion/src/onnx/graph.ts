/**
 * One ONNX graph of a model folder, opened as an InferenceSession and checked against the interface the pipeline
 * needs: input names, dtypes and ranks are read from the session's metadata rather than assumed, and a mismatch
 * is an error naming the file.
 */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { DiffusionError, messageOf } from '../errors.js';
import { fileExists } from '../model-files.js';

export type TensorMeta = ort.InferenceSession.TensorValueMetadata;

export interface InputSpec {
  name: string;
  types: readonly ort.Tensor.Type[];
  rank: number | readonly number[];
  /** Present only in some exports (e.g. an LCM UNet's timestep_cond); its absence is not an error. */
  optional?: boolean;
}

export interface GraphSpec {
  inputs: readonly InputSpec[];
  /** Accepted output names, in order of preference; the first one present is used. */
  outputs: readonly string[];
}

export interface Graph {
  /** Folder-relative path, e.g. "unet/model.onnx". */
  file: string;
  session: ort.InferenceSession;
  inputs: ReadonlyMap<string, TensorMeta>;
  output: TensorMeta;
}

export async function openGraph(
  root: string,
  file: string,
  options: ort.InferenceSession.SessionOptions,
  spec: GraphSpec,
): Promise<Graph> {
  const path = join(root, file);
  if (!(await fileExists(path))) {
    throw new DiffusionError('model_file_missing', `${file} is missing from the model folder ${root}`, {
      file,
    });
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(path, options);
  } catch (error) {
    throw await loadError(root, file, error);
  }
  try {
    return { file, session, ...checkInterface(file, session, spec) };
  } catch (error) {
    await session.release();
    throw error;
  }
}

async function loadError(root: string, file: string, error: unknown): Promise<DiffusionError> {
  const message = messageOf(error);
  // Weights over 2 GB live in an external data file next to model.onnx; name it when it is the missing piece.
  const dataFile = `${file}_data`;
  if (/external|_data|No such file/i.test(message) && !(await fileExists(join(root, dataFile)))) {
    return new DiffusionError(
      'model_file_missing',
      `${dataFile} (external weights of ${file}) is missing or unreadable: ${message}`,
      { file: dataFile, cause: error },
    );
  }
  return new DiffusionError(
    'model_file_malformed',
    `${file} could not be loaded by ONNX Runtime: ${message}`,
    {
      file,
      cause: error,
    },
  );
}

function checkInterface(file: string, session: ort.InferenceSession, spec: GraphSpec) {
  const malformed = (message: string) =>
    new DiffusionError('model_file_malformed', `${file}: ${message}`, { file });
  const inputs = new Map<string, TensorMeta>();
  for (const meta of session.inputMetadata) {
    const wanted = spec.inputs.find((input) => input.name === meta.name);
    if (!wanted) {
      throw new DiffusionError(
        'model_unsupported',
        `${file} has an input "${meta.name}" this pipeline does not provide ` +
          `(expected only ${spec.inputs.map((i) => i.name).join(', ')})`,
        { file },
      );
    }
    if (!meta.isTensor) throw malformed(`input "${meta.name}" is not a tensor`);
    if (!wanted.types.includes(meta.type)) {
      throw malformed(`input "${meta.name}" has dtype ${meta.type}; expected ${wanted.types.join(' or ')}`);
    }
    const ranks = typeof wanted.rank === 'number' ? [wanted.rank] : wanted.rank;
    if (meta.shape.length > 0 && !ranks.includes(meta.shape.length)) {
      throw malformed(`input "${meta.name}" has rank ${meta.shape.length}; expected ${ranks.join(' or ')}`);
    }
    inputs.set(meta.name, meta);
  }
  for (const input of spec.inputs) {
    if (!inputs.has(input.name) && !input.optional) {
      const found = session.inputNames.join(', ') || 'none';
      throw malformed(`input "${input.name}" is missing (inputs: ${found})`);
    }
  }
  const output = spec.outputs
    .map((name) => session.outputMetadata.find((meta) => meta.name === name))
    .find((meta) => meta !== undefined);
  if (!output || !output.isTensor) {
    throw malformed(
      `no output named ${spec.outputs.join(' or ')} (outputs: ${session.outputNames.join(', ') || 'none'})`,
    );
  }
  if (output.type !== 'float32' && output.type !== 'float16') {
    throw malformed(`output "${output.name}" has dtype ${output.type}; expected float32 or float16`);
  }
  return { inputs, output };
}

/** The fixed size of a dimension, or undefined when it is symbolic/unknown. */
export function fixedDim(meta: TensorMeta, axis: number): number | undefined {
  const dim = meta.shape[axis];
  return typeof dim === 'number' && dim > 0 ? dim : undefined;
}
