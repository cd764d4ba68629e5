// Output safety's rules: every finished image gets a safety row in the transaction that finishes it; the
// scanner classifies it off the request path; until then it is not public (moderation/visibility.ts). The
// owner sees the score, whether to blur, whether it is hidden, by what and why, and their appeal.
import type { Kysely, Transaction } from 'kysely';
import type { Logger } from 'pino';
import type {
  Generation,
  GenerationImage,
  ImageSafety,
  SafetySettings,
  SafetyThresholds,
} from '@dreamfold/protocol';
import type { AppealStateColumn, Database } from '../db/schema.js';
import type { Dialect } from '../db/connect.js';
import type { Clock } from '../clock.js';
import type { BlobStore } from '../storage/blob-store.js';
import { toIsoOrUndefined } from '../ids.js';
import { NsfwjsClassifier, type ImageClassifier } from './classifier.js';
import { SafetyScanner } from './scanner.js';
import { ThresholdSetting } from './thresholds.js';
import { AppealsService } from './appeals.js';
import { Reevaluations, type FailedJobs } from './reevaluation.js';
import { latestAppeals } from './appeal-queries.js';
import { hideSource } from './hide-reasons.js';
import * as q from './queries.js';

export interface SafetyConfig {
  /** 'nsfwjs': classify every image; 'off': images are public unchecked (a deployment that moderates otherwise). */
  classifier: 'nsfwjs' | 'off';
  /** Thresholds at first start; an admin changes them at run time. */
  thresholds: SafetyThresholds;
  /** Decoding bound for stored images (they were validated against it on upload). */
  maxPixels: number;
  /** Classifier threads: each classifies one image at a time (~80 ms on one core). */
  threads: number;
}

export class SafetyService {
  readonly thresholds: ThresholdSetting;
  readonly appeals: AppealsService;
  /** Images and prompts judged again after the thresholds or the prompt filter changed. */
  readonly reevaluations: Reevaluations;
  private readonly scanner: SafetyScanner | undefined;
  private readonly classifierName: string;

  constructor(
    private readonly db: Kysely<Database>,
    dialect: Dialect,
    clock: Clock,
    blobs: BlobStore,
    private readonly log: Logger,
    config: SafetyConfig,
    /** Refunds and tells requesters whose images a new prompt rule stopped (failed-jobs.ts). */
    failed: FailedJobs,
    /** Tests and benchmarks may pass another classifier; production uses nsfwjs on WebAssembly. */
    classifier?: ImageClassifier,
  ) {
    this.thresholds = new ThresholdSetting(db, clock, config.thresholds);
    this.appeals = new AppealsService(db, clock);
    this.reevaluations = new Reevaluations(db, clock, log, failed);
    if (config.classifier === 'off') {
      this.classifierName = 'off';
    } else {
      const pool = classifier
        ? [classifier]
        : Array.from(
            { length: config.threads },
            () => new NsfwjsClassifier({ backend: 'wasm', maxPixels: config.maxPixels }),
          );
      this.classifierName = pool[0]!.name;
      this.scanner = new SafetyScanner(db, dialect, clock, blobs, pool, this.thresholds, log, {
        claimMs: 60_000,
        maxAttempts: 3,
        sweepMs: 5_000,
      });
    }
  }

  async start(): Promise<void> {
    await this.reevaluations.resume();
    if (this.scanner) {
      this.scanner.start();
      return;
    }
    const released = await q.releaseAllPending(this.db);
    if (released > 0)
      this.log.warn({ released }, 'NSFW_CLASSIFIER=off: pending images became public unchecked');
  }

  /** Call in the transaction that marks the job done: the image is not public until this row says so. */
  async imageFinished(trx: Transaction<Database>, imageId: string, now: number): Promise<void> {
    await q.insertSafetyRow(trx, { imageId, state: this.scanner ? 'pending' : 'unchecked', now });
  }

  /** Call after that transaction committed: classify it soon. */
  imageStored(): void {
    this.scanner?.wake();
  }

  /** Adds each finished image's safety view (owner or staff are looking; the caller checked). */
  async describe<T extends Pick<Generation, 'images'>>(generations: T[]): Promise<T[]> {
    const done = generations.flatMap((g) => g.images.filter((i) => i.state === 'done').map((i) => i.jobId));
    if (done.length === 0) return generations;
    const [rows, appeals, { blurAbove }] = await Promise.all([
      q.safetyOfImages(this.db, done),
      latestAppeals(this.db, done),
      this.thresholds.current(),
    ]);
    const byId = new Map(rows.map((r) => [r.imageId, r]));
    const view = (image: GenerationImage): GenerationImage => {
      if (image.state !== 'done') return image;
      const row = byId.get(image.jobId);
      const appeal = appeals.get(image.jobId);
      return { ...image, nsfw: toImageSafety(row, blurAbove, appeal) };
    };
    return generations.map((g) => ({ ...g, images: g.images.map(view) }));
  }

  async describeOne<T extends Pick<Generation, 'images'>>(generation: T): Promise<T> {
    const [described] = await this.describe([generation]);
    return described ?? generation;
  }

  async settings(): Promise<SafetySettings> {
    const [t, pending] = await Promise.all([this.thresholds.current(), q.countPending(this.db)]);
    return {
      hideAbove: t.hideAbove,
      blurAbove: t.blurAbove,
      classifier: this.classifierName,
      pending,
      updatedAt: toIsoOrUndefined(t.updatedAt ?? null),
      updatedBy: t.updatedBy ?? undefined,
    };
  }

  /** New thresholds apply to new verdicts at once, and to images already classified in the background. */
  async setThresholds(actorId: string, body: SafetyThresholds): Promise<SafetySettings> {
    const before = await this.thresholds.current();
    const after = await this.thresholds.set(actorId, body);
    if (after.hideAbove !== before.hideAbove)
      await this.reevaluations.thresholdsChanged(actorId, after.hideAbove);
    return this.settings();
  }

  /** Resolves when the scanner has nothing in hand (benchmarks). */
  async idle(): Promise<void> {
    await this.scanner?.idle();
  }

  async stop(): Promise<void> {
    await this.reevaluations.stop();
    await this.scanner?.stop();
  }
}

export function toImageSafety(
  row: q.ImageSafetyRow | undefined,
  blurAbove: number,
  appeal: { id: string; state: AppealStateColumn } | undefined,
): ImageSafety {
  // No row yet (a read racing the transaction that finished the image): not looked at, so pending.
  if (!row) return { state: 'pending', blur: true, hidden: false };
  const hidden = row.hiddenAt !== null;
  const score = row.score ?? undefined;
  let blur: boolean;
  if (hidden) blur = true;
  else if (score !== undefined) blur = score >= blurAbove;
  // Pending or unreadable: nobody has looked at it yet. Unchecked: this deployment runs no classifier.
  else blur = row.state !== 'unchecked';
  return {
    state: row.state,
    score,
    blur,
    hidden,
    hiddenBy: hidden ? hideSource({ hiddenBy: row.hiddenBy, reason: row.hiddenReason ?? '' }) : undefined,
    reason: hidden ? (row.hiddenReason ?? undefined) : undefined,
    appeal: appeal ? { id: appeal.id, state: appeal.state } : undefined,
  };
}
