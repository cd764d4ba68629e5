// PostgreSQL parses, analyses and plans every statement Kysely sends, because Kysely sends them unnamed.
// On the job cycle's short statements that planning is a large share of the server's CPU, and here the
// server shares two cores with the coordinator. node-postgres prepares a statement once per connection
// when a query carries a `name` (later runs send only Bind/Execute); this gives each distinct SQL text a
// stable name, so every pooled connection prepares each hot statement once, and PostgreSQL may also keep
// a generic plan for it. The SQLite analogue is statement-cache.ts.
//
// A text gets its name the second time it is seen: statements that run once (migrations, admin actions)
// are never prepared. Bounded: names go to the first MAX_NAMED repeated texts (a connection holds at most
// that many prepared statements), and texts are remembered up to MAX_SEEN; anything past those, and
// anything that is not a query or DML, runs unnamed as before. Named statements do not survive a
// connection pooler in transaction mode (PgBouncer before 1.21): PG_PREPARED_STATEMENTS=off turns this
// off for such deployments.
import type pg from 'pg';

const MAX_NAMED = 500;
const MAX_SEEN = 5_000;
/** Plain DML and queries; DDL and utility statements (migrations, LISTEN, SET) stay unnamed. */
const NAMEABLE = /^\s*(select|insert|update|delete|with)\b/i;

type QueryFn = (...args: unknown[]) => unknown;

/** Each SQL text seen: its name once it has one, null while seen only once. Shared by every pool here. */
const names = new Map<string, string | null>();
let named = 0;

function nameOf(text: string): string | undefined {
  const name = names.get(text);
  if (name) return name;
  if (name === null) {
    if (named >= MAX_NAMED) return undefined;
    const fresh = `dreamfold_${named++}`;
    names.set(text, fresh);
    return fresh;
  }
  if (names.size < MAX_SEEN && NAMEABLE.test(text)) names.set(text, null);
  return undefined;
}

/** Makes every connection the pool opens run its (text, values) queries as named statements. */
export function nameStatementsOnConnect(pool: pg.Pool): void {
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as QueryFn;
    (client as unknown as { query: QueryFn }).query = (...args: unknown[]) => {
      const [text, values, callback] = args;
      if (typeof text !== 'string' || !Array.isArray(values) || callback !== undefined) return query(...args);
      const name = nameOf(text);
      return name === undefined ? query(text, values) : query({ name, text, values });
    };
  });
}
