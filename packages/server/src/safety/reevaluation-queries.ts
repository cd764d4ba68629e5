// The SQL behind re-evaluations (reevaluation.ts): the progress row, fenced on the position it read, and
// one keyset page of what each kind looks at. Pages are ordered by primary key, so a page is an index
// range scan whatever the table's size.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, ReevaluationsTable } from '../db/schema.js';
import { withdrawImage } from '../trust/sql/holds.js';

export type ReevaluationRow = Selectable<ReevaluationsTable>;
export type ReevaluationKind = ReevaluationsTable['kind'];

/** Starts the kind again from the beginning with a new target (a later change supersedes a running one). */
export async function restart(
  db: Kysely<Database>,
  p: { kind: ReevaluationKind; target: string; actorId: string | null; now: number },
): Promise<void> {
  const row = {
    target: p.target,
    actor_id: p.actorId,
    after_id: null,
    processed: 0,
    hidden: 0,
    shown: 0,
    started_at: p.now,
    updated_at: p.now,
    finished_at: null,
  };
  await db
    .insertInto('reevaluations')
    .values({ kind: p.kind, ...row })
    .onConflict((oc) => oc.column('kind').doUpdateSet(row))
    .execute();
}

export async function read(db: Kysely<Database>, kind: ReevaluationKind) {
  return db.selectFrom('reevaluations').selectAll().where('kind', '=', kind).executeTakeFirst();
}

export async function unfinished(db: Kysely<Database>): Promise<ReevaluationKind[]> {
  const rows = await db.selectFrom('reevaluations').select('kind').where('finished_at', 'is', null).execute();
  return rows.map((r) => r.kind);
}

export async function list(db: Kysely<Database>): Promise<ReevaluationRow[]> {
  return db.selectFrom('reevaluations').selectAll().orderBy('kind').execute();
}

/**
 * Records a page as done, only if the run is still the one that read `after` (same start, same position):
 * false when another replica did this page first or a newer change restarted the run.
 */
export async function advance(
  db: Kysely<Database>,
  p: {
    kind: ReevaluationKind;
    startedAt: number;
    after: string | null;
    last: string | null;
    counts: { processed: number; hidden: number; shown: number };
    finished: boolean;
    now: number;
  },
): Promise<boolean> {
  const r = await db
    .updateTable('reevaluations')
    .set((eb) => ({
      after_id: p.last ?? p.after,
      processed: eb('processed', '+', p.counts.processed),
      hidden: eb('hidden', '+', p.counts.hidden),
      shown: eb('shown', '+', p.counts.shown),
      updated_at: p.now,
      finished_at: p.finished ? p.now : null,
    }))
    .where('kind', '=', p.kind)
    .where('started_at', '=', p.startedAt)
    .where('finished_at', 'is', null)
    .where((eb) => (p.after === null ? eb('after_id', 'is', null) : eb('after_id', '=', p.after)))
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/** An appeal a moderator decided: their decision about the image stands, whatever a re-evaluation says. */
const decidedAppeal = sql<number>`case when exists (select 1 from appeals a where a.image_id = s.image_id
  and a.state in ('upheld', 'overturned')) then 1 else 0 end`;

/** Classified images after `after`, with their score, the hide on them (if any) and whether it was appealed. */
export async function classifiedPage(db: Kysely<Database>, p: { after: string | null; limit: number }) {
  let q = db
    .selectFrom('image_safety as s')
    .leftJoin('hidden_images as h', 'h.image_id', 's.image_id')
    .select(['s.image_id', 's.nsfw_score', 's.hid', 'h.reason', 'h.hidden_by', decidedAppeal.as('decided')])
    .where('s.state', '=', 'classified');
  if (p.after !== null) q = q.where('s.image_id', '>', p.after);
  return q.orderBy('s.image_id').limit(p.limit).execute();
}

/** Generations after `after` with their prompts. */
export async function promptPage(db: Kysely<Database>, p: { after: string | null; limit: number }) {
  let q = db.selectFrom('generations').select(['id', 'prompt', 'negative_prompt']);
  if (p.after !== null) q = q.where('id', '>', p.after);
  return q.orderBy('id').limit(p.limit).execute();
}

/** The finished images of these generations, with the hide on each (if any) and whether it was appealed. */
export async function imagesOf(db: Kysely<Database>, generationIds: readonly string[]) {
  if (generationIds.length === 0) return [];
  return db
    .selectFrom('jobs as s')
    .leftJoin('hidden_images as h', 'h.image_id', 's.id')
    .select([
      's.id as image_id',
      's.generation_id',
      'h.reason',
      'h.hidden_by',
      sql<number>`case when exists (select 1 from appeals a where a.image_id = s.id
        and a.state in ('upheld', 'overturned')) then 1 else 0 end`.as('decided'),
    ])
    .where('s.generation_id', 'in', generationIds)
    .where('s.state', '=', 'done')
    .execute();
}

/**
 * Hides an image for a safety reason (classifier, prompt filter). Takes the place of a verification hold
 * (trust/sql/holds.ts): otherwise the hold's release after a confirmation would show an image a safety
 * check hid. Any other hide (a moderator's, an earlier safety one, a withdrawal) stays. True when written.
 */
export const hideForSafety = withdrawImage;

/** Removes a safety hide this kind wrote (its reason starts with `prefix`); a moderator's stays. */
export async function unhideSafety(
  db: Kysely<Database>,
  p: { imageId: string; prefix: string },
): Promise<boolean> {
  const r = await db
    .deleteFrom('hidden_images')
    .where('image_id', '=', p.imageId)
    .where('hidden_by', 'is', null)
    .where('reason', 'like', `${p.prefix}%`)
    .executeTakeFirst();
  return r.numDeletedRows > 0n;
}

export async function setClassifierHid(db: Kysely<Database>, imageId: string, hid: 0 | 1): Promise<void> {
  await db.updateTable('image_safety').set({ hid }).where('image_id', '=', imageId).execute();
}

/**
 * Fails the jobs of a generation that are not done yet (queued, or leased to a worker) because its prompt
 * now breaks a rule. The lease id stays, so the worker holding one learns it at its next heartbeat
 * (cancelled: true) and drops it; it does not count against the worker (failure class `request`).
 */
export async function failUnfinished(
  db: Kysely<Database>,
  p: { generationId: string; reason: string; now: number },
) {
  return db
    .updateTable('jobs')
    .set({
      state: 'failed',
      finished_at: p.now,
      lease_expires_at: null,
      failure_class: 'request',
      last_error: p.reason.slice(0, 500),
    })
    .where('generation_id', '=', p.generationId)
    .where('state', 'in', ['queued', 'leased'])
    .returning(['id', 'idx', 'generation_id', 'state'])
    .execute();
}
