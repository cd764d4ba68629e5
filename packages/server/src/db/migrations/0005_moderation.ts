// Moderation and the public gallery: reports, hidden images, aesthetic scores, and the indexes the
// gallery, the report queue and the audit-log listing read through. Written once for both dialects.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('reports')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // An image is a finished job; its id is the job id.
    .addColumn('image_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('reporter_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('resolved_at', 'bigint')
    .addColumn('resolved_by', 'text')
    .execute();
  // One open report per user per image, enforced by the database so concurrent submissions cannot
  // both get in.
  await db.schema
    .createIndex('reports_open_once')
    .on('reports')
    .columns(['image_id', 'reporter_id'])
    .unique()
    .where(sql.ref('state'), '=', 'open')
    .execute();
  // The moderator queue groups open reports by image.
  await db.schema
    .createIndex('reports_open_by_image')
    .on('reports')
    .columns(['image_id', 'created_at'])
    .where(sql.ref('state'), '=', 'open')
    .execute();
  await db.schema
    .createIndex('reports_reporter')
    .on('reports')
    .columns(['reporter_id', 'created_at'])
    .execute();

  // A row here takes the image out of the gallery, annotation tasks and dataset releases; unhiding
  // deletes it (the audit log keeps the history).
  await db.schema
    .createTable('hidden_images')
    .addColumn('image_id', 'text', (c) => c.primaryKey().references('jobs.id').onDelete('cascade'))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('hidden_by', 'text')
    .addColumn('hidden_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('hidden_images_at')
    .on('hidden_images')
    .columns(['hidden_at', 'image_id'])
    .execute();

  // Filled by the aesthetics scorer; an image without a row is unscored.
  await db.schema
    .createTable('image_scores')
    .addColumn('image_id', 'text', (c) => c.primaryKey().references('jobs.id').onDelete('cascade'))
    .addColumn('aesthetic_score', 'double precision', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('scored_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('image_scores_score')
    .on('image_scores')
    .columns(['aesthetic_score', 'image_id'])
    .execute();

  // The gallery's "recent" order walks finished jobs newest first.
  await db.schema
    .createIndex('jobs_done_recent')
    .on('jobs')
    .columns(['finished_at', 'id'])
    .where(sql.ref('state'), '=', 'done')
    .execute();

  // Audit-log filters: by actor, by target, by action; each newest first.
  await db.schema
    .createIndex('audit_log_actor')
    .on('audit_log')
    .columns(['actor_id', 'created_at', 'id'])
    .execute();
  await db.schema
    .createIndex('audit_log_target')
    .on('audit_log')
    .columns(['target_type', 'target_id', 'created_at'])
    .execute();
  await db.schema
    .createIndex('audit_log_action')
    .on('audit_log')
    .columns(['action', 'created_at', 'id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const index of ['audit_log_action', 'audit_log_target', 'audit_log_actor', 'jobs_done_recent']) {
    await db.schema.dropIndex(index).execute();
  }
  for (const table of ['image_scores', 'hidden_images', 'reports']) {
    await db.schema.dropTable(table).execute();
  }
}
