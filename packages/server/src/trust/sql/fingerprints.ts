// Known model fingerprints (model_fingerprints) and what each worker reports (worker_fingerprints).
import type { Kysely, Selectable } from 'kysely';
import type { Database, ModelFingerprintsTable } from '../../db/schema.js';

export type FingerprintRow = Selectable<ModelFingerprintsTable>;

export async function fingerprintsOfModel(db: Kysely<Database>, model: string): Promise<FingerprintRow[]> {
  return db
    .selectFrom('model_fingerprints')
    .selectAll()
    .where('model', '=', model)
    .orderBy('created_at')
    .orderBy('sha256')
    .execute();
}

/** Every admin-set fingerprint (pinned models): a small table, read into a cache. */
export async function pinnedFingerprints(
  db: Kysely<Database>,
): Promise<Pick<FingerprintRow, 'model' | 'sha256'>[]> {
  return db
    .selectFrom('model_fingerprints')
    .select(['model', 'sha256'])
    .where('source', '=', 'admin')
    .execute();
}

export async function deleteAdminFingerprints(db: Kysely<Database>, model: string): Promise<void> {
  await db
    .deleteFrom('model_fingerprints')
    .where('model', '=', model)
    .where('source', '=', 'admin')
    .execute();
}

/** Adds known weights; an existing (model, sha256) row keeps its source unless `overrideSource`. */
export async function addFingerprints(
  db: Kysely<Database>,
  rows: readonly {
    model: string;
    sha256: string;
    source: 'admin' | 'trusted_worker';
    addedBy: string | null;
    now: number;
  }[],
  overrideSource = false,
): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('model_fingerprints')
    .values(
      rows.map((r) => ({
        model: r.model,
        sha256: r.sha256,
        source: r.source,
        added_by: r.addedBy,
        created_at: r.now,
      })),
    )
    .onConflict((oc) =>
      overrideSource
        ? oc.columns(['model', 'sha256']).doUpdateSet((eb) => ({
            source: eb.ref('excluded.source'),
            added_by: eb.ref('excluded.added_by'),
          }))
        : oc.columns(['model', 'sha256']).doNothing(),
    )
    .execute();
}

/** Replaces what the worker last reported. */
export async function replaceWorkerFingerprints(
  db: Kysely<Database>,
  p: { workerId: string; reports: readonly { model: string; sha256: string }[]; now: number },
): Promise<void> {
  await db.deleteFrom('worker_fingerprints').where('worker_id', '=', p.workerId).execute();
  if (p.reports.length === 0) return;
  await db
    .insertInto('worker_fingerprints')
    .values(
      p.reports.map((r) => ({ worker_id: p.workerId, model: r.model, sha256: r.sha256, reported_at: p.now })),
    )
    .execute();
}

export async function workerFingerprints(db: Kysely<Database>, workerId: string) {
  return db
    .selectFrom('worker_fingerprints')
    .select(['model', 'sha256'])
    .where('worker_id', '=', workerId)
    .orderBy('model')
    .execute();
}
