// The second measure of a replication comparison: cosine similarity of the two workers' CLIP image
// embeddings, as the coordinator stores them (L2-normalised float16, scoring/embedding-codec.ts).
//
// pHash reads only the luminance of a 32×32 copy, so it cannot tell a picture from another one of the same
// layout: other colours at the same brightness, other details at the same place. A CLIP embedding reads
// content. Comparing the embeddings also checks the embedding itself, which ships in releases and feeds
// the aesthetic scores: a worker that sends an honest picture with another picture's embedding disagrees
// too, and the third worker settles it. See thresholds.ts for the measurements behind the threshold.
import { decodeFloat16 } from '@dreamfold/aesthetics';

/** A result's embedding as recorded for verification: stored float16 bytes and the encoder it names. */
export interface ResultEmbedding {
  embedding: Uint8Array | null;
  embedding_model: string | null;
  fingerprint: string | null;
}

/**
 * Whether two results' embeddings may be compared: both have one, of the same width, from the same
 * encoder. The encoder is known to be the same only when both workers run the same weights (the same
 * fingerprint covers image_encoder/model.onnx) and neither names another encoder than the other. Without
 * that, another encoder's embedding of the same picture could be anywhere, and pHash decides alone.
 */
export function comparableEmbeddings(a: ResultEmbedding, b: ResultEmbedding): boolean {
  return (
    a.embedding !== null &&
    b.embedding !== null &&
    a.embedding.length === b.embedding.length &&
    a.fingerprint !== null &&
    a.fingerprint === b.fingerprint &&
    a.embedding_model === b.embedding_model
  );
}

/**
 * Cosine similarity of two stored embeddings (float16 bits, little-endian). Computed in float64 and
 * divided by both norms: float16 rounding leaves a stored vector's norm within ~1e-3 of 1.
 */
export function embeddingCosine(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length || a.length % 2 !== 0) throw new Error('embeddings of different widths');
  const x = halves(a);
  const y = halves(b);
  let dot = 0;
  let xx = 0;
  let yy = 0;
  for (let i = 0; i < x.length; i++) {
    dot += x[i]! * y[i]!;
    xx += x[i]! * x[i]!;
    yy += y[i]! * y[i]!;
  }
  const norms = Math.sqrt(xx * yy);
  return norms > 0 ? dot / norms : 0;
}

function halves(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length / 2);
  decodeFloat16(bytes, out); // reads an odd offset of a driver's shared Buffer too
  return out;
}
