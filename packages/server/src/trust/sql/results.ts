// Accepted results and their hashes (trust_results): one function per statement.
import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import type { Database, TrustResultStatus, TrustResultsTable } from '../../db/schema.js';

export type ResultRow = Selectable<TrustResultsTable>;

export async function insertResult(db: Kysely<Database>, row: Insertable<TrustResultsTable>): Promise<void> {
  await db.insertInto('trust_results').values(row).execute();
}

/**
 * Copies onto a canonical result the CLIP embedding its worker sent under the lease that delivered it
 * (scoring/, image_embeddings); null when none came before the result.
 */
export async function copyJobEmbedding(
  db: Kysely<Database>,
  p: { jobId: string; leaseId: string | null },
): Promise<void> {
  const sent = (column: 'data' | 'model') =>
    sql<never>`(select ${sql.ref(column)} from image_embeddings where image_id = ${p.jobId} and lease_id = ${p.leaseId})`;
  await db
    .updateTable('trust_results')
    .set({ embedding: sent('data'), embedding_model: sent('model') })
    .where('id', '=', p.jobId)
    .execute();
}

export async function getResult(db: Kysely<Database>, id: string): Promise<ResultRow | undefined> {
  return db.selectFrom('trust_results').selectAll().where('id', '=', id).executeTakeFirst();
}

type Earlier = Pick<ResultRow, 'id' | 'job_id' | 'params_key' | 'seed' | 'phash' | 'dhash'>;

/** Earlier results with exactly these bytes (newest first, bounded). */
export async function resultsWithSha(
  db: Kysely<Database>,
  sha256: string,
  limit: number,
): Promise<Earlier[]> {
  return db
    .selectFrom('trust_results')
    .select(['id', 'job_id', 'params_key', 'seed', 'phash', 'dhash'])
    .where('sha256', '=', sha256)
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
}

/**
 * Earlier results sharing one of the four 16-bit bands of the perceptual hash with any of the probes
 * (each band's own value and its 16 one-bit neighbours): every hash within 7 bits has a band within one
 * bit, so this finds all of them by index. The caller computes the real distance.
 */
export async function resultsNearBands(
  db: Kysely<Database>,
  probes: readonly [number[], number[], number[], number[]],
  limit: number,
): Promise<Earlier[]> {
  return db
    .selectFrom('trust_results')
    .select(['id', 'job_id', 'params_key', 'seed', 'phash', 'dhash'])
    .where((eb) =>
      eb.or([
        eb('band0', 'in', probes[0]),
        eb('band1', 'in', probes[1]),
        eb('band2', 'in', probes[2]),
        eb('band3', 'in', probes[3]),
      ]),
    )
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
}

export async function setResultStatus(
  db: Kysely<Database>,
  p: { id: string; from: TrustResultStatus; to: TrustResultStatus },
): Promise<boolean> {
  const r = await db
    .updateTable('trust_results')
    .set({ status: p.to })
    .where('id', '=', p.id)
    .where('status', '=', p.from)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/** Withdraws every unverified result of a worker; answers the canonical ones (their images get hidden). */
export async function withdrawUnverified(
  db: Kysely<Database>,
  workerId: string,
): Promise<Pick<ResultRow, 'id' | 'job_id' | 'kind'>[]> {
  return db
    .updateTable('trust_results')
    .set({ status: 'withdrawn' })
    .where('worker_id', '=', workerId)
    .where('status', '=', 'unverified')
    .returning(['id', 'job_id', 'kind'])
    .execute();
}
