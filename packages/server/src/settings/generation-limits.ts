// Generation limits (largest image, side, step count, images per request). They start from the environment
// (MAX_PIXELS and the protocol's bounds) and an admin may change them at run time; the change is stored
// in `settings` (audited) so every replica agrees, and reads are cached briefly because every submission
// asks. MAX_PIXELS is also the ceiling: upload body limits and decoding limits are sized from it at
// start-up, so a larger image could not be received or checked.
import type { Kysely } from 'kysely';
import { LIMITS, type GenerationLimitValues, type GenerationLimitsInfo } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { toIsoOrUndefined } from '../ids.js';
import { readSetting, writeSetting } from './store.js';

const KEY = 'generation_limits';
const CACHE_MS = 2000;

export class GenerationLimitsSetting {
  private cached: { info: GenerationLimitsInfo; until: number } | undefined;
  readonly defaults: GenerationLimitValues;
  readonly ceiling: GenerationLimitValues;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    maxPixels: number,
  ) {
    this.ceiling = {
      maxPixels,
      maxSide: LIMITS.maxSide,
      maxSteps: LIMITS.maxSteps,
      maxImagesPerRequest: LIMITS.maxImagesPerRequest,
    };
    this.defaults = { ...this.ceiling };
  }

  async current(): Promise<GenerationLimitValues> {
    return (await this.info()).limits;
  }

  async info(): Promise<GenerationLimitsInfo> {
    const now = this.clock.now();
    if (this.cached && this.cached.until > now) return this.cached.info;
    const row = await readSetting(this.db, KEY);
    const stored = row ? (JSON.parse(row.value) as Partial<GenerationLimitValues>) : {};
    // Anything stored beyond today's ceiling (MAX_PIXELS lowered since) is clamped to it.
    const limits = { ...this.defaults };
    for (const k of Object.keys(limits) as (keyof GenerationLimitValues)[]) {
      const v = stored[k];
      if (typeof v === 'number') limits[k] = Math.min(v, this.ceiling[k]);
    }
    const info = {
      limits,
      defaults: this.defaults,
      ceiling: this.ceiling,
      updatedAt: toIsoOrUndefined(row?.updated_at ?? null),
    };
    this.cached = { info, until: now + CACHE_MS };
    return info;
  }

  /** Stores new limits (or removes them, back to the defaults, when `next` is undefined). */
  async set(actorId: string, next: GenerationLimitValues | undefined): Promise<GenerationLimitsInfo> {
    if (next) this.validate(next);
    const previous = await this.current();
    await writeSetting(this.db, {
      key: KEY,
      value: next ? JSON.stringify(next) : undefined,
      actorId,
      now: this.clock.now(),
      detail: { from: previous, to: next ?? this.defaults },
    });
    this.cached = undefined;
    return this.info();
  }

  /** Refuses limits the pipeline cannot serve, naming each field. */
  private validate(v: GenerationLimitValues): void {
    const errors: { path: string; message: string }[] = [];
    for (const k of Object.keys(this.ceiling) as (keyof GenerationLimitValues)[]) {
      if (v[k] > this.ceiling[k]) errors.push({ path: `body/${k}`, message: `at most ${this.ceiling[k]}` });
    }
    // The smallest image the protocol allows must still fit, or nothing could be generated at all.
    const smallest = LIMITS.minSide * LIMITS.minSide;
    if (v.maxPixels < smallest) errors.push({ path: 'body/maxPixels', message: `at least ${smallest}` });
    if (v.maxSide % 8 !== 0)
      errors.push({ path: 'body/maxSide', message: 'a multiple of 8 (the VAE’s factor)' });
    if (errors.length) {
      throw new AppError(
        'validation_failed',
        `These limits cannot be served: ${errors.map((e) => `${e.path.slice(5)} must be ${e.message}`).join('; ')}.`,
        errors,
      );
    }
  }
}

/** The first limit a request breaks, as the words the requester reads; undefined when within limits. */
export function breach(
  limits: GenerationLimitValues,
  r: { width: number; height: number; steps: number; n: number },
): string | undefined {
  if (r.width > limits.maxSide || r.height > limits.maxSide)
    return `${r.width}×${r.height} has a side over ${limits.maxSide} pixels, the largest this platform allows now.`;
  if (r.width * r.height > limits.maxPixels)
    return `${r.width}×${r.height} is ${r.width * r.height} pixels; this platform allows at most ${limits.maxPixels}.`;
  if (r.steps > limits.maxSteps)
    return `${r.steps} steps is more than ${limits.maxSteps}, the most allowed now.`;
  if (r.n > limits.maxImagesPerRequest)
    return `${r.n} images is more than ${limits.maxImagesPerRequest} per request, the most allowed now.`;
  return undefined;
}
