import type { Kysely, Selectable } from 'kysely';
import type { Database, JobsTable } from '../../db/schema.js';

/**
 * Cancels every job of a generation that has not finished, saying why in `last_error` (the requester
 * reads it as the image's cancel reason). A leased job keeps its lease id so its worker learns of the
 * cancellation on its next heartbeat; its upload is then refused.
 */
export async function cancelGeneration(
  db: Kysely<Database>,
  p: { generationId: string; reason: string; now: number },
): Promise<Pick<Selectable<JobsTable>, 'id' | 'idx'>[]> {
  return db
    .updateTable('jobs')
    .set({ state: 'cancelled', finished_at: p.now, lease_expires_at: null, last_error: p.reason })
    .where('generation_id', '=', p.generationId)
    .where('state', 'in', ['queued', 'leased'])
    .returning(['id', 'idx'])
    .execute();
}
