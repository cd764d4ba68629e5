// Queuing a job again after its result was withdrawn or overturned (trust/reruns.ts): one function per
// statement, each over a bounded list of job ids.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { PROMPT_FILTER_PREFIX } from '../../safety/hide-reasons.js';

/** The finished jobs among these, with how often each was re-run already (part of its earning's key). */
export async function doneJobs(
  db: Kysely<Database>,
  jobIds: readonly string[],
): Promise<{ id: string; reruns: number }[]> {
  if (jobIds.length === 0) return [];
  const rows = await db
    .selectFrom('jobs')
    .select(['id', 'reruns'])
    .where('id', 'in', jobIds)
    .where('state', '=', 'done')
    .execute();
  return rows.map((r) => ({ id: r.id, reruns: Number(r.reruns) }));
}

/**
 * Back to the queue with the same parameters, seed, priority and place in line (its created_at), its
 * attempts starting again; `reruns` counts this one. Only jobs still done: a repeat changes nothing.
 */
export async function requeueDone(
  db: Kysely<Database>,
  p: { jobIds: readonly string[]; reason: string },
): Promise<{ id: string; model: string; pixels: number; generation_id: string; idx: number }[]> {
  if (p.jobIds.length === 0) return [];
  return db
    .updateTable('jobs')
    .set((eb) => ({
      state: 'queued',
      reruns: eb('reruns', '+', 1),
      attempts: 0,
      worker_id: null,
      lease_id: null,
      lease_expires_at: null,
      leased_at: null,
      step: 0,
      result_sha256: null,
      result_bytes: null,
      finished_at: null,
      failure_class: null,
      last_error: p.reason.slice(0, 500),
    }))
    .where('id', 'in', p.jobIds)
    .where('state', '=', 'done')
    .returning(['id', 'model', 'pixels', 'generation_id', 'idx'])
    .execute();
}

/**
 * Which of these jobs are queued or running: the re-runs to announce are the ones whose transaction
 * committed (a rolled-back one left its jobs done).
 */
export async function rerunning(db: Kysely<Database>, jobIds: readonly string[]): Promise<Set<string>> {
  if (jobIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('jobs')
    .select('id')
    .where('id', 'in', jobIds)
    .where('state', 'in', ['queued', 'leased'])
    .execute();
  return new Set(rows.map((r) => r.id));
}

/**
 * The withdrawn (or overturned) result stays as evidence — replay lookups still find its picture — under
 * an id of its own, so the re-run's result can take the job's id.
 */
export async function moveAsideResults(db: Kysely<Database>, jobIds: readonly string[]): Promise<void> {
  if (jobIds.length === 0) return;
  await db
    .updateTable('trust_results')
    .set({ id: sql<string>`'old_' || cast(created_at as text) || '_' || id` })
    .where('id', 'in', jobIds)
    .where('status', 'in', ['withdrawn', 'overturned'])
    .execute();
}

/** Replicas of the old result compare nothing any more; a late one is refused like any lost lease. */
export async function retireReplicas(
  db: Kysely<Database>,
  p: { jobIds: readonly string[]; now: number },
): Promise<void> {
  if (p.jobIds.length === 0) return;
  await db
    .updateTable('replicas')
    .set({ state: 'abandoned', finished_at: p.now })
    .where('job_id', 'in', p.jobIds)
    .where('state', 'in', ['queued', 'leased', 'done'])
    .execute();
}

/**
 * What the system decided about the old picture goes with it: the verification withdrawal and a
 * classifier hide (the new picture is classified afresh). A moderator's hide stays, and so does a
 * prompt-filter hide: it judged the prompt, which the re-run keeps (safety/reevaluation.ts).
 */
export async function clearSystemHides(db: Kysely<Database>, jobIds: readonly string[]): Promise<void> {
  if (jobIds.length === 0) return;
  await db
    .deleteFrom('hidden_images')
    .where('image_id', 'in', jobIds)
    .where('hidden_by', 'is', null)
    .where('reason', 'not like', `${PROMPT_FILTER_PREFIX}%`)
    .execute();
}

/** The old picture's safety verdict; the new one gets its row when it finishes (safety/). */
export async function clearSafetyRows(db: Kysely<Database>, jobIds: readonly string[]): Promise<void> {
  if (jobIds.length === 0) return;
  await db.deleteFrom('image_safety').where('image_id', 'in', jobIds).execute();
}
