// Queries built and compiled once, then run with new arguments. Kysely builds and compiles every query
// on every call; on the answer path that was about an eighth of the coordinator's CPU per rating
// (BENCH_PROFILE=1 npm run bench -- ratings). The builder code stays ordinary Kysely: it is called once
// with a unique marker string per argument, and each marker is found again among the compiled
// parameters. The compiled text belongs to the database the builder was given (placeholders differ
// between SQLite and PostgreSQL), so prepare once per database, where the service is built. (SQLite's
// prepared statement behind the SQL text is memoised by db/statement-cache.ts.)
import { CompiledQuery, type Compilable, type Kysely } from 'kysely';
import type { Database } from './schema.js';

type Slot = { arg: number } | { value: unknown };

export type PreparedQuery<Args extends unknown[], Row> = (
  executor: Kysely<Database>,
  ...args: Args
) => Promise<Row[]>;

export function prepare<Args extends unknown[], Row>(
  arity: Args['length'],
  build: (...args: Args) => Compilable<Row>,
): PreparedQuery<Args, Row> {
  const markers = Array.from({ length: arity }, (_, i) => `\u0000arg${i}\u0000`);
  const compiled = build(...(markers as unknown as Args)).compile();
  const slots: Slot[] = compiled.parameters.map((p) => {
    const i = markers.indexOf(p as string);
    return i >= 0 ? { arg: i } : { value: p };
  });
  for (const [i, marker] of markers.entries()) {
    // An argument Kysely inlined or transformed would silently be lost: refuse to build such a query.
    if (!compiled.parameters.includes(marker))
      throw new Error(`Argument ${i} of a prepared query is not a parameter.`);
  }
  const text = compiled.sql;
  return async (executor, ...args) => {
    const parameters = slots.map((s) => ('arg' in s ? args[s.arg] : s.value));
    const result = await executor.executeQuery<Row>(
      CompiledQuery.raw(text, parameters) as CompiledQuery<Row>,
    );
    return result.rows;
  };
}
