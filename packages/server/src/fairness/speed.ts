// Worker speed in one unit that does not depend on the request: milliseconds per megapixel-step. A
// 512×512, 25-step image is 0.262 Mpx × 25 = 6.55 Mpx-steps; a worker at 800 ms/Mpx-step takes ~5.2 s.
// Measured from lease start to accepted result (what a requester waits), smoothed over recent jobs.

/** Weight of the newest measurement in the running average. */
export const SPEED_SMOOTHING = 0.3;

export function megapixelSteps(pixels: number, steps: number): number {
  return (pixels / 1_000_000) * steps;
}

/** The requester's "no slower than N seconds per image" in the worker speed unit. */
export function maxMsPerMegapixelStep(maxSecondsPerImage: number, pixels: number, steps: number): number {
  return (maxSecondsPerImage * 1000) / megapixelSteps(pixels, steps);
}

/** One job's measured speed, or undefined when it cannot be measured. */
export function speedSample(p: {
  leasedAt: number | null;
  finishedAt: number;
  pixels: number;
  steps: number;
}): number | undefined {
  if (p.leasedAt === null || p.finishedAt < p.leasedAt) return undefined;
  const work = megapixelSteps(p.pixels, p.steps);
  if (work <= 0) return undefined;
  // A result in the same millisecond as its lease still took some time: 1 ms at least.
  return Math.max(1, p.finishedAt - p.leasedAt) / work;
}

/** Seconds a worker at this speed takes for one image. */
export function secondsPerImage(msPerMpxStep: number, pixels: number, steps: number): number {
  return (msPerMpxStep * megapixelSteps(pixels, steps)) / 1000;
}
