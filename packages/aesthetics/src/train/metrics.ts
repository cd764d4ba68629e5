// Validation metrics reported with every trained model: MSE (what the network minimises) and the
// Spearman rank correlation (what filtering by threshold depends on: the order of images, not the scale).

export function meanSquaredError(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < predicted.length; i++) sum += (predicted[i]! - actual[i]!) ** 2;
  return predicted.length === 0 ? NaN : sum / predicted.length;
}

export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let meanA = 0;
  let meanB = 0;
  for (let i = 0; i < n; i++) {
    meanA += a[i]!;
    meanB += b[i]!;
  }
  meanA /= n;
  meanB /= n;
  let cov = 0;
  let varA = 0;
  let varB = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - meanA;
    const db = b[i]! - meanB;
    cov += da * db;
    varA += da * da;
    varB += db * db;
  }
  // A constant side has no defined correlation; report 0 rather than NaN so stats stay JSON numbers.
  return varA === 0 || varB === 0 ? 0 : cov / Math.sqrt(varA * varB);
}

/** Ranks starting at 1; tied values share the mean of their ranks (as scipy.stats.rankdata does). */
export function ranks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => values[x]! - values[y]!);
  const out = new Float64Array(n);
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < n && values[order[end]!] === values[order[start]!]) end++;
    const rank = (start + end + 1) / 2; // mean of 1-based ranks start+1 .. end
    for (let k = start; k < end; k++) out[order[k]!] = rank;
    start = end;
  }
  return out;
}

export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return pearson(ranks(a), ranks(b));
}
