import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { smoothedSpeed } from '../../fairness/queries.js';

/**
 * Counts a finished or failed job on its worker, in the transaction that finished it; a finished job's
 * measured speed (fairness/speed.ts) goes into the worker's running average in the same statement.
 */
export async function countWorkerOutcome(
  db: Kysely<Database>,
  workerId: string | null,
  outcome: 'jobs_done' | 'jobs_failed',
  speedSample?: number,
): Promise<void> {
  if (!workerId) return;
  await db
    .updateTable('workers')
    .set((eb) => ({
      [outcome]: eb(outcome, '+', 1),
      ...(speedSample === undefined ? {} : { ms_per_mpx_step: smoothedSpeed(speedSample) }),
    }))
    .where('id', '=', workerId)
    .execute();
}
