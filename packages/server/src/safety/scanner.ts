// Classifies finished images off the request path. An upload commits its image with a 'pending' safety
// row and wakes this loop; the loop claims pending rows one at a time, classifies the stored PNG in the
// classifier thread and stores the verdict — hiding the image (moderation's hidden_images, reason
// naming the classifier) when it scores at or above the hide threshold, in the same transaction. Until
// then the image is not public. A slow sweep picks up rows other replicas left behind (claims expire).
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import type { Dialect } from '../db/connect.js';
import type { Clock } from '../clock.js';
import type { BlobStore } from '../storage/blob-store.js';
import { imageKey } from '../storage/blob-store.js';
import { recordAudit } from '../audit/record.js';
import { hideForSafety } from './reevaluation-queries.js';
import type { ImageClassifier } from './classifier.js';
import type { ThresholdSetting } from './thresholds.js';
import { CLASSIFIER_PREFIX } from './hide-reasons.js';
import * as q from './queries.js';

export interface ScannerSettings {
  /** How long one replica holds a claimed image before another may take it. */
  claimMs: number;
  /** Attempts before an unreadable image is given up on (it then stays non-public). */
  maxAttempts: number;
  /** How often to look for pending images nobody woke us for. */
  sweepMs: number;
}

/** The hidden_images reason: names the classifier and the numbers, so owners and moderators see why. */
export function classifierReason(score: number, threshold: number): string {
  return `${CLASSIFIER_PREFIX} scored ${score.toFixed(2)} for sexual content (hide threshold ${threshold.toFixed(2)})`;
}

export class SafetyScanner {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private sweep: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly clock: Clock,
    private readonly blobs: BlobStore,
    /** One drain loop per classifier: each is a thread, so N of them classify N images at once. */
    private readonly classifiers: readonly ImageClassifier[],
    private readonly thresholds: ThresholdSetting,
    private readonly log: Logger,
    private readonly settings: ScannerSettings,
  ) {}

  start(): void {
    this.sweep = setInterval(() => this.wake(), this.settings.sweepMs);
    this.sweep.unref();
    this.wake();
  }

  /** Something may be pending: run the loop (or run it once more if it is running). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = Promise.all(this.classifiers.map((c) => this.drain(c)))
      .then(() => undefined)
      .catch((err: Error) => this.log.error({ err: err.message }, 'safety scanner failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async drain(classifier: ImageClassifier): Promise<void> {
    while (!this.stopped) {
      this.again = false;
      const claimed = await q.claimPending(this.db, this.dialect, {
        now: this.clock.now(),
        claimMs: this.settings.claimMs,
      });
      if (!claimed) return;
      await this.classifyOne(classifier, claimed.image_id, claimed.sha256);
    }
  }

  private async classifyOne(
    classifier: ImageClassifier,
    imageId: string,
    sha256: string | null,
  ): Promise<void> {
    try {
      if (!sha256) throw new Error('the job has no stored image');
      const png = await this.blobs.get(imageKey(sha256));
      if (!png) throw new Error(`the image file ${sha256} is missing`);
      const verdict = await classifier.classify(png);
      const { hideAbove } = await this.thresholds.current();
      const now = this.clock.now();
      const hidden = await this.db
        .transaction()
        .execute(async (trx) => {
          const reason = classifierReason(verdict.score, hideAbove);
          // The hide first, then the verdict: hidden_images before image_safety, the order a suspension's
          // withdrawal and re-run take them (trust/lock-order.ts). A moderator may have hidden it already;
          // their decision (and reason) stands. A verification hold gives way, or confirming the image
          // would show it.
          const hides = verdict.score >= hideAbove && (await hideForSafety(trx, { imageId, reason, now }));
          const stored = await q.storeVerdict(trx, {
            imageId,
            score: verdict.score,
            classes: JSON.stringify(verdict.classes),
            model: classifier.name,
            now,
          });
          // No longer pending (another replica stored it, or a re-run replaced the picture): undo the hide.
          if (!stored) throw new NotPending();
          if (!hides) return false;
          await q.markHiddenByClassifier(trx, imageId);
          await recordAudit(trx, {
            actorId: null,
            action: 'image.hide',
            targetType: 'image',
            targetId: imageId,
            detail: {
              reason,
              by: 'classifier',
              model: classifier.name,
              score: verdict.score,
              threshold: hideAbove,
            },
            at: now,
          });
          return true;
        })
        .catch((err: unknown) => {
          if (err instanceof NotPending) return false;
          throw err;
        });
      this.log.debug({ imageId, score: verdict.score, hidden }, 'image classified');
    } catch (err) {
      const error = (err as Error).message || String(err);
      this.log.warn({ imageId, err: error }, 'could not classify an image');
      await q.recordClassifyError(this.db, { imageId, error, maxAttempts: this.settings.maxAttempts });
    }
  }

  /** Resolves when nothing is running (the benchmark and shutdown use it). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweep) clearInterval(this.sweep);
    await this.idle();
    await Promise.all(this.classifiers.map((c) => c.close()));
  }
}

/** Thrown inside the verdict's transaction to roll it back: the image was no longer pending. */
class NotPending extends Error {}
