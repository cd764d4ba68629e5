import type SQLite from 'better-sqlite3';

/**
 * Kysely's SQLite driver calls `prepare()` for every query; preparing costs about as much as running
 * a small statement. This wraps the handle so each distinct SQL text is prepared once (bounded LRU).
 * Safe because Kysely runs one statement at a time on the connection and never keeps an iterator open.
 */
export function withStatementCache(db: SQLite.Database, max = 500): SQLite.Database {
  const cache = new Map<string, SQLite.Statement>();
  const prepare = db.prepare.bind(db);
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop !== 'prepare') {
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return (source: string) => {
        let stmt = cache.get(source);
        if (stmt) {
          cache.delete(source);
        } else {
          stmt = prepare(source);
          if (cache.size >= max) cache.delete(cache.keys().next().value as string);
        }
        cache.set(source, stmt);
        return stmt;
      };
    },
  });
}
