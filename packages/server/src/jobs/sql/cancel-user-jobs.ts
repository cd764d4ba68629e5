import type { Kysely, Selectable } from 'kysely';
import type { Database, JobsTable } from '../../db/schema.js';

/**
 * Cancels every unfinished job of one user (their account was suspended), the way a requester's cancel
 * does: leased jobs keep their lease id, so their workers learn of it on the next heartbeat. Found
 * through the user's generations (generations_user_created_id, then jobs_generation) rather than an index
 * on jobs.user_id, which every job's insert and state change would pay for to serve this rare action.
 */
export async function cancelJobsOfUser(
  db: Kysely<Database>,
  p: { userId: string; reason: string; now: number },
): Promise<Pick<Selectable<JobsTable>, 'id' | 'idx' | 'generation_id'>[]> {
  return db
    .updateTable('jobs')
    .set({ state: 'cancelled', finished_at: p.now, lease_expires_at: null, last_error: p.reason })
    .where('generation_id', 'in', (eb) =>
      eb.selectFrom('generations').select('id').where('user_id', '=', p.userId),
    )
    .where('state', 'in', ['queued', 'leased'])
    .returning(['id', 'idx', 'generation_id'])
    .execute();
}
