// Model fingerprints. Existing networks trust the model name a worker claims, and it is often wrong; here a
// worker reports the SHA-256 of each model's weight files on pop, and
//   - results are compared only between workers that reported the same fingerprint (or both none);
//   - a model an admin pinned (PUT /v1/admin/models/{model}/fingerprints) is served only by workers whose
//     fingerprint is one of the pinned ones — "public" models, whose outputs go into releases;
//   - for other models, the fingerprints trusted workers report are kept as "known" (first seen by a
//     trusted worker), so an owner sees whether their copy matches what the trusted population runs.
import type { Kysely } from 'kysely';
import type { ModelFingerprints, PopBody, WorkerReputation } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { toIso } from '../ids.js';
import { recordAudit } from '../audit/record.js';
import * as q from './sql/fingerprints.js';

const PINNED_TTL_MS = 5_000;

export class Fingerprints {
  /** What each worker reported on its last pop, so an unchanged report costs no write. */
  private readonly reported = new Map<string, { json: string; byModel: Map<string, string> }>();
  private pinned: { at: number; byModel: Map<string, Set<string>> } | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  /** Stores a changed report; a trusted worker's fingerprints of unpinned models become known. */
  async record(workerId: string, body: Pick<PopBody, 'fingerprints'>, trusted: boolean): Promise<void> {
    const reports = [...(body.fingerprints ?? [])].sort((a, b) => a.model.localeCompare(b.model));
    const json = JSON.stringify(reports);
    if (this.reported.get(workerId)?.json === json) return;
    const now = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      await q.replaceWorkerFingerprints(trx, { workerId, reports, now });
      if (trusted) await this.learn(trx, reports, now);
    });
    this.reported.set(workerId, { json, byModel: new Map(reports.map((r) => [r.model, r.sha256])) });
  }

  /** The fingerprint the worker reported for a model; null when it reported none. */
  async of(db: Kysely<Database>, workerId: string, model: string): Promise<string | null> {
    const cached = this.reported.get(workerId);
    if (cached) return cached.byModel.get(model) ?? null;
    const rows = await q.workerFingerprints(db, workerId);
    return rows.find((r) => r.model === model)?.sha256 ?? null;
  }

  /** Models in the pop that are pinned to other weights than the worker reported. */
  async refused(body: Pick<PopBody, 'models' | 'fingerprints'>): Promise<string[]> {
    const pinned = await this.pinnedModels();
    if (pinned.size === 0) return [];
    const reported = new Map((body.fingerprints ?? []).map((f) => [f.model, f.sha256]));
    return body.models.filter((m) => {
      const allowed = pinned.get(m);
      if (!allowed) return false;
      const sha = reported.get(m);
      return sha === undefined || !allowed.has(sha);
    });
  }

  /** A worker just became trusted: what it reports for unpinned models becomes known. */
  async learnFrom(trx: Kysely<Database>, workerId: string): Promise<void> {
    await this.learn(trx, await q.workerFingerprints(trx, workerId), this.clock.now());
  }

  private async learn(
    trx: Kysely<Database>,
    reports: readonly { model: string; sha256: string }[],
    now: number,
  ) {
    // Read through the transaction: SQLite has one connection, and the transaction holds it.
    const pinned = await this.pinnedModels(trx);
    const rows = reports
      .filter((r) => !pinned.has(r.model))
      .map((r) => ({ ...r, source: 'trusted_worker' as const, addedBy: null, now }));
    await q.addFingerprints(trx, rows);
  }

  private async pinnedModels(db: Kysely<Database> = this.db): Promise<Map<string, Set<string>>> {
    const now = this.clock.now();
    if (this.pinned && now - this.pinned.at < PINNED_TTL_MS) return this.pinned.byModel;
    const byModel = new Map<string, Set<string>>();
    for (const r of await q.pinnedFingerprints(db)) {
      const set = byModel.get(r.model) ?? new Set<string>();
      set.add(r.sha256);
      byModel.set(r.model, set);
    }
    this.pinned = { at: now, byModel };
    return byModel;
  }

  /** For the owner's reputation page: each served model, its reported weights and how they stand. */
  async statuses(workerId: string, models: readonly string[]): Promise<WorkerReputation['fingerprints']> {
    const reported = new Map((await q.workerFingerprints(this.db, workerId)).map((r) => [r.model, r.sha256]));
    const pinned = await this.pinnedModels();
    const out: WorkerReputation['fingerprints'] = [];
    for (const model of [...new Set([...models, ...reported.keys()])].sort()) {
      const sha256 = reported.get(model);
      const allowed = pinned.get(model);
      let status: WorkerReputation['fingerprints'][number]['status'];
      if (allowed) status = sha256 && allowed.has(sha256) ? 'pinned' : 'refused';
      else if (sha256 && (await q.fingerprintsOfModel(this.db, model)).some((f) => f.sha256 === sha256))
        status = 'known';
      else status = 'unknown';
      out.push({ model, ...(sha256 ? { sha256 } : {}), status });
    }
    return out;
  }

  async get(model: string): Promise<ModelFingerprints> {
    return view(model, await q.fingerprintsOfModel(this.db, model));
  }

  /** An admin pins a model to exactly these weights ([] unpins it); audited in the same transaction. */
  async put(actorId: string, model: string, fingerprints: readonly string[]): Promise<ModelFingerprints> {
    if (new Set(fingerprints).size !== fingerprints.length) {
      throw new AppError('validation_failed', 'The same fingerprint is listed twice.');
    }
    const now = this.clock.now();
    const rows = await this.db.transaction().execute(async (trx) => {
      const before = (await q.fingerprintsOfModel(trx, model)).filter((f) => f.source === 'admin');
      await q.deleteAdminFingerprints(trx, model);
      await q.addFingerprints(
        trx,
        fingerprints.map((sha256) => ({ model, sha256, source: 'admin' as const, addedBy: actorId, now })),
        true,
      );
      await recordAudit(trx, {
        actorId,
        action: 'model.fingerprints',
        targetType: 'settings',
        targetId: `model-fingerprints:${model}`,
        detail: { model, before: before.map((f) => f.sha256), after: fingerprints },
        at: now,
      });
      return q.fingerprintsOfModel(trx, model);
    });
    this.pinned = undefined;
    return view(model, rows);
  }
}

function view(model: string, rows: q.FingerprintRow[]): ModelFingerprints {
  return {
    model,
    pinned: rows.some((r) => r.source === 'admin'),
    fingerprints: rows.map((r) => ({
      sha256: r.sha256,
      source: r.source,
      addedAt: toIso(Number(r.created_at)),
    })),
  };
}
