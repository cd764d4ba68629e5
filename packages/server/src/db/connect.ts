// Opens the database named by DATABASE_URL: `postgres://…` → PostgreSQL through `pg`, anything else
// (`sqlite:PATH`, a plain path, or `:memory:`) → embedded SQLite through better-sqlite3 in WAL mode.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import { nameStatementsOnConnect } from './pg-named-statements.js';
import pg from 'pg';
import type { Database } from './schema.js';
import { migrationProvider } from './migrations/index.js';
import { withStatementCache } from './statement-cache.js';
import { FALLBACK_AUTOCHECKPOINT_PAGES, startCheckpointer } from './sqlite-checkpointer.js';
import { postgresArrayRows, sqliteArrayRows, type ArrayRowsReader } from './array-rows.js';

export type Dialect = 'sqlite' | 'postgres';
/** NORMAL (default): a commit survives a process crash; the last commits may roll back on power loss. FULL: they survive that too, at a cost per commit. */
export type SqliteSynchronous = 'NORMAL' | 'FULL';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  /** The connection string, for things that need their own connection (PostgreSQL LISTEN). */
  url: string;
  /** Runs a compiled query and returns rows as arrays (array-rows.ts): for bulk reads such as releases. */
  arrayRows: ArrayRowsReader;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  sqliteSynchronous?: SqliteSynchronous;
  /** PostgreSQL pool size. */
  poolSize?: number;
  /** PostgreSQL: prepare each hot statement once per connection (pg-named-statements.ts). Default true. */
  pgPreparedStatements?: boolean;
  /** Told about connections PostgreSQL closed while idle (they are replaced on the next query). */
  onPoolError?: (err: Error) => void;
  /**
   * SQLite file databases: how often a background thread checkpoints the WAL (sqlite-checkpointer.ts);
   * 0 leaves checkpoints to SQLite's default, inline on the committing connection. Default 100 ms.
   */
  sqliteCheckpointIntervalMs?: number;
  /** Told when a background checkpoint fails. */
  onCheckpointError?: (message: string) => void;
}

const DEFAULT_CHECKPOINT_INTERVAL_MS = 100;
/** SQLite's page cache per connection: 64 MiB (the default, 2 MiB, misses on the hot indexes of a busy queue). */
const SQLITE_CACHE_KIB = 65_536;
/** A WAL that grew past this (a long reader held it) is truncated back when it next restarts. */
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

export function sqlitePath(url: string): string {
  return url.replace(/^sqlite:(\/\/)?/, '');
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/** bigint and numeric come back from pg as strings; every such value we store fits a double exactly. */
function pgTypes(): pg.CustomTypesConfig {
  return {
    getTypeParser: ((oid: number, format?: string) => {
      if (oid === INT8_OID || oid === NUMERIC_OID) return (v: string) => Number(v);
      return pg.types.getTypeParser(oid, format as 'text');
    }) as pg.CustomTypesConfig['getTypeParser'],
  };
}

export async function openDatabase(url: string, options: OpenDatabaseOptions = {}): Promise<DatabaseHandle> {
  let handle: DatabaseHandle;
  if (isPostgresUrl(url)) {
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10, types: pgTypes() });
    // An idle connection the server terminates (restart, failover) is reported as a pool 'error' event;
    // unhandled, it would crash the process. The pool replaces it on the next query.
    pool.on('error', (err) => options.onPoolError?.(err));
    if (options.pgPreparedStatements !== false) nameStatementsOnConnect(pool);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    handle = { db, dialect: 'postgres', url, arrayRows: postgresArrayRows(pool), close: () => db.destroy() };
  } else {
    const path = sqlitePath(url);
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const sqlite = new SQLite(path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma(`synchronous = ${options.sqliteSynchronous ?? 'NORMAL'}`);
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma(`cache_size = -${SQLITE_CACHE_KIB}`);
    sqlite.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    const interval = options.sqliteCheckpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    const checkpointer =
      path !== ':memory:' && interval > 0
        ? startCheckpointer(path, { intervalMs: interval, onError: options.onCheckpointError })
        : undefined;
    if (checkpointer) sqlite.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
    handle = {
      db,
      dialect: 'sqlite',
      url,
      arrayRows: sqliteArrayRows(db as Kysely<unknown>, sqlite),
      close: async () => {
        await checkpointer?.stop();
        await db.destroy();
      },
    };
  }
  await migrate(handle.db);
  return handle;
}

export async function migrate(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`Database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
}
