// What things cost and earn, in whole credits. Generation work is priced by pixels × steps, the quantity
// a diffusion model's compute grows with, relative to one 512×512 image at 25 steps.

export const REFERENCE_PIXELS = 512 * 512;
export const REFERENCE_STEPS = 25;
const REFERENCE_PIXEL_STEPS = REFERENCE_PIXELS * REFERENCE_STEPS;

export interface Pricing {
  /** Credits one reference image costs its requester (0: generating is free). */
  imageCost: number;
  /** Credits a worker's owner earns for one completed reference image. */
  workerReward: number;
  /** Credits one accepted annotation earns. */
  annotationReward: number;
}

/**
 * `base` scaled by pixels × steps against the reference and rounded up, so every image of a non-free
 * price costs at least one credit. Exact integer arithmetic: the operands stay far below 2^53 (base ≤
 * 10^6, pixels ≤ 2048², steps ≤ 150).
 */
export function scaledCredits(base: number, pixels: number, steps: number): number {
  const numerator = base * pixels * steps;
  const floor = Math.floor(numerator / REFERENCE_PIXEL_STEPS);
  return floor * REFERENCE_PIXEL_STEPS < numerator ? floor + 1 : floor;
}

/** What one image of a generation costs. */
export function imagePrice(pricing: Pricing, p: { width: number; height: number; steps: number }): number {
  return scaledCredits(pricing.imageCost, p.width * p.height, p.steps);
}

/** What a worker's owner earns for one completed image. */
export function workerEarning(pricing: Pricing, p: { pixels: number; steps: number }): number {
  return scaledCredits(pricing.workerReward, p.pixels, p.steps);
}
