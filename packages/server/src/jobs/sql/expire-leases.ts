import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, JobsTable } from '../../db/schema.js';

/**
 * Takes back every job whose lease deadline passed: back to the queue, or failed once it has used all its
 * attempts. The old lease id is cleared, so the worker that lost it can no longer heartbeat or complete.
 */
export async function expireLeases(
  db: Kysely<Database>,
  now: number,
): Promise<Pick<Selectable<JobsTable>, 'id' | 'generation_id' | 'idx' | 'state' | 'model' | 'worker_id'>[]> {
  const exhausted = sql<boolean>`attempts >= max_attempts`;
  return db
    .updateTable('jobs')
    .set({
      state: sql`case when ${exhausted} then 'failed' else 'queued' end`,
      // The parameter is cast: PostgreSQL cannot infer its type inside CASE.
      finished_at: sql`case when ${exhausted} then cast(${now} as bigint) else null end`,
      last_error: 'The worker stopped responding (lease expired).',
      lease_id: null,
      // worker_id stays (as after a failure): the lost lease is recorded against the worker that held it.
      lease_expires_at: null,
      step: 0,
      failure_class: 'lease_expired',
    })
    .where('state', '=', 'leased')
    .where('lease_expires_at', '<', now)
    .returning(['id', 'generation_id', 'idx', 'state', 'model', 'worker_id'])
    .execute();
}
