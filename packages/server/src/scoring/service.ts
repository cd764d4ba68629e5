// The rules of aesthetic scoring on the coordinator: workers' embeddings are checked and stored under their
// lease; an admin installs a predictor (the aesthetics package's safetensors file), which becomes current;
// a background loop scores new embeddings from the queue and re-scores every embedding for a newly
// installed predictor, in bounded batches, never on the upload path. Any replica may run the loop: the
// re-scoring cursor is fenced, and scores are idempotent.
import type { Kysely } from 'kysely';
import {
  AestheticsError,
  collapseModel,
  decodeModel,
  scoreEmbeddings,
  type CollapsedModel,
} from '@dreamfold/aesthetics';
import type {
  AestheticPredictorInfo,
  ImageEmbeddingAccepted,
  ImageEmbeddingBody,
  ScoringStatus,
} from '@dreamfold/protocol';
import { recordAudit } from '../audit/record.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { AppError } from '../errors.js';
import { newId, sha256Hex, toIso } from '../ids.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { TrustService } from '../trust/service.js';
import { isReplicaId } from '../trust/sql/replicas.js';
import { leaseLost, readJob, type WorkerCaller } from '../workers/lease-context.js';
import { decodeEmbedding, readStoredEmbedding } from './embedding-codec.js';
import * as q from './queries.js';
import { scoringDb, type ScoringDatabase } from './tables.js';

export interface ScoringLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ScoringOptions {
  /** Width of the embeddings accepted and released (EMBEDDING_DIM). */
  embeddingDim: number;
  /** Embeddings per scoring batch (one query, one upsert). */
  batchRows: number;
  /** Batches one round of the loop does at most before it lets the next timer tick continue. */
  batchesPerRound?: number;
  log?: ScoringLog;
}

export interface RoundResult {
  scored: number;
  dropped: number;
  swept: number;
}

export const predictorKey = (sha256: string) => `predictors/${sha256}.safetensors`;

