// Re-runs: when a result is withdrawn (its worker was suspended) or overturned (two other workers agreed
// on a different picture), the requester does not simply lose the image. The job goes back to the queue
// with the same parameters and seed — a deterministic model draws the same picture on an honest worker —
// and keeps its id, its place in the generation and its place in line.
//
// The requester is not charged twice: the job's share of the reservation was settled when the withdrawn
// result was accepted (job-end:<job>), and the re-run's completion finds that settlement and posts nothing;
// if the re-run fails for good or is cancelled, credits.jobsRefunded pays the share back from the platform.
// The re-run's worker is paid under its own key (earn:<job>:r<n>). The old result keeps its evidence under
// another id; what the system decided about the old picture (withdrawal, classifier verdict) goes, a
// moderator's hide and a prompt-filter hide (the prompt is the same) stay. Raters' answers about the old
// picture leave the aggregates and releases for good (annotations/sql/replaced.ts): the new picture is
// rated afresh.
//
// Runs inside the transaction that withdrew the results. Workers waiting for the model are woken, and
// the requester's open event streams hear `requeued` for the image, after that commits: `drain` answers
// what was queued since the last call (TrustService.announce publishes it).
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Dialect } from '../db/connect.js';
import { picturesReplaced } from '../annotations/sql/replaced.js';
import type { Announce } from './settlement.js';
import * as r from './sql/reruns.js';

const CHUNK = 500;

/** A finished image queued again, for its generation's event stream. */
export interface RequeuedImage {
  jobId: string;
  generationId: string;
  index: number;
  reason: string;
  /** When it was queued again (the transaction's clock). */
  at: number;
}

/** How long a drained image whose re-run is not visible yet waits for a later announcement. */
const REQUEUE_VISIBLE_WAIT_MS = 30_000;

export class Reruns {
  private pending: Announce[] = [];
  private requeued: RequeuedImage[] = [];

  constructor(private readonly dialect: Dialect) {}

  /** Queues the finished ones among these jobs again; answers how many went back to the queue. */
  async queue(trx: Kysely<Database>, p: { jobIds: readonly string[]; reason: string; now: number }) {
    let queued = 0;
    for (let i = 0; i < p.jobIds.length; i += CHUNK) {
      const ids = p.jobIds.slice(i, i + CHUNK);
      const jobs = await r.requeueDone(trx, { jobIds: ids, reason: p.reason });
      const requeued = jobs.map((j) => j.id);
      await r.moveAsideResults(trx, requeued);
      await r.retireReplicas(trx, { jobIds: requeued, now: p.now });
      await r.clearSystemHides(trx, requeued);
      await r.clearSafetyRows(trx, requeued);
      await picturesReplaced(trx, this.dialect, { imageIds: requeued, now: p.now });
      for (const j of jobs) {
        this.pending.push({ model: j.model, pixels: j.pixels });
        this.requeued.push({
          jobId: j.id,
          generationId: j.generation_id,
          index: Number(j.idx),
          reason: p.reason,
          at: p.now,
        });
      }
      queued += jobs.length;
    }
    return queued;
  }

  /**
   * What was queued since the last call: for the workers, one entry per model and size with how many;
   * for the requesters, each image.
   */
  drain(): { jobs: { model: string; pixels: number; count: number }[]; images: RequeuedImage[] } {
    const byKind = new Map<string, { model: string; pixels: number; count: number }>();
    for (const a of this.pending) {
      const key = `${a.model}\u0000${a.pixels}`;
      const seen = byKind.get(key) ?? { ...a, count: 0 };
      seen.count++;
      byKind.set(key, seen);
    }
    const images = this.requeued;
    this.pending = [];
    this.requeued = [];
    return { jobs: [...byKind.values()], images };
  }

  /**
   * Of the drained images, those to announce as requeued now: their jobs read queued or running. Entries
   * are gathered inside a transaction and drained after whichever commit comes next, so a job that still
   * reads done belongs to a transaction that has not committed yet (on PostgreSQL, another connection's)
   * or that rolled back. Such an image goes back to wait for a later announcement (its own transaction
   * announces after it commits), for at most REQUEUE_VISIBLE_WAIT_MS: a rolled-back re-run must never
   * tell the requester the picture is gone. Waking a worker for nothing is harmless, so `jobs` needs none
   * of this.
   */
  async visible(
    db: Kysely<Database>,
    images: readonly RequeuedImage[],
    now: number,
  ): Promise<RequeuedImage[]> {
    const live = new Set<string>();
    for (let i = 0; i < images.length; i += CHUNK) {
      const ids = images.slice(i, i + CHUNK).map((image) => image.jobId);
      for (const id of await r.rerunning(db, ids)) live.add(id);
    }
    for (const image of images) {
      if (!live.has(image.jobId) && now - image.at < REQUEUE_VISIBLE_WAIT_MS) this.requeued.push(image);
    }
    return images.filter((image) => live.has(image.jobId));
  }
}
