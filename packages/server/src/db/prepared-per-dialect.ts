// prepared.ts for statements that live in module-level query functions, which are handed a database or
// a transaction at each call rather than built once with their service: the statement is compiled the
// first time it runs against each kind of database (the SQL text, placeholders included, depends only
// on the dialect) and reused for every later call, on any handle or transaction of that kind.
import type { Compilable, Kysely } from 'kysely';
import type { Database } from './schema.js';
import { prepare, type PreparedQuery } from './prepared.js';

export function preparedPerDialect<Args extends unknown[], Row>(
  arity: Args['length'],
  build: (db: Kysely<Database>, ...args: Args) => Compilable<Row>,
): PreparedQuery<Args, Row> {
  // Keyed by the dialect adapter's class: one compiled text for SQLite, one for PostgreSQL.
  const byDialect = new Map<unknown, PreparedQuery<Args, Row>>();
  return (db, ...args) => {
    const dialect = db.getExecutor().adapter.constructor;
    let query = byDialect.get(dialect);
    if (!query) {
      query = prepare(arity, (...a: Args) => build(db, ...a));
      byDialect.set(dialect, query);
    }
    return query(db, ...args);
  };
}