export class ScoringService {
  private readonly db: Kysely<ScoringDatabase>;
  private readonly base: Kysely<Database>;
  private readonly models = new Map<string, CollapsedModel>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    base: Kysely<Database>,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly trust: TrustService,
    readonly options: ScoringOptions,
  ) {
    this.base = base;
    this.db = scoringDb(base);
  }

  /** A worker's embedding of the image it is delivering under this lease (before the PNG to be verified). */
  async storeEmbedding(
    caller: WorkerCaller,
    jobId: string,
    body: ImageEmbeddingBody,
  ): Promise<ImageEmbeddingAccepted> {
    const decoded = decodeEmbedding(body, this.options.embeddingDim);
    if (isReplicaId(jobId)) {
      // A second opinion on a job never becomes an image: kept on the replica only to be compared with
      // the original's (trust/comparison.ts), never scored or released.
      await this.trust.replicas.storeEmbedding(caller, jobId, body.leaseId, {
        bytes: decoded.bytes,
        model: body.model ?? null,
      });
      return { jobId, dim: decoded.dim, stored: false };
    }
    const job = await readJob(this.base, jobId);
    if (job.lease_id !== body.leaseId || job.worker_id !== caller.workerId) throw leaseLost();
    if (job.state === 'cancelled')
      throw new AppError('job_cancelled', 'This job was cancelled; drop it and pop the next one.');
    // Done is fine too: the embedding may follow the PNG, as long as it is this lease's result. But one
    // that came before the PNG is the one verification compared with another worker's (trust/): it is
    // not replaced afterwards by a different one, which would then ship unchecked.
    if (job.state !== 'leased' && job.state !== 'done') throw leaseLost(`The job is ${job.state}.`);
    const model = body.model ?? null;
    const written = await q.storeEmbedding(this.db, {
      imageId: jobId,
      leaseId: body.leaseId,
      dim: decoded.dim,
      data: decoded.bytes,
      model,
      now: this.clock.now(),
      keepSameLease: job.state === 'done',
    });
    if (!written) {
      const kept = await q.embeddingOfLease(this.db, jobId, body.leaseId);
      const same = kept !== undefined && kept.model === model && decoded.bytes.equals(kept.data);
      if (!same) {
        throw new AppError(
          'conflict',
          'This result was delivered with another embedding; it cannot be replaced after the image.',
        );
      }
    }
    return { jobId, dim: decoded.dim, stored: true };
  }

  /** Installs a predictor file; it becomes current and every embedding is scored again with it. */
  async install(bytes: Buffer, installedBy: string | null): Promise<AestheticPredictorInfo> {
    let collapsed: CollapsedModel;
    let model: ReturnType<typeof decodeModel>;
    try {
      model = decodeModel(bytes);
      collapsed = collapseModel(model);
    } catch (error) {
      if (error instanceof AestheticsError) throw new AppError('validation_failed', error.message);
      throw error;
    }
    const { dim, embeddingModel, training } = model.metadata;
    if (dim !== this.options.embeddingDim) {
      throw new AppError(
        'validation_failed',
        `The predictor takes ${dim}-d embeddings; this coordinator stores ${this.options.embeddingDim}-d (EMBEDDING_DIM).`,
      );
    }
    if (!Number.isFinite(collapsed.bias) || collapsed.weight.some((w) => !Number.isFinite(w))) {
      throw new AppError('validation_failed', 'The predictor has weights that are not finite numbers.');
    }
    const sha256 = sha256Hex(bytes);
    await this.blobs.put(predictorKey(sha256), bytes, 'application/octet-stream');
    const row: q.PredictorRow = {
      id: newId(),
      sha256,
      dim,
      embedding_model: embeddingModel,
      bytes: bytes.length,
      training: training ? JSON.stringify(training) : null,
      installed_by: installedBy,
      installed_at: this.clock.now(),
      sweep_after: null,
      sweep_visited: 0,
      sweep_finished_at: null,
    };
    await this.base.transaction().execute(async (trx) => {
      await q.insertPredictor(scoringDb(trx), row);
      await recordAudit(trx, {
        actorId: installedBy,
        action: 'aesthetics.install_predictor',
        targetType: 'settings',
        targetId: 'aesthetic_predictor',
        detail: { predictor: row.id, sha256, dim, embeddingModel, bytes: bytes.length },
        at: row.installed_at,
      });
    });
    this.models.set(row.id, collapsed);
    this.options.log?.info({ predictor: row.id, sha256 }, 'aesthetic predictor installed; re-scoring');
    return predictorView(row);
  }

  async status(): Promise<ScoringStatus> {
    const predictor = await q.currentPredictor(this.db);
    const counts = await q.scoringCounts(this.db, predictor?.id ?? null);
    return {
      predictor: predictor ? predictorView(predictor) : null,
      embeddingDim: this.options.embeddingDim,
      embeddings: counts.embeddings,
      scored: counts.scored,
      queued: counts.queued,
      rescore: {
        done: predictor ? predictor.sweep_finished_at !== null : true,
        visited: Number(predictor?.sweep_visited ?? 0),
        ...(predictor ? { startedAt: toIso(Number(predictor.installed_at)) } : {}),
        ...(predictor && predictor.sweep_finished_at !== null
          ? { finishedAt: toIso(Number(predictor.sweep_finished_at)) }
          : {}),
      },
    };
  }

  private async model(predictor: q.PredictorRow): Promise<CollapsedModel> {
    const cached = this.models.get(predictor.id);
    if (cached) return cached;
    const bytes = await this.blobs.get(predictorKey(predictor.sha256));
    if (!bytes)
      throw new Error(`predictor file ${predictorKey(predictor.sha256)} is missing from the blob store`);
    const collapsed = collapseModel(decodeModel(bytes, predictorKey(predictor.sha256)));
    this.models.set(predictor.id, collapsed);
    return collapsed;
  }

  private async score(predictor: q.PredictorRow, rows: readonly q.EmbeddingRow[]): Promise<void> {
    if (rows.length === 0) return;
    const model = await this.model(predictor);
    const dim = model.dim;
    const values = new Float32Array(rows.length * dim);
    rows.forEach((row, i) => readStoredEmbedding(row.data, values, i * dim, dim));
    const scores = scoreEmbeddings(model, values);
    await q.upsertScores(
      this.db,
      predictor.id,
      rows.map((row, i) => ({ imageId: row.imageId, score: scores[i]! })),
      this.clock.now(),
    );
  }

  /**
   * One round: new embeddings from the queue, then the next batches of the re-scoring pass. Bounded by
   * batchesPerRound; `more` says whether work was left for the next round.
   */
  async round(): Promise<RoundResult & { more: boolean }> {
    const batch = this.options.batchRows;
    let budget = this.options.batchesPerRound ?? 20;
    const result: RoundResult = { scored: 0, dropped: 0, swept: 0 };
    const predictor = await q.currentPredictor(this.db);

    let after: string | null = null;
    for (; budget > 0; budget--) {
      const rows = await q.queuePage(this.db, after, batch);
      const done = rows.filter(
        (r) => r.jobState === 'done' && r.data !== null && r.embeddingLease === r.jobLease,
      );
      // Still being delivered under the embedding's lease: kept for a later round. Anything else (lease
      // lost, job failed or cancelled) is dropped; a new lease's embedding queues the image again.
      const settled = rows.filter((r) => !(r.jobState === 'leased' && r.embeddingLease === r.jobLease));
      // Without a predictor nothing is scored; the first install's pass covers these images.
      if (predictor) await this.score(predictor, done as q.EmbeddingRow[]);
      await q.dequeue(
        this.db,
        settled.map((r) => r.imageId),
      );
      result.scored += predictor ? done.length : 0;
      result.dropped += settled.length - done.length;
      if (rows.length < batch) break;
      after = rows[rows.length - 1]!.imageId;
    }

    let more = budget <= 0;
    if (predictor && predictor.sweep_finished_at === null) {
      let cursor = predictor.sweep_after;
      for (; budget > 0; budget--) {
        const rows = await q.validEmbeddingsPage(this.db, cursor, batch);
        await this.score(predictor, rows);
        const last = rows.length > 0 ? rows[rows.length - 1]!.imageId : cursor;
        const finished = rows.length < batch ? this.clock.now() : null;
        const moved = await q.advanceSweep(this.db, {
          id: predictor.id,
          from: cursor,
          to: last,
          visited: rows.length,
          finishedAt: finished,
        });
        // Another coordinator moved the pass meanwhile: it re-reads where it stands next round.
        if (!moved) break;
        result.swept += rows.length;
        cursor = last;
        if (finished !== null) {
          this.options.log?.info({ predictor: predictor.id }, 're-scoring finished');
          break;
        }
      }
      if (budget <= 0) more = true;
    }
    return { ...result, more };
  }

  /** Runs rounds every `everyMs`, and at once again while work is left; one round at a time. */
  start(everyMs: number): void {
    if (this.timer) return;
    const tick = () => {
      if (this.running) return;
      let more = false;
      this.running = this.round()
        .then((r) => (more = r.more))
        .catch((err: unknown) =>
          this.options.log?.error(
            { err: err instanceof Error ? err.message : String(err) },
            'scoring failed',
          ),
        )
        .finally(() => {
          this.running = undefined;
          if (more && this.timer) setImmediate(tick);
        });
    };
    this.timer = setInterval(tick, everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

function predictorView(row: q.PredictorRow): AestheticPredictorInfo {
  const training = row.training === null ? undefined : (JSON.parse(row.training) as Record<string, number>);
  return {
    id: row.id,
    sha256: row.sha256,
    dim: Number(row.dim),
    embeddingModel: row.embedding_model,
    bytes: Number(row.bytes),
    installedAt: toIso(Number(row.installed_at)),
    ...(row.installed_by ? { installedBy: row.installed_by } : {}),
    ...(training?.validationMse !== undefined ? { validationMse: training.validationMse } : {}),
    ...(training?.validationSpearman !== undefined
      ? { validationSpearman: training.validationSpearman }
      : {}),
  };
}
