import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';

/** Counts a finished or failed job on its worker, in the transaction that finished it. */
export async function countWorkerOutcome(
  db: Kysely<Database>,
  workerId: string | null,
  outcome: 'jobs_done' | 'jobs_failed',
): Promise<void> {
  if (!workerId) return;
  await db
    .updateTable('workers')
    .set((eb) => ({ [outcome]: eb(outcome, '+', 1) }))
    .where('id', '=', workerId)
    .execute();
}
