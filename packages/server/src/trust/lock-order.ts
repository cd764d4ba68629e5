// Lock order (PostgreSQL). Transactions that record what results mean — a result accepted or refused, a
// replica's verdict, a suspension with its withdrawals, claw-back and re-runs, a reinstatement — take their
// row locks in this order, so two of them never wait for each other in a circle. (PostgreSQL breaks such a
// circle by aborting one of them: a worker's upload or a suspension failed with a 500 and was retried. Two
// replica completions, each verifying the other's worker, did exactly that in the population test.)
//
//   1. The row the request is fenced on, when it is a job: the leased job a worker finishes or fails, then
//      its `workers` row (counters, speed). No later step takes a leased job.
//   2. worker_trust: every worker whose standing the transaction may change, all at once, in worker-id
//      order (lockStandings, below). A replica's verdict may verify, overturn or suspend up to three
//      workers; a refusal that turns out to be the request's fault takes strikes back from several.
//   3. replicas — a replica a worker finishes is locked here, after the standings, unlike a job (1): a
//      suspension holds its worker's standing and then locks the replicas checking its results.
//      A replica's embedding (PUT …/embedding, sql/replicas.ts setReplicaEmbedding) locks only its replica,
//      in a statement of its own: holding nothing else, it cannot close a circle.
//   4. trust_results. A canonical result's embedding is copied onto the row its own transaction has just
//      inserted (sql/results.ts copyJobEmbedding, reading image_embeddings without a lock).
//   5. What follows for the jobs concerned, in this order where a transaction takes several:
//      verifications, hidden_images, credit accounts (a claw-back locks the owner's), jobs queued again
//      (reruns.ts), image_safety, then annotation_tasks and annotation_images, each in id order
//      (annotations/sql/replaced.ts).
//
// Why step 5 is safe: the rows of one job's case are changed only by a transaction that first holds the
// standing of the worker whose result it is (2) or the replica checking it (3), so two such transactions
// queue up there before they reach step 5. The writers outside trust/ that reach these tables keep the
// same relative order: the safety classifier and re-evaluation take hidden_images before image_safety
// (safety/scanner.ts) and before jobs (safety/reevaluation.ts); an answer and a rater's exclusion take
// annotation_tasks before annotation_images. SQLite runs one writer at a time and needs none of this.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Dialect } from '../db/connect.js';

/** Step 2: locks these workers' standing rows in worker-id order (PostgreSQL; a no-op on SQLite). */
export async function lockStandings(
  db: Kysely<Database>,
  dialect: Dialect,
  workerIds: readonly (string | null | undefined)[],
): Promise<void> {
  if (dialect !== 'postgres') return;
  const ids = [...new Set(workerIds.filter((id): id is string => typeof id === 'string'))].sort();
  if (ids.length === 0) return;
  await db
    .selectFrom('worker_trust')
    .select('worker_id')
    .where('worker_id', 'in', ids)
    // The same collation as the sort above, whatever the database's default.
    .orderBy(sql`worker_id collate "C"`)
    .forUpdate()
    .execute();
}
