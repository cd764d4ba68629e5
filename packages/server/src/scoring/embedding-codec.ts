// An embedding as a worker sends it (base64 of float16 or float32 values) → checked and stored as
// L2-normalised float16 bytes, the form a release's img_emb .npy holds, so releases copy them as they are.
import { decodeFloat16, encodeFloat16, float16ToFloat32 } from '@dreamfold/aesthetics';
import type { EmbeddingDtype } from '@dreamfold/protocol';
import { AppError } from '../errors.js';

export interface DecodedEmbedding {
  /** float16 bits, little-endian, L2-normalised. */
  bytes: Buffer;
  dim: number;
}

export function decodeEmbedding(
  input: { dtype: EmbeddingDtype; dim: number; data: string },
  expectedDim: number,
): DecodedEmbedding {
  const invalid = (detail: string) => new AppError('validation_failed', detail);
  if (input.dim !== expectedDim) {
    throw invalid(
      `This coordinator stores ${expectedDim}-d embeddings (EMBEDDING_DIM); the worker sent ${input.dim}-d.`,
    );
  }
  const raw = Buffer.from(input.data, 'base64');
  const width = input.dtype === 'float16' ? 2 : 4;
  if (raw.length !== input.dim * width) {
    throw invalid(
      `data holds ${raw.length} bytes; ${input.dim} ${input.dtype} values are ${input.dim * width} bytes.`,
    );
  }
  const values = new Float32Array(input.dim);
  for (let i = 0; i < input.dim; i++) {
    values[i] = width === 2 ? float16ToFloat32(raw.readUInt16LE(i * 2)) : raw.readFloatLE(i * 4);
  }
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw invalid(`Value ${i} of the embedding is not finite.`);
    sum += v * v;
  }
  const norm = Math.sqrt(sum);
  if (!(norm > 0) || !Number.isFinite(norm)) throw invalid('The embedding is all zeros.');
  for (let i = 0; i < values.length; i++) values[i] = values[i]! / norm;
  const half = new Uint8Array(input.dim * 2);
  encodeFloat16(values, half);
  return { bytes: Buffer.from(half.buffer, half.byteOffset, half.byteLength), dim: input.dim };
}

/** Stored float16 bytes → float32 values, into `out` at `offset` (rows of a scoring batch). */
export function readStoredEmbedding(bytes: Uint8Array, out: Float32Array, offset: number, dim: number): void {
  decodeFloat16(bytes.subarray(0, dim * 2), out.subarray(offset, offset + dim));
}

/** Stored float16 bytes as the Uint16Array of half bits a release copies without conversion. */
export function storedHalfBits(bytes: Uint8Array): Uint16Array {
  // Copied into an aligned buffer: a driver's Buffer may start at an odd offset of a shared pool.
  const copy = new Uint8Array(bytes);
  return new Uint16Array(copy.buffer, 0, copy.length / 2);
}
