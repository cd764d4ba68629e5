// Rows as arrays of column values (in select order) instead of objects, for bulk reads of many rows:
// a dataset release reads every public image. Measured on 1,000,000 rows of the release's image query
// (SQLite, 21 columns): better-sqlite3's objects cost 7.0 CPU-seconds to read, its arrays 4.0, of which
// SQLite's own work is ~1.9. The query is still built with Kysely; only its execution differs.
import type SQLite from 'better-sqlite3';
import type { CompiledQuery, Kysely } from 'kysely';
import type pg from 'pg';

/** Runs a compiled query and returns its rows as arrays, columns in the order the query selects them. */
export type ArrayRowsReader = (query: CompiledQuery) => Promise<unknown[][]>;

/**
 * SQLite: the statement runs on the coordinator's one connection, inside Kysely's hold on it
 * (`connection()`), so it never runs in the middle of another caller's open transaction and reads only
 * committed rows. It is prepared here, not through the shared statement cache, because raw mode is a
 * setting of the statement object that Kysely's callers must not inherit.
 */
export function sqliteArrayRows(db: Kysely<unknown>, sqlite: SQLite.Database): ArrayRowsReader {
  return (query) =>
    db.connection().execute(
      async () =>
        sqlite
          .prepare(query.sql)
          .raw(true)
          .all(...query.parameters) as unknown[][],
    );
}

/** PostgreSQL: one pooled connection per query, `rowMode: 'array'`, the pool's type parsers as usual. */
export function postgresArrayRows(pool: pg.Pool): ArrayRowsReader {
  return async (query) => {
    const result = await pool.query({
      text: query.sql,
      values: query.parameters as unknown[],
      rowMode: 'array',
    });
    return result.rows as unknown[][];
  };
}
