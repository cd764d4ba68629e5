// Synthetic rated embeddings where the true score is known: linear in one random direction of the
// (L2-normalised) embedding, spread like real ratings (mean 5, sd 1.5), plus small noise.
import { randomValues } from './tmp.js';

export interface SyntheticSet {
  embeddings: Float32Array;
  ratings: Float32Array;
  /** The noiseless score of each row. */
  truth: Float32Array;
}

export function syntheticRatings(rows: number, dim: number, seed: number, direction = 1): SyntheticSet {
  // Deliberately not normalised: training and scoring must normalise themselves.
  const embeddings = randomValues(rows * dim, seed).map((v) => v * 3);
  const u = randomValues(dim, 1000 + direction);
  const uNorm = Math.hypot(...u);
  const noise = randomValues(rows, seed + 1);
  const ratings = new Float32Array(rows);
  const truth = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let dot = 0;
    let norm = 0;
    for (let j = 0; j < dim; j++) {
      const x = embeddings[r * dim + j]!;
      dot += x * u[j]!;
      norm += x * x;
    }
    // cos(x, u)·√dim has unit variance for random x.
    truth[r] = 5 + 1.5 * (dot / (Math.sqrt(norm) * uNorm)) * Math.sqrt(dim);
    ratings[r] = truth[r]! + 0.2 * noise[r]!;
  }
  return { embeddings, ratings, truth };
}
