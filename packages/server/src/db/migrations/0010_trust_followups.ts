// Trust and safety follow-ups (trust/, safety/, moderation/). Written once for both dialects.
//
// 1. One speed average per worker. worker_trust.ms_per_mpx_step duplicated workers.ms_per_mpx_step (the
//    one claim-job, ETAs and "why idle" read); the trust copy only fed the reputation page. Where the
//    workers column has no value yet the trust one is kept, then the trust column goes.
//    worker_trust.best_ms_per_mpx_step (the fastest ever, the timing check's reference) stays: it is a
//    different measure, not a second average.
// 2. jobs.reruns: how many times a job was queued again after its result was withdrawn (its worker was
//    found bad). Part of the earning's key, so the worker who re-runs it is paid (earn:<job>:r<n>).
// 3. trust_events_worker_kind: a worker's state history (reinstatements included) read by index.
// 4. reevaluations: progress of the batched re-evaluations that follow a change of the classifier
//    thresholds or the prompt-filter rules (safety/reevaluation.ts): one row per kind, the keyset
//    position reached, so a restart resumes where it stopped and two replicas never run one twice.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`update workers set ms_per_mpx_step =
      (select t.ms_per_mpx_step from worker_trust t where t.worker_id = workers.id)
    where ms_per_mpx_step is null`.execute(db);
  await db.schema.alterTable('worker_trust').dropColumn('ms_per_mpx_step').execute();

  await db.schema
    .alterTable('jobs')
    .addColumn('reruns', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  // A worker's history of states (GET /v1/workers/{id}/trust-events?kind=state_changed) without reading
  // every event it ever had.
  await db.schema
    .createIndex('trust_events_worker_kind')
    .on('trust_events')
    .columns(['worker_id', 'kind', 'created_at', 'id'])
    .execute();

  await db.schema
    .createTable('reevaluations')
    // 'safety_thresholds' | 'prompt_filter'
    .addColumn('kind', 'text', (c) => c.primaryKey())
    // What is being applied (JSON: the thresholds, or the rules' version), and who changed it.
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    // The last id handled (keyset position); null before the first batch.
    .addColumn('after_id', 'text')
    .addColumn('processed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('hidden', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('shown', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('reevaluations').execute();
  await db.schema.dropIndex('trust_events_worker_kind').execute();
  await db.schema.alterTable('jobs').dropColumn('reruns').execute();
  await db.schema.alterTable('worker_trust').addColumn('ms_per_mpx_step', 'double precision').execute();
  await sql`update worker_trust set ms_per_mpx_step =
      (select w.ms_per_mpx_step from workers w where w.id = worker_trust.worker_id)`.execute(db);
}
