// The credits ledger (double entry). Written once for SQLite and PostgreSQL.
//
// A transfer is one movement of credits; its entries (one per account it touches) sum to zero. Nothing
// here is ever updated or deleted: balances are SUMs over entries. `credit_transfers.key` is the natural
// key of the operation that caused the transfer (e.g. `reserve:<generation>`, `job-end:<job>`), unique,
// so a retried or duplicated operation cannot post twice.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // One row per account that has ever been debited under a balance check. On PostgreSQL it is the row a
  // spend locks (SELECT … FOR UPDATE) so that concurrent spends of one user serialise; SQLite runs one
  // write transaction at a time anyway.
  await db.schema
    .createTable('credit_accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('credit_transfers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('key', 'text', (c) => c.notNull().unique())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('reference_type', 'text')
    .addColumn('reference_id', 'text')
    .addColumn('memo', 'text')
    .addColumn('actor_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  // No index on the reference: nothing on a request path looks transfers up by it (reservations are
  // found by their key), and every index is one more B-tree write per transfer.

  // Account ids are `user:<id>`, `escrow:<id>` and `platform`. No foreign key to users: the books must
  // outlive whatever happens to an account.
  await db.schema
    .createTable('credit_entries')
    .addColumn('transfer_id', 'text', (c) => c.notNull().references('credit_transfers.id'))
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('credit_entries_pk', ['transfer_id', 'account_id'])
    .execute();
  // Balances (SUM by account) and a user's history (newest first) both read this index; `amount` is in
  // it so a balance never touches the table.
  await db.schema
    .createIndex('credit_entries_account')
    .on('credit_entries')
    .columns(['account_id', 'created_at', 'transfer_id', 'amount'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['credit_entries', 'credit_transfers', 'credit_accounts'])
    await db.schema.dropTable(t).execute();
}
