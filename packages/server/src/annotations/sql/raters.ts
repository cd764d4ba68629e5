// Raters as moderators see them: the list, and reinstating an excluded one. One function per statement.
import type { Kysely } from 'kysely';
import type { RaterFilter } from '@dreamfold/protocol';
import type { Database } from '../../db/schema.js';
import type { Dialect } from '../../db/connect.js';
import type { RaterRow } from './answers.js';

export type RaterListRow = RaterRow & { email: string };

const withEmail = (db: Kysely<Database>) =>
  db
    .selectFrom('annotation_raters as r')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .selectAll('r')
    .select('u.email');

export async function raterWithEmail(
  db: Kysely<Database>,
  userId: string,
): Promise<RaterListRow | undefined> {
  return withEmail(db).where('r.user_id', '=', userId).executeTakeFirst();
}

/**
 * Keyset pages, newest first: excluded raters by when they were excluded, the others by when they
 * started. `before` is the (sort key, user id) of the previous page's last row.
 */
export async function listRaters(
  db: Kysely<Database>,
  p: { filter: RaterFilter; limit: number; before?: { createdAt: number; id: string } },
): Promise<RaterListRow[]> {
  const key = p.filter === 'excluded' ? 'r.excluded_at' : 'r.created_at';
  let q = withEmail(db);
  if (p.filter === 'excluded') q = q.where('r.excluded_at', 'is not', null);
  if (p.filter === 'earning') q = q.where('r.excluded_at', 'is', null);
  if (p.before) {
    const { createdAt, id } = p.before;
    q = q.where((eb) =>
      eb.or([eb(key, '<', createdAt), eb.and([eb(key, '=', createdAt), eb('r.user_id', '<', id)])]),
    );
  }
  return q.orderBy(key, 'desc').orderBy('r.user_id', 'desc').limit(p.limit).execute();
}

/**
 * Fenced: only an excluded rater. Starts their checks over (the exclusion itself is lifted by the
 * caller, as an answer lifts it). Returns the row as it was (undefined when the user is no rater or not
 * excluded); on PostgreSQL the row stays locked until the transaction ends, so an answer of theirs
 * waits and then sees the fresh counters.
 */
export async function reinstateRater(
  db: Kysely<Database>,
  dialect: Dialect,
  userId: string,
): Promise<{ excluded_at: number | null; gold_answers: number; gold_agreed: number } | undefined> {
  const read = db
    .selectFrom('annotation_raters')
    .select(['excluded_at', 'gold_answers', 'gold_agreed'])
    .where('user_id', '=', userId)
    .where('excluded_at', 'is not', null);
  // SQLite runs one write transaction at a time (and has no FOR UPDATE).
  const before = await (dialect === 'postgres' ? read.forUpdate() : read).executeTakeFirst();
  if (!before) return undefined;
  await db
    .updateTable('annotation_raters')
    .set({ gold_answers: 0, gold_agreed: 0 })
    .where('user_id', '=', userId)
    .execute();
  return before;
}
