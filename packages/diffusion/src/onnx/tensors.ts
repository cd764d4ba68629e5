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
 * A float32 view of a float output: float32 data is returned as is (no copy); float16 comes back as Uint16Array
 * bits on Node 20 and as a Float16Array where the runtime has one (Node ≥ 24), and is widened into `scratch`
 * when given (reused across steps to spare the garbage collector) or a new array.
 */
export function readFloat(tensor: ort.Tensor, scratch?: Float32Array): Float32Array {
  const data = tensor.data;
  if (tensor.type === 'float32') return data as Float32Array;
  if (tensor.type === 'float16') {
    const length = (data as ArrayLike<number>).length;
    const out = scratch && scratch.length >= length ? scratch.subarray(0, length) : new Float32Array(length);
    if (data instanceof Uint16Array) return halfToFloat32(data, out);
    const values = data as unknown as ArrayLike<number>;
    for (let i = 0; i < length; i++) out[i] = values[i]!;
    return out;
  }
  throw new Error(`expected a float tensor, got ${tensor.type}`);
}

/**
 * The UNet's `sample` input, reused across steps. The scheduler writes the scaled latents into `target`; `tensor`
 * then repeats them for each batch entry (cond/uncond) — converting to float16 once, not per copy.
 */
export class SampleInput {
  readonly target: Float32Array;
  private readonly floats: Float32Array | undefined;
  private readonly halves: Uint16Array | undefined;

  constructor(
    private readonly type: FloatType,
    private readonly size: number,
    maxBatch: number,
  ) {
    if (type === 'float32') {
      this.floats = new Float32Array(size * maxBatch);
      this.target = this.floats.subarray(0, size);
    } else {
      this.halves = new Uint16Array(size * maxBatch);
      this.target = new Float32Array(size);
    }
  }

  tensor(batch: number, dims: readonly number[]): ort.Tensor {
    const shape = [batch, ...dims];
    if (this.floats) {
      for (let b = 1; b < batch; b++) this.floats.copyWithin(b * this.size, 0, this.size);
      return new ort.Tensor('float32', this.floats.subarray(0, batch * this.size), shape);
    }
    const halves = this.halves!;
    float32ToHalf(this.target, halves.subarray(0, this.size));
    for (let b = 1; b < batch; b++) halves.copyWithin(b * this.size, 0, this.size);
    return new ort.Tensor(this.type, halves.subarray(0, batch * this.size), shape);
  }
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
