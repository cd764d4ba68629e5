// Donors on the public leaderboard: how each donor chose to appear. No row means the default, a pseudonym
// (see donors/pseudonyms.ts). The leaderboard itself and worker throughput are read from finished jobs
// through existing partial indexes (jobs_done_recent, jobs_worker_done), so nothing is written on the hot path.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('donor_profiles')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    // 'pseudonym' | 'name' | 'hidden'
    .addColumn('listing', 'text', (c) => c.notNull())
    .addColumn('public_name', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('donor_profiles').execute();
}
