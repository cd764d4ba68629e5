// The classifier's thresholds: NSFW_HIDE_THRESHOLD / NSFW_BLUR_THRESHOLD at first start, then whatever an
// admin sets at run time (stored in `settings` so every replica and restart agrees, audited in the same
// transaction). Read on every classified image and every owner's view, so reads are cached briefly.
import type { Kysely } from 'kysely';
import type { SafetyThresholds } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { readSetting, writeSetting } from '../settings/store.js';

const KEY = 'safety_thresholds';
const CACHE_MS = 2000;

export interface StoredThresholds extends SafetyThresholds {
  updatedAt?: number;
  updatedBy?: string | null;
}

export class ThresholdSetting {
  private cached: { value: StoredThresholds; until: number } | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly initial: SafetyThresholds,
  ) {}

  async current(): Promise<StoredThresholds> {
    const now = this.clock.now();
    if (this.cached && this.cached.until > now) return this.cached.value;
    const row = await readSetting(this.db, KEY);
    const stored = row ? (JSON.parse(row.value) as Partial<SafetyThresholds>) : {};
    const value: StoredThresholds = {
      hideAbove: stored.hideAbove ?? this.initial.hideAbove,
      blurAbove: stored.blurAbove ?? this.initial.blurAbove,
      updatedAt: row?.updated_at,
      updatedBy: row?.updated_by,
    };
    this.cached = { value, until: now + CACHE_MS };
    return value;
  }

  /** New thresholds apply to images classified from now on; blurring follows at once (it is read live). */
  async set(actorId: string, next: SafetyThresholds): Promise<StoredThresholds> {
    if (next.blurAbove > next.hideAbove) {
      throw new AppError(
        'validation_failed',
        'blurAbove must not exceed hideAbove: an image hidden from the public is blurred for its owner too.',
        [{ path: 'body/blurAbove', message: 'must be ≤ hideAbove' }],
      );
    }
    this.cached = undefined;
    const previous = await this.current();
    const now = this.clock.now();
    const value = JSON.stringify({ hideAbove: next.hideAbove, blurAbove: next.blurAbove });
    await writeSetting(this.db, {
      key: KEY,
      value,
      actorId,
      now,
      detail: {
        from: { hideAbove: previous.hideAbove, blurAbove: previous.blurAbove },
        to: { hideAbove: next.hideAbove, blurAbove: next.blurAbove },
      },
    });
    this.cached = undefined;
    return this.current();
  }
}
