/**
 * A small ONNX graph builder over onnx-proto, enough for the tiny test models. "float" values inside the graph
 * are always float32; with `precision: 'float16'` weights are stored as FLOAT16 initializers and the graph's float
 * inputs/outputs are FLOAT16, with Cast nodes at the edges — so the model presents exactly the interface of a real
 * fp16 export while computing with operators every execution provider has in fp32.
 */
import onnxProto from 'onnx-proto';
import { float32ToHalf } from '../onnx/float16.js';

const { onnx } = onnxProto;
const DataType = onnx.TensorProto.DataType;

export type Precision = 'float32' | 'float16';
export type Dim = number | string;
type AttributeValue = number | number[] | string | { floats: number[] };

export interface ExternalDataOptions {
  /** File name next to model.onnx, e.g. "model.onnx_data". */
  location: string;
}

export class GraphBuilder {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly external: Buffer[] = [];
  private externalOffset = 0;
  private counter = 0;

  constructor(
    private readonly name: string,
    readonly precision: Precision,
    private readonly externalData?: ExternalDataOptions,
  ) {}

  private fresh(hint: string): string {
    return `${hint}_${this.counter++}`;
  }

  private floatType(): number {
    return this.precision === 'float16' ? DataType.FLOAT16 : DataType.FLOAT;
  }

  /** A float weight, returned as a float32 value name (cast from fp16 storage when needed). */
  weight(name: string, dims: number[], data: Float32Array): string {
    if (this.precision === 'float32') {
      this.addInitializer(
        name,
        DataType.FLOAT,
        dims,
        Buffer.from(data.buffer, data.byteOffset, data.byteLength),
      );
      return name;
    }
    const half = float32ToHalf(data);
    this.addInitializer(
      name,
      DataType.FLOAT16,
      dims,
      Buffer.from(half.buffer, half.byteOffset, half.byteLength),
    );
    return this.node('Cast', [name], { to: DataType.FLOAT });
  }

  /** An int64 constant (shapes, axes). Never external: ORT reads shape inputs at graph build time. */
  int64(name: string, values: number[]): string {
    const data = new BigInt64Array(values.map((v) => BigInt(v)));
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dataType: DataType.INT64,
        dims: [values.length],
        rawData: new Uint8Array(data.buffer),
      }),
    );
    return name;
  }

  /** A float32 constant that is not a weight (e.g. Resize scales). */
  floatConstant(name: string, values: number[]): string {
    const data = new Float32Array(values);
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dataType: DataType.FLOAT,
        dims: [values.length],
        rawData: new Uint8Array(data.buffer),
      }),
    );
    return name;
  }

  private addInitializer(name: string, dataType: number, dims: number[], bytes: Buffer): void {
    if (this.externalData) {
      this.initializers.push(
        onnx.TensorProto.create({
          name,
          dataType,
          dims,
          dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
          externalData: [
            { key: 'location', value: this.externalData.location },
            { key: 'offset', value: String(this.externalOffset) },
            { key: 'length', value: String(bytes.length) },
          ],
        }),
      );
      this.external.push(bytes);
      this.externalOffset += bytes.length;
      return;
    }
    this.initializers.push(onnx.TensorProto.create({ name, dataType, dims, rawData: new Uint8Array(bytes) }));
  }

  /** Declare a graph input; float inputs come back as a float32 value name. */
  input(name: string, type: 'float' | 'int32' | 'int64', shape: Dim[]): string {
    const elemType = type === 'float' ? this.floatType() : type === 'int32' ? DataType.INT32 : DataType.INT64;
    this.inputs.push(valueInfo(name, elemType, shape));
    if (type === 'float' && this.precision === 'float16')
      return this.node('Cast', [name], { to: DataType.FLOAT });
    return name;
  }

  /** Declare a float graph output fed by a float32 value. */
  output(name: string, value: string, shape: Dim[]): void {
    if (this.precision === 'float16') this.node('Cast', [value], { to: DataType.FLOAT16 }, name);
    else this.node('Identity', [value], {}, name);
    this.outputs.push(valueInfo(name, this.floatType(), shape));
  }

  /** Add a node; returns its (first) output name. */
  node(
    opType: string,
    inputs: string[],
    attributes: Record<string, AttributeValue> = {},
    output?: string,
  ): string {
    const out = output ?? this.fresh(opType.toLowerCase());
    this.nodes.push(
      onnx.NodeProto.create({
        opType,
        name: this.fresh(`${opType}_node`),
        input: inputs,
        output: [out],
        attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
      }),
    );
    return out;
  }

  /** Serialised model.onnx, plus the external data file's bytes when configured. */
  build(): { model: Uint8Array; externalData: Buffer | undefined } {
    const graph = onnx.GraphProto.create({
      name: this.name,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
    });
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'dreamfold-tiny-model',
      opsetImport: [{ domain: '', version: 17 }],
      graph,
    });
    return {
      model: onnx.ModelProto.encode(model).finish(),
      externalData: this.externalData ? Buffer.concat(this.external) : undefined,
    };
  }
}

function valueInfo(name: string, elemType: number, shape: Dim[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

function attribute(name: string, value: AttributeValue) {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') {
    return Number.isInteger(value)
      ? onnx.AttributeProto.create({ name, type: A.INT, i: value })
      : onnx.AttributeProto.create({ name, type: A.FLOAT, f: value });
  }
  if (typeof value === 'string') {
    return onnx.AttributeProto.create({ name, type: A.STRING, s: new TextEncoder().encode(value) });
  }
  if (Array.isArray(value)) return onnx.AttributeProto.create({ name, type: A.INTS, ints: value });
  return onnx.AttributeProto.create({ name, type: A.FLOATS, floats: value.floats });
}
