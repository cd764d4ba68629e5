// Output safety and fairness: the classifier's verdict per image, appeals against safety decisions,
// the incidents on a worker's record (and whether each counts), coordinator runs (to tell a coordinator
// outage from a worker that went away), worker pause and measured speed, and the requester's slowest
// accepted worker. Written once for both dialects; SQLite adds one column per ALTER TABLE.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // One row per finished image, written with the state change that finished it. An image without a row,
  // or whose row is still 'pending', is not public (moderation/visibility.ts).
  await db.schema
    .createTable('image_safety')
    .addColumn('image_id', 'text', (c) => c.primaryKey().references('jobs.id').onDelete('cascade'))
    .addColumn('state', 'text', (c) => c.notNull())
    // P(porn) + P(hentai) + P(sexy): the image's "punsafe" in dataset releases.
    .addColumn('nsfw_score', 'double precision')
    .addColumn('classes', 'text')
    .addColumn('model', 'text')
    // 1 when the classifier put the image in hidden_images (so the owner is told it was the classifier).
    .addColumn('hid', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('claimed_until', 'bigint')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('classified_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('image_safety_pending')
    .on('image_safety')
    .columns(['created_at', 'image_id'])
    .where(sql.ref('state'), '=', 'pending')
    .execute();
  // Images finished before this migration are classified like new ones.
  await sql`insert into image_safety (image_id, state, hid, attempts, created_at)
    select id, 'pending', 0, 0, coalesce(finished_at, created_at) from jobs
    where state = 'done' and result_sha256 is not null`.execute(db);

  await db.schema
    .createTable('appeals')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('image_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('note', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('rule', 'text', (c) => c.notNull())
    .addColumn('score', 'double precision')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('decided_at', 'bigint')
    .addColumn('decided_by', 'text')
    .addColumn('decision_note', 'text')
    .execute();
  // One open appeal per image, enforced by the database so two concurrent submissions cannot both get in.
  await db.schema
    .createIndex('appeals_open_once')
    .on('appeals')
    .column('image_id')
    .unique()
    .where(sql.ref('state'), '=', 'open')
    .execute();
  await db.schema.createIndex('appeals_state').on('appeals').columns(['state', 'created_at', 'id']).execute();
  await db.schema
    .createIndex('appeals_user')
    .on('appeals')
    .columns(['user_id', 'created_at', 'id'])
    .execute();
  await db.schema.createIndex('appeals_image').on('appeals').columns(['image_id', 'created_at']).execute();

  // Every failure, expiry or excuse of a leased job, with whether it counts against the worker.
  await db.schema
    .createTable('worker_incidents')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('worker_id', 'text', (c) => c.notNull().references('workers.id').onDelete('cascade'))
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('class', 'text', (c) => c.notNull())
    .addColumn('counts', 'integer', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('worker_incidents_worker')
    .on('worker_incidents')
    .columns(['worker_id', 'created_at', 'id'])
    .execute();

  // One row per coordinator process; gaps between their lives are outages.
  await db.schema
    .createTable('coordinator_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('last_alive_at', 'bigint', (c) => c.notNull())
    .addColumn('stopped_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('coordinator_runs_started')
    .on('coordinator_runs')
    .column('started_at')
    .execute();

  for (const [name, type] of [
    ['paused_at', 'bigint'],
    ['ms_per_mpx_step', 'double precision'],
  ] as const) {
    await db.schema.alterTable('workers').addColumn(name, type).execute();
  }
  await db.schema
    .alterTable('workers')
    .addColumn('jobs_excused', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  for (const [name, type] of [
    ['leased_at', 'bigint'],
    ['max_ms_per_mpx_step', 'double precision'],
    ['failure_class', 'text'],
  ] as const) {
    await db.schema.alterTable('jobs').addColumn(name, type).execute();
  }
  await db.schema.alterTable('generations').addColumn('max_seconds_per_image', 'integer').execute();
  // Receipts: a worker's finished jobs, newest first.
  await db.schema
    .createIndex('jobs_worker_done')
    .on('jobs')
    .columns(['worker_id', 'finished_at', 'id'])
    .where(sql.ref('state'), '=', 'done')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('jobs_worker_done').execute();
  await db.schema.alterTable('generations').dropColumn('max_seconds_per_image').execute();
  for (const c of ['failure_class', 'max_ms_per_mpx_step', 'leased_at'])
    await db.schema.alterTable('jobs').dropColumn(c).execute();
  for (const c of ['jobs_excused', 'ms_per_mpx_step', 'paused_at'])
    await db.schema.alterTable('workers').dropColumn(c).execute();
  for (const t of ['coordinator_runs', 'worker_incidents', 'appeals', 'image_safety'])
    await db.schema.dropTable(t).execute();
}
