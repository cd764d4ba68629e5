// Whether two runs of one job (same weights, parameters and seed) produced the same picture: the
// perceptual hash always, and the CLIP embeddings as well when both results came with one from the same
// encoder (embedding-similarity.ts). They agree only when every measure that applies agrees:
//   - pHash (luminance layout) misses pictures of the same layout with other content (other colours at
//     the same brightness, other details in the same places); the embedding sees those;
//   - the embedding is the worker's own claim, shipped in releases and scored for aesthetics: comparing it
//     checks it too, where pHash alone would let a wrong one through with an honest picture;
//   - an honest pair passes both with a wide margin (thresholds.ts), so requiring both costs honest
//     workers nothing measurable; a disagreement only asks a third worker, it penalises nobody by itself.
// Results without embeddings (workers whose model folder has no image encoder, or that sent it after the
// PNG) are compared by pHash alone, as before.
import { hammingDistance } from './image-analysis.js';
import { comparableEmbeddings, embeddingCosine } from './embedding-similarity.js';
import type { ResultRow } from './sql/results.js';

export interface AgreementThresholds {
  /** pHash distance (of 64 bits) at or below which two runs agree. */
  agreeMaxDistance: number;
  /** Embedding cosine at or above which two runs agree, where both have a comparable embedding. */
  agreeMinCosine: number;
}

export type Compared = Pick<ResultRow, 'phash' | 'embedding' | 'embedding_model' | 'fingerprint'>;

export interface Comparison {
  agree: boolean;
  bits: number;
  /** Cosine of the two embeddings; undefined when they could not be compared. */
  cosine?: number;
}

export function compareResults(a: Compared, b: Compared, t: AgreementThresholds): Comparison {
  const bits = hammingDistance(a.phash, b.phash);
  if (!comparableEmbeddings(a, b)) return { agree: bits <= t.agreeMaxDistance, bits };
  const cosine = embeddingCosine(a.embedding!, b.embedding!);
  return { agree: bits <= t.agreeMaxDistance && cosine >= t.agreeMinCosine, bits, cosine };
}

/** "2 of 64 perceptual-hash bits differ; CLIP-embedding cosine 0.9999" — for verification details. */
export function describeComparison(c: Comparison): string {
  const bits = `${c.bits} of 64 perceptual-hash bits differ`;
  return c.cosine === undefined ? bits : `${bits}; CLIP-embedding cosine ${c.cosine.toFixed(4)}`;
}
