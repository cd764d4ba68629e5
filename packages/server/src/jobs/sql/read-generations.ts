import type { Kysely, Selectable } from 'kysely';
import type { Database, GenerationsTable, JobsTable } from '../../db/schema.js';
import { rowsBefore } from '../../db/keyset.js';

export type GenerationRow = Selectable<GenerationsTable>;
export type JobRow = Selectable<JobsTable>;

export async function getGeneration(db: Kysely<Database>, id: string): Promise<GenerationRow | undefined> {
  return db.selectFrom('generations').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function jobsOfGenerations(db: Kysely<Database>, ids: readonly string[]): Promise<JobRow[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom('jobs')
    .selectAll()
    .where('generation_id', 'in', ids)
    .orderBy('generation_id')
    .orderBy('idx')
    .execute();
}

/** Newest first; the cursor is the (created_at, id) of the last row of the previous page. */
export async function listGenerations(
  db: Kysely<Database>,
  p: { userId: string; limit: number; after?: { createdAt: number; id: string } },
): Promise<GenerationRow[]> {
  let q = db.selectFrom('generations').selectAll().where('user_id', '=', p.userId);
  if (p.after) q = q.where(rowsBefore('created_at', 'id', [p.after.createdAt, p.after.id]));
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(p.limit).execute();
}

/** How many queued jobs of the same model would be handed out before this one. */
export async function queuePosition(
  db: Kysely<Database>,
  job: Pick<JobRow, 'id' | 'model' | 'priority' | 'created_at'>,
): Promise<number> {
  const row = await db
    .selectFrom('jobs')
    .select((eb) => eb.fn.countAll<number>().as('ahead'))
    .where('state', '=', 'queued')
    .where('model', '=', job.model)
    .where((eb) =>
      eb.or([
        eb('priority', '>', job.priority),
        eb.and([
          eb('priority', '=', job.priority),
          eb.or([
            eb('created_at', '<', job.created_at),
            eb.and([eb('created_at', '=', job.created_at), eb('id', '<', job.id)]),
          ]),
        ]),
      ]),
    )
    .executeTakeFirstOrThrow();
  return Number(row.ahead);
}

export async function countQueued(db: Kysely<Database>): Promise<{ state: string; count: number }[]> {
  const rows = await db
    .selectFrom('jobs')
    .select(['state', (eb) => eb.fn.countAll<number>().as('count')])
    .groupBy('state')
    .execute();
  return rows.map((r) => ({ state: r.state, count: Number(r.count) }));
}
