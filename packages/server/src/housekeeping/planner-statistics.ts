// Planner statistics. PostgreSQL chooses its plans from per-table statistics that ANALYZE gathers, and
// normally autovacuum runs it as tables change. Where an operator has turned autovacuum off (for the
// server, or for a table with autovacuum_enabled=false), tables that grew since their last ANALYZE are
// planned as if they were still small: the annotation hand-out query took 75–86 ms instead of 0.3–1 ms
// on a never-analysed database of 3,000 images (bench ratings). So the coordinator does autovacuum's
// analyse step itself for those tables, with autovacuum's default rule: a table is analysed once more
// than 50 + 10 % of its rows changed since its last ANALYZE. Only those tables: ANALYZE of every table
// of a freshly migrated, empty database takes 0.6–1 s of the server's CPU.
// SQLite plans without gathered statistics unless ANALYZE was ever run, and the hot paths here were tuned
// for exactly that (partial indexes, literal values), so nothing is gathered there.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Dialect } from '../db/connect.js';

/** autovacuum_analyze_threshold and autovacuum_analyze_scale_factor at PostgreSQL's defaults. */
const ANALYZE_THRESHOLD = 50;
const ANALYZE_SCALE_FACTOR = 0.1;

/** Analyses the tables that changed enough and that autovacuum will not analyse; answers which. */
export async function refreshPlannerStatistics(db: Kysely<Database>, dialect: Dialect): Promise<string[]> {
  if (dialect !== 'postgres') return [];
  // Autovacuum skips a table when it is off for the server or for that table (autovacuum_enabled=false).
  const { rows } = await sql<{ schema: string; table: string }>`
    select s.schemaname as schema, s.relname as table
    from pg_stat_user_tables s join pg_class c on c.oid = s.relid
    where (current_setting('autovacuum') = 'off' or c.reloptions @> array['autovacuum_enabled=false'])
      and s.n_mod_since_analyze > ${ANALYZE_THRESHOLD} + ${ANALYZE_SCALE_FACTOR} * greatest(c.reltuples, 0)
    order by s.relname`.execute(db);
  for (const r of rows) await sql`analyze ${sql.id(r.schema, r.table)}`.execute(db);
  return rows.map((r) => r.table);
}
