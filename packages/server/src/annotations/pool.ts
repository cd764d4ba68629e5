// Keeps the pool of annotatable images (annotation_images) up to date with finished jobs. The pool is
// what tasks are drawn from and where each image's aggregates live; it carries the normalised-prompt key
// that pairs images of the same prompt (same generation with n ≥ 2, or the same prompt text).
//
// Filling reads finished jobs from `lowerBound` on, skipping those already pooled. The bound trails the
// newest pooled image by LAG_MS so that a job whose transaction committed late (or that another replica
// finished with a slightly different clock) is still picked up.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import {
  finishedImagesById,
  finishedImagesNotInPool,
  insertPoolImages,
  markPairable,
  newestPooledAt,
  type FinishedImage,
} from './sql/pool.js';

const LAG_MS = 5_000;
const BATCH = 500;
/** Batches per refresh: a first start over a large backlog fills over several calls, none of them long. */
const MAX_BATCHES = 20;
/** Unforced refreshes run at most this often (real time) per process. */
const MIN_INTERVAL_MS = 250;

/** Same prompt, modulo Unicode compatibility forms, case and whitespace. */
export function promptKey(prompt: string): string {
  const normalised = prompt.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
  return createHash('sha256').update(normalised).digest('hex').slice(0, 32);
}

export class ImagePool {
  private newest: number | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private lastStart = -Infinity;

  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Brings the pool up to date. Concurrent callers share one run; an unforced call right after another
   * run is skipped (the hand-out forces one when it finds nothing, so a new image is never missed).
   */
  async refresh(force = false): Promise<void> {
    if (this.running) {
      if (force) this.again = true;
      return this.running;
    }
    if (!force && performance.now() - this.lastStart < MIN_INTERVAL_MS) return;
    this.running = this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Makes sure the named finished images are pooled (gold items may name images newer than the pool). */
  async ensure(db: Kysely<Database>, ids: readonly string[]): Promise<void> {
    await this.ingest(db, await finishedImagesById(db, ids));
  }

  private async run(): Promise<void> {
    do {
      this.again = false;
      this.lastStart = performance.now();
      this.newest ??= (await newestPooledAt(this.db)) ?? -1;
      for (let i = 0; i < MAX_BATCHES; i++) {
        const rows = await finishedImagesNotInPool(this.db, { since: this.newest - LAG_MS, limit: BATCH });
        await this.db.transaction().execute((trx) => this.ingest(trx, rows));
        const last = rows.at(-1);
        if (last) this.newest = Math.max(this.newest, last.finished_at);
        if (rows.length < BATCH) break;
      }
    } while (this.again);
  }

  private async ingest(db: Kysely<Database>, rows: readonly FinishedImage[]): Promise<void> {
    if (rows.length === 0) return;
    const pooled = rows.map((r) => ({
      image_id: r.id,
      generation_id: r.generation_id,
      owner_id: r.user_id,
      prompt_key: promptKey(r.prompt),
      finished_at: r.finished_at,
    }));
    await insertPoolImages(db, pooled);
    await markPairable(db, [...new Set(pooled.map((p) => p.prompt_key))]);
  }
}
