// Verification of results and worker reputation (trust/): each worker's standing, the accepted results
// with their hashes (replay lookups, replication comparisons), replica jobs, verification cases, model
// fingerprints and the events a worker's owner sees. Written once for both dialects.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // One row per worker, made at registration (with the IP it registered from) or on first use.
  await db.schema
    .createTable('worker_trust')
    .addColumn('worker_id', 'text', (c) => c.primaryKey().references('workers.id').onDelete('cascade'))
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('state_changed_at', 'bigint', (c) => c.notNull())
    .addColumn('accepted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('verified', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('overturned', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rejected', 'integer', (c) => c.notNull().defaultTo(0))
    // Verified results since the last strike: what trust is earned with.
    .addColumn('streak', 'integer', (c) => c.notNull().defaultTo(0))
    // Accepted results since the last strike was added or taken off: every N clean ones take one off.
    .addColumn('clean', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('strikes', 'integer', (c) => c.notNull().defaultTo(0))
    // Speed of its accepted results (ms per megapixel-step: a moving average, and the fastest ever) and
    // the kind of hardware it reports: a result much faster than the fastest trusted workers of the same
    // kind ever managed is not plausible.
    .addColumn('ms_per_mpx_step', 'double precision')
    .addColumn('best_ms_per_mpx_step', 'double precision')
    .addColumn('hw_class', 'text')
    .addColumn('registered_ip', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('worker_trust_ip')
    .on('worker_trust')
    .columns(['registered_ip', 'created_at'])
    .execute();
  await db.schema
    .createIndex('worker_trust_class')
    .on('worker_trust')
    .columns(['hw_class', 'state'])
    .execute();

  // Every result that passed the checks on arrival: canonical results (id = job id) and replica results
  // (id = replica id). sha256 is of the decoded pixels (the stored PNG carries per-job text chunks, so
  // bytes differ between jobs even for one picture). The four 16-bit bands of the perceptual hash make near-duplicates findable by index.
  await db.schema
    .createTable('trust_results')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('worker_id', 'text', (c) => c.notNull())
    .addColumn('owner_id', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text')
    .addColumn('params_key', 'text', (c) => c.notNull())
    .addColumn('seed', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('bytes', 'integer', (c) => c.notNull())
    .addColumn('phash', 'text', (c) => c.notNull())
    .addColumn('dhash', 'text', (c) => c.notNull())
    .addColumn('band0', 'integer', (c) => c.notNull())
    .addColumn('band1', 'integer', (c) => c.notNull())
    .addColumn('band2', 'integer', (c) => c.notNull())
    .addColumn('band3', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('trust_results_sha').on('trust_results').column('sha256').execute();
  for (const band of ['band0', 'band1', 'band2', 'band3']) {
    await db.schema.createIndex(`trust_results_${band}`).on('trust_results').column(band).execute();
  }
  await db.schema
    .createIndex('trust_results_worker')
    .on('trust_results')
    .columns(['worker_id', 'status'])
    .execute();
  await db.schema.createIndex('trust_results_job').on('trust_results').column('job_id').execute();

  // A second (or, to settle a disagreement, third) run of a finished job by another worker. Never an
  // image, never charged to the requester.
  await db.schema
    .createTable('replicas')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('generation_id', 'text', (c) => c.notNull())
    .addColumn('round', 'integer', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('pixels', 'integer', (c) => c.notNull())
    .addColumn('seed', 'bigint', (c) => c.notNull())
    .addColumn('fingerprint', 'text')
    .addColumn('excluded_owner_a', 'text', (c) => c.notNull())
    .addColumn('excluded_owner_b', 'text')
    // 1: only a trusted worker may run it (there was a trusted peer with the same weights when it was
    // queued): the deciding opinion comes from a worker with a record, not from another newcomer, who
    // might cheat the same way.
    .addColumn('trusted_only', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('lease_id', 'text')
    .addColumn('worker_id', 'text')
    .addColumn('leased_at', 'bigint')
    .addColumn('lease_expires_at', 'bigint')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('replicas_queue')
    .on('replicas')
    .columns(['model', 'created_at', 'id'])
    .where(sql.ref('state'), '=', 'queued')
    .execute();
  await db.schema
    .createIndex('replicas_leased')
    .on('replicas')
    .column('lease_expires_at')
    .where(sql.ref('state'), '=', 'leased')
    .execute();
  await db.schema.createIndex('replicas_job').on('replicas').column('job_id').execute();

  // One per canonical result that was given to another worker: how the comparison ended.
  await db.schema
    .createTable('verifications')
    .addColumn('job_id', 'text', (c) => c.primaryKey().references('jobs.id').onDelete('cascade'))
    .addColumn('worker_id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('decided_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('verifications_state')
    .on('verifications')
    .columns(['state', 'created_at'])
    .execute();

  // Known weights per model: set by an admin (the model is then pinned) or first seen from a trusted worker.
  await db.schema
    .createTable('model_fingerprints')
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('added_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('model_fingerprints_pk', ['model', 'sha256'])
    .execute();

  // What each worker last reported for each model it serves.
  await db.schema
    .createTable('worker_fingerprints')
    .addColumn('worker_id', 'text', (c) => c.notNull().references('workers.id').onDelete('cascade'))
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('reported_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('worker_fingerprints_pk', ['worker_id', 'model'])
    .execute();

  // What happened to a worker's results and standing, with the reason, for its owner.
  await db.schema
    .createTable('trust_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('worker_id', 'text', (c) => c.notNull().references('workers.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('check_name', 'text')
    .addColumn('job_id', 'text')
    .addColumn('state', 'text')
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('trust_events_worker')
    .on('trust_events')
    .columns(['worker_id', 'created_at', 'id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'trust_events',
    'worker_fingerprints',
    'model_fingerprints',
    'verifications',
    'replicas',
    'trust_results',
    'worker_trust',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
