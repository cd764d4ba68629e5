// The numbers the cheap checks and the replication comparison use, and the measurements they come from
// (bench/trust-thresholds.ts; figures measured on 2026-11-27 on this project's 2-core machine). Each
// distribution is min / p5 / median / p95 / max.
//
// spread — largest per-channel std dev of a 32×32 area-averaged copy, 0–255 scale:
//   tiny ONNX SD outputs (180, five numeric variants)  109.0 / 109.2 / 114.7 / 122.8 / 123.2
//   honest test patterns (36)                           77.6 /  77.9 /  82.5 /  94.3 /  94.3
//   plain gradients (40)                                73.8 / … / 73.9
//   solid images (40)                                    0.0 / … / 0.0
//   a blank with ±6 levels of noise sprinkled on (40)    1.00 /  1.01 /  1.73 /  1.82 /  1.82
//   random noise (40)                                   21.0 /  21.4 /  36.1 /  38.6 /  38.7
//   → blank below 4: ~2× above every disguised blank, ~20× below every honest picture.
//
// correlation — neighbouring-pixel luminance correlation at full resolution:
//   tiny ONNX SD outputs 0.87 … 0.89; test patterns 0.95 … 0.98; gradients 1.00
//   random noise −0.03 / −0.01 / 0.00 / 0.01 / 0.01
//   → noise below 0.3. Photographs and renders sit above 0.8; grainy art may dip, hence the margin.
//
// pHash Hamming distance (of 64 bits):
//   same job, 1 intra-op thread / graph optimisation off / sequential guidance   0 in all 36
//   same job, fp16 weights instead of fp32 (GPU-style rounding)                   0 / 0 / 0 / 0 / 2
//   tiny model, another seed                                                     22 / 24 / 30 / 36 / 38
//   tiny model, same seed, another prompt (random weights barely read prompts)   4 /  4 /  8 / 12 / 12
//   test patterns, other parameters                                              18 / 20 / 26 / 32 / 38
//   disguised replays (+1 brightness, ×1.05 contrast, JPEG q70, half-size trip)  0 /  0 /  0 /  6 /  6
//   → agree when ≤ 3: every same-job pair (max 2) agrees, every other-job pair (min 4) disagrees.
//     Real SD models read prompts far more than random weights do, so other prompts land much further
//     away; deployments whose providers drift more can raise TRUST_AGREE_MAX_DISTANCE.
//   → replay when ≤ 7 from an earlier result with another seed: every disguise (max 6) is found, and
//     honest pictures of other seeds are ≥ 18 away. (Same-seed pairs are left out on purpose: a model
//     given the same seed and a similar prompt makes a similar picture, honestly.)
// CLIP-embedding cosine similarity (the second replication measure, comparison.ts; measured on 2026-12-07
// with the tiny model's image encoder, 768-d, ONNX Runtime on CPU, each embedding sent as float16 and
// stored L2-normalised as the coordinator does; bench/_trust-embeddings.ts):
//   same job, 1 thread / optimisation off / sequential guidance (36 each)    1 − cos ≤ 1.3e-7
//   same job, the picture embedded with fp16 encoder weights or 1 thread     1 − cos ≤ 1.3e-7
//   same job, fp16 weights throughout (picture and encoder)   0.999983 / 0.999987 / 0.999996 / … / 0.999998
//   perturbed copies (+1 brightness, ×1.05 contrast, JPEG q70, half-size trip; 48)   min 0.99949
//   pictures pHash cannot tell apart (all 72 within 2 bits of the original):
//     the same luminance in the complementary hue (trust/testing.ts)    −0.04 / 0.04 / 0.19 / 0.31 / 0.32
//     the same luminance in grey                                         0.42 / 0.45 / 0.53 / 0.59 / 0.60
//   tiny model, same seed, other prompt (pHash ≥ 4 bits)                 0.82 / 0.84 / 0.90 / 0.95 / 0.96
//   tiny model, other seed                                              −0.04 / 0.11 / 0.30 / 0.52 / 0.53
//   test patterns, other parameters (pHash ≥ 11 bits)                    0.09 / 0.31 / 0.65 / 0.87 / 0.98
//   → agree when ≥ 0.98, i.e. 1 − cos ≤ 0.02: about the geometric middle (on 1 − cos) between the
//     perturbed copies (5.1e-4, an upper bound of numeric noise) and the closest picture pHash passes
//     (0.40): 39× the first, 20× short of the second, and 1,200× the largest honest gap measured (1.7e-5).
//     Pictures that differ beyond 0.02 but share a layout are caught; those closer than that are, on
//     these figures, pHash's to catch (the other-prompt and test-pattern pairs all are).
//   The tiny encoder is a random projection of 7×7 colour means: it follows the numeric path of a real
//   CLIP tower (ONNX Runtime, fp16/fp32, threads) but not its semantics, so a real ViT-L/14 may place
//   honest pairs lower than 1 − 2e-5; the threshold leaves three orders of magnitude for that.
//   Deployments that measure otherwise can set TRUST_AGREE_MIN_COSINE (the bench prints these figures).
//
// dHash separates a little less well on its own (another seed 19 … 43, test patterns 7 … 30), but it
// fails on other pictures than pHash does: among 4,000 honest test patterns (8 M pairs) one pair of
// different pictures came within 4 pHash bits, and was 22 dHash bits apart, while disguised replays stay
// within 4 dHash bits. A near-copy therefore needs both: pHash ≤ 7 and dHash ≤ 8.

export const THRESHOLDS = {
  /** Largest per-channel std dev (32×32 copy) below which a result is blank. */
  blankSpread: 4,
  /** Neighbour correlation below which a result is noise. */
  noiseCorrelation: 0.3,
  /** pHash distance at or below which a replica agrees (TRUST_AGREE_MAX_DISTANCE overrides). */
  agreeDistance: 3,
  /** CLIP-embedding cosine at or above which a replica agrees, where both have one (TRUST_AGREE_MIN_COSINE). */
  agreeCosine: 0.98,
  /** pHash distance at or below which a result replays an earlier one of another seed. */
  replayDistance: 7,
  /** dHash distance at or below which such a pHash match is confirmed as a copy. */
  replayConfirmDistance: 8,
} as const;
