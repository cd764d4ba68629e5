// ONNX export, so the predictor runs wherever ONNX Runtime does (workers, browsers, Python) without this
// package. The graph mirrors our scoring exactly: L2-normalise (ReduceL2 → Max(ε) → Div), then the five
// Linear layers as Gemm nodes with PyTorch-layout weights (transB=1). Opset 13: ReduceL2 still takes
// `axes` as an attribute there, and every runtime in use today supports it.

import { rename, writeFile } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import { LAYER_NAMES, validateLayers, type AestheticModel } from './mlp.js';
import { collapseModel } from './score.js';

const { onnx } = onnxProto;

export interface ExportOnnxOptions {
  /**
   * Write the eval-mode network as one Gemm (the collapsed D-vector) instead of five layers. Same
   * scores; the layered form (default) is the published architecture, for tools that inspect it.
   */
  collapsed?: boolean;
}

function floatTensor(
  name: string,
  dims: number[],
  values: Float32Array,
): InstanceType<typeof onnx.TensorProto> {
  return onnx.TensorProto.create({
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)),
  });
}

function valueInfo(name: string, dims: Array<number | string>): InstanceType<typeof onnx.ValueInfoProto> {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  });
}

/** Encodes the model as an ONNX ModelProto: input `embedding` float32 [N, D] → output `score` [N, 1]. */
export function encodeOnnx(model: AestheticModel, options: ExportOnnxOptions = {}): Uint8Array {
  const dim = validateLayers(model.layers);
  const initializer = [floatTensor('l2_epsilon', [], Float32Array.of(1e-12))];
  const node = [
    onnx.NodeProto.create({
      opType: 'ReduceL2',
      input: ['embedding'],
      output: ['l2_norm'],
      name: 'l2_norm',
      attribute: [
        { name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [1] },
        { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 1 },
      ],
    }),
    onnx.NodeProto.create({
      opType: 'Max',
      input: ['l2_norm', 'l2_epsilon'],
      output: ['l2_denominator'],
      name: 'l2_max',
    }),
    onnx.NodeProto.create({
      opType: 'Div',
      input: ['embedding', 'l2_denominator'],
      output: ['x'],
      name: 'l2_div',
    }),
  ];
  const gemm = (input: string, output: string, prefix: string): InstanceType<typeof onnx.NodeProto> =>
    onnx.NodeProto.create({
      opType: 'Gemm',
      input: [input, `${prefix}.weight`, `${prefix}.bias`],
      output: [output],
      name: prefix,
      attribute: [{ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
    });

  if (options.collapsed) {
    const collapsed = collapseModel(model);
    initializer.push(floatTensor('collapsed.weight', [1, dim], Float32Array.from(collapsed.weight)));
    initializer.push(floatTensor('collapsed.bias', [1], Float32Array.of(collapsed.bias)));
    node.push(gemm('x', 'score', 'collapsed'));
  } else {
    let input = 'x';
    model.layers.forEach((layer, i) => {
      const name = LAYER_NAMES[i] as string;
      const output = i === model.layers.length - 1 ? 'score' : `${name}.out`;
      initializer.push(floatTensor(`${name}.weight`, [layer.outputs, layer.inputs], layer.weight));
      initializer.push(floatTensor(`${name}.bias`, [layer.outputs], layer.bias));
      node.push(gemm(input, output, name));
      input = output;
    });
  }

  const metadataProps = [
    { key: 'embedding_model', value: model.metadata.embeddingModel },
    { key: 'dim', value: String(dim) },
    { key: 'created_at', value: model.metadata.createdAt },
    { key: 'input_normalization', value: 'l2 (inside the graph)' },
  ];
  if (model.metadata.training)
    metadataProps.push({ key: 'training', value: JSON.stringify(model.metadata.training) });

  const proto = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'dreamfold-aesthetics',
    opsetImport: [{ domain: '', version: 13 }],
    metadataProps,
    graph: {
      name: 'laion_improved_aesthetic_predictor',
      node,
      initializer,
      input: [valueInfo('embedding', ['N', dim])],
      output: [valueInfo('score', ['N', 1])],
    },
  });
  return onnx.ModelProto.encode(proto).finish();
}

/** Writes the ONNX file (via a temporary name and rename). */
export async function exportOnnx(
  model: AestheticModel,
  path: string,
  options: ExportOnnxOptions = {},
): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(temp, encodeOnnx(model, options));
  await rename(temp, path);
}
