import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { preparedPerDialect } from '../../db/prepared-per-dialect.js';
import { smoothedSpeed } from '../../fairness/queries.js';

// The usual case, a finished job with its speed, is compiled once per dialect (db/prepared-per-dialect.ts).
const countDoneWithSpeed = preparedPerDialect(2, (db, workerId: string, sample: number) =>
  db
    .updateTable('workers')
    .set((eb) => ({ jobs_done: eb('jobs_done', '+', 1), ms_per_mpx_step: smoothedSpeed(sample) }))
    .where('id', '=', workerId),
);

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
  if (outcome === 'jobs_done' && speedSample !== undefined) {
    await countDoneWithSpeed(db, workerId, speedSample);
    return;
  }
  await db
    .updateTable('workers')
    .set((eb) => ({
      [outcome]: eb(outcome, '+', 1),
      ...(speedSample === undefined ? {} : { ms_per_mpx_step: smoothedSpeed(speedSample) }),
    }))
    .where('id', '=', workerId)
    .execute();
}
