// Planner statistics. PostgreSQL chooses its plans from per-table statistics that ANALYZE gathers, and
// normally autovacuum runs it as tables change. Where an operator has turned autovacuum off, tables that
// grew since the last ANALYZE are planned as if they were still small: the annotation hand-out query took
// 75–86 ms instead of 0.3–1 ms on a never-analysed database of 3,000 images (bench ratings), so the
// coordinator runs ANALYZE itself in that case. SQLite plans without gathered statistics unless ANALYZE
// was ever run, and the hot paths here were tuned for exactly that (partial indexes, literal values), so
// nothing is gathered there.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Dialect } from '../db/connect.js';

/** Runs ANALYZE where nothing else will; answers whether it did. */
export async function refreshPlannerStatistics(db: Kysely<Database>, dialect: Dialect): Promise<boolean> {
  if (dialect !== 'postgres') return false;
  const { rows } = await sql<{
    autovacuum: string;
  }>`select current_setting('autovacuum') as autovacuum`.execute(db);
  if (rows[0]?.autovacuum !== 'off') return false;
  await sql`analyze`.execute(db);
  return true;
}
