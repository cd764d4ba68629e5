// Rebuilding a SQLite table in place with a different storage layout, following SQLite's documented
// procedure for schema changes ALTER TABLE cannot make (https://www.sqlite.org/lang_altertable.html,
// "Making Other Kinds Of Table Schema Changes"): foreign keys off, one transaction, a new table with the
// same definition, the rows copied, the old table dropped, the new one renamed, the indexes made again,
// foreign_key_check, commit. Foreign keys must be off because dropping a parent table would otherwise
// delete its children's rows (ON DELETE CASCADE) or fail; PRAGMA foreign_keys cannot change inside a
// transaction, and Kysely's migrator runs SQLite migrations outside one, so this opens its own.
import { sql, type Kysely } from 'kysely';

interface SchemaRow {
  sql: string;
}

const WITHOUT_ROWID = /\)\s*without\s+rowid\s*$/i;

/** The table's CREATE TABLE text with a new name (the definition, column order included, unchanged). */
function renamed(create: string, table: string, name: string): string {
  const head = new RegExp(`^CREATE TABLE\\s+("${table}"|${table})\\s*\\(`, 'i');
  if (!head.test(create))
    throw new Error(`Cannot read the definition of table ${table}: ${create.slice(0, 80)}`);
  return create.replace(head, `CREATE TABLE "${name}" (`);
}

async function rebuildOne(db: Kysely<unknown>, table: string, layout: (create: string) => string) {
  const { rows } =
    await sql<SchemaRow>`select sql from sqlite_master where type = 'table' and name = ${table}`.execute(db);
  const create = rows[0]?.sql;
  if (!create) throw new Error(`No table ${table} to rebuild`);
  const next = layout(create);
  if (next === create) return;
  const indexes = await sql<SchemaRow>`select sql from sqlite_master
    where type = 'index' and tbl_name = ${table} and sql is not null`.execute(db);
  const temporary = `${table}__rebuilt`;
  await sql.raw(renamed(next, table, temporary)).execute(db);
  await sql.raw(`insert into "${temporary}" select * from "${table}"`).execute(db);
  await sql.raw(`drop table "${table}"`).execute(db);
  await sql.raw(`alter table "${temporary}" rename to "${table}"`).execute(db);
  for (const index of indexes.rows) await sql.raw(index.sql).execute(db);
}

/** Rebuilds each table with `layout(create)` as its definition; all or nothing, rows and indexes kept. */
export async function rebuildSqliteTables(
  db: Kysely<unknown>,
  tables: readonly string[],
  layout: (create: string) => string,
): Promise<void> {
  await sql`pragma foreign_keys = off`.execute(db);
  try {
    await sql`begin immediate`.execute(db);
    try {
      for (const table of tables) await rebuildOne(db, table, layout);
      const broken = await sql`pragma foreign_key_check`.execute(db);
      if (broken.rows.length > 0) throw new Error(`Rebuilding ${tables.join(', ')} broke foreign keys`);
      await sql`commit`.execute(db);
    } catch (error) {
      // SQLite may have rolled back already (on SQLITE_FULL, for one); the error that matters is the first.
      await sql`rollback`.execute(db).catch(() => undefined);
      throw error;
    }
  } finally {
    await sql`pragma foreign_keys = on`.execute(db);
  }
}

/** `CREATE TABLE …` as a WITHOUT ROWID table: its rows stored in its primary key's B-tree. */
export const withoutRowid = (create: string): string =>
  WITHOUT_ROWID.test(create) ? create : `${create.trimEnd()} WITHOUT ROWID`;

/** `CREATE TABLE …` as an ordinary rowid table again. */
export const withRowid = (create: string): string => create.replace(/\s*without\s+rowid\s*$/i, '');
