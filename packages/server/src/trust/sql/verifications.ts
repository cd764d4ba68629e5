// Verification cases (one per canonical result given to other workers) and their outcomes.
import type { Kysely, Selectable } from 'kysely';
import type { Database, VerificationStateColumn, VerificationsTable } from '../../db/schema.js';

export type VerificationRow = Selectable<VerificationsTable>;

export async function openVerification(
  db: Kysely<Database>,
  p: { jobId: string; workerId: string; now: number },
): Promise<void> {
  await db
    .insertInto('verifications')
    .values({
      job_id: p.jobId,
      worker_id: p.workerId,
      state: 'pending',
      detail: null,
      created_at: p.now,
      decided_at: null,
    })
    // A re-run job (trust/reruns.ts) opens its ended case again for the new result.
    .onConflict((oc) =>
      oc
        .column('job_id')
        .doUpdateSet({
          worker_id: p.workerId,
          state: 'pending',
          detail: null,
          created_at: p.now,
          decided_at: null,
        })
        .where('verifications.state', '!=', 'pending'),
    )
    .execute();
}

/** Records how a pending case ended; false when it had already ended (a racing decision won). */
export async function decideVerification(
  db: Kysely<Database>,
  p: { jobId: string; state: Exclude<VerificationStateColumn, 'pending'>; detail: string; now: number },
): Promise<boolean> {
  const r = await db
    .updateTable('verifications')
    .set({ state: p.state, detail: p.detail, decided_at: p.now })
    .where('job_id', '=', p.jobId)
    .where('state', '=', 'pending')
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

export async function noteVerification(db: Kysely<Database>, p: { jobId: string; detail: string }) {
  await db
    .updateTable('verifications')
    .set({ detail: p.detail })
    .where('job_id', '=', p.jobId)
    .where('state', '=', 'pending')
    .execute();
}

/** Ends the pending cases of these jobs as abandoned (nobody can or need check them any more). */
export async function abandonVerifications(
  db: Kysely<Database>,
  p: { jobIds: readonly string[]; detail: string; now: number },
): Promise<void> {
  if (p.jobIds.length === 0) return;
  await db
    .updateTable('verifications')
    .set({ state: 'abandoned', detail: p.detail, decided_at: p.now })
    .where('job_id', 'in', p.jobIds)
    .where('state', '=', 'pending')
    .execute();
}
