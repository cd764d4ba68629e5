// Sign-up, sessions, email tokens, run-time settings and the audit log. SQLite adds one column per
// ALTER TABLE, so each column is its own statement; NOT NULL columns carry a default for existing rows.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const nullable: [string, 'text' | 'bigint'][] = [
    ['password_hash', 'text'],
    ['display_name', 'text'],
    ['affiliation', 'text'],
    ['occupation', 'text'],
    ['intended_use', 'text'],
    ['email_verified_at', 'bigint'],
    ['access_decided_at', 'bigint'],
    ['access_reason', 'text'],
    ['locked_until', 'bigint'],
    ['suspension_reason', 'text'],
    ['deleted_at', 'bigint'],
  ];
  for (const [name, type] of nullable) {
    await db.schema.alterTable('users').addColumn(name, type).execute();
  }
  // Accounts made before sign-up existed (the admin CLI) were vetted by whoever made them.
  await db.schema
    .alterTable('users')
    .addColumn('access', 'text', (c) => c.notNull().defaultTo('approved'))
    .execute();
  await db.schema
    .alterTable('users')
    .addColumn('failed_sign_ins', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('users')
    .addColumn('dataset_consent', 'text', (c) => c.notNull().defaultTo('pseudonymous'))
    .execute();
  await db.schema.createIndex('users_access').on('users').columns(['access', 'created_at']).execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();

  await db.schema
    .createTable('email_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('new_email', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
  await db.schema.createIndex('email_tokens_user').on('email_tokens').column('user_id').execute();

  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_by', 'text')
    .execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('actor_id', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_log_created').on('audit_log').columns(['created_at', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['audit_log', 'settings', 'email_tokens', 'sessions'])
    await db.schema.dropTable(t).execute();
}
