/**
 * Moving float data in and out of ONNX Runtime tensors in the dtype each graph input declares (float32 or
 * float16), and timesteps in whatever dtype/rank the UNet declares.
 */
import * as ort from 'onnxruntime-node';
import { float32ToHalf, halfToFloat32 } from './float16.js';

export type FloatType = 'float32' | 'float16';

/** A float tensor of the requested dtype; float16 data is converted (into `scratch` when given). */
export function floatTensor(
  type: FloatType,
  data: Float32Array,
  dims: number[],
  scratch?: Uint16Array,
): ort.Tensor {
  if (type === 'float32') return new ort.Tensor('float32', data, dims);
  return new ort.Tensor('float16', float32ToHalf(data, scratch), dims);
}

/**
 * A float32 view of a float output. float16 comes back as Uint16Array bits on Node 20 and as a Float16Array where
 * the runtime has one (Node ≥ 24); both are widened.
 */
export function readFloat(tensor: ort.Tensor, out?: Float32Array): Float32Array {
  const data = tensor.data;
  if (tensor.type === 'float32') {
    const f = data as Float32Array;
    if (!out) return f;
    out.set(f);
    return out;
  }
  if (tensor.type === 'float16') {
    if (data instanceof Uint16Array) return halfToFloat32(data, out);
    const values = data as unknown as ArrayLike<number>;
    const target = out ?? new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) target[i] = values[i]!;
    return target;
  }
  throw new Error(`expected a float tensor, got ${tensor.type}`);
}

export type TimestepType = 'int64' | 'int32' | 'float32' | 'float16';

/**
 * The UNet's timestep: rank 0 (a scalar) or rank 1 with `count` copies. Integer graphs get the rounded value;
 * diffusers' ONNX pipeline truncates instead, which differs only for fractional ("linspace") schedules.
 */
export function timestepTensor(type: TimestepType, value: number, rank: number, count: number): ort.Tensor {
  const dims = rank === 0 ? [] : [count];
  const length = rank === 0 ? 1 : count;
  switch (type) {
    case 'int64':
      return new ort.Tensor('int64', new BigInt64Array(length).fill(BigInt(Math.round(value))), dims);
    case 'int32':
      return new ort.Tensor('int32', new Int32Array(length).fill(Math.round(value)), dims);
    case 'float32':
      return new ort.Tensor('float32', new Float32Array(length).fill(value), dims);
    case 'float16':
      return new ort.Tensor('float16', float32ToHalf(new Float32Array(length).fill(value)), dims);
  }
}
