// Indexes for housekeeping/: the periodic purge deletes the oldest rows first, in small batches, so each
// table needs its expiry column indexed. The columns only grow (creation or expiry times), so new rows
// land on the right-most leaf page and these indexes add almost nothing to an insert.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('idempotency_keys_created')
    .on('idempotency_keys')
    .column('created_at')
    .execute();
  await db.schema.createIndex('sessions_expires').on('sessions').column('expires_at').execute();
  await db.schema.createIndex('email_tokens_expires').on('email_tokens').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const index of ['idempotency_keys_created', 'sessions_expires', 'email_tokens_expires']) {
    await db.schema.dropIndex(index).execute();
  }
}
