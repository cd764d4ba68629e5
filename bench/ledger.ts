// Credits ledger throughput, in process (no HTTP), on SQLite and PostgreSQL, each beside a baseline
// measured on the same database in the same run: a transaction that inserts one row into a plain table.
//
//   award       platform → user, one transfer (SQLite: transfer, entries, commit; PostgreSQL: one
//               statement for the transfer and its entries, then commit) — what an
//               accepted annotation or a worker's earning costs
//   spend       a generation's reservation, a balance-checked debit: lock row, row lock (PostgreSQL),
//               SUM of the user's entries, transfer; spread over 1,000 users
//   hot spend   the same, all on one user: concurrent spends wait for each other's lock
//
// Each phase is a closed loop of BENCH_CONCURRENCY (default 8) transactions for BENCH_PHASE_MS
// (default 3000) after a 500 ms warm-up. Environment: DATABASE_URL (PostgreSQL admin URL; default
// postgres://postgres@127.0.0.1:5432/test; BENCH_PG=0 skips PostgreSQL), SQLITE_SYNCHRONOUS (NORMAL).
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import {
  CreditsService,
  openDatabase,
  systemClock,
  trialBalance,
  type DatabaseHandle,
} from '@dreamfold/server';
import { createTestDatabase, tempDir, type TestDatabase } from '@dreamfold/server/testing';
import { closedLoop, fmt } from './_harness.js';

const PHASE_MS = Number(process.env.BENCH_PHASE_MS ?? 3000);
const WARMUP_MS = 500;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const USERS = 1000;
const PG_ADMIN_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
// createTestDatabase reads the admin URL from DATABASE_URL.
process.env.DATABASE_URL = PG_ADMIN_URL;

let seq = 0;
const uniq = () => `${process.pid}-${++seq}`;

async function phase(name: string, once: () => Promise<void>): Promise<number> {
  await closedLoop(CONCURRENCY, WARMUP_MS, once);
  const { count, seconds } = await closedLoop(CONCURRENCY, PHASE_MS, once);
  const rate = count / seconds;
  console.log(`  ${name.padEnd(28)} ${fmt(rate).padStart(7)}/s  (${fmt(count)} in ${seconds.toFixed(1)} s)`);
  return rate;
}

async function benchDatabase(label: string, handle: DatabaseHandle): Promise<void> {
  const { db, dialect } = handle;
  const untyped = db as unknown as Kysely<unknown>;
  await sql`create table bench_baseline (id text primary key, v bigint not null, created_at bigint not null)`.execute(
    untyped,
  );
  const credits = new CreditsService(
    db,
    dialect,
    systemClock,
    { current: async () => 'open' },
    {
      imageCost: 10,
      workerReward: 10,
      annotationReward: 1,
    },
  );
  const charge = { perImage: 1, total: 1, charged: true, stage: 'open' as const };
  const users = Array.from({ length: USERS }, (_, i) => `bench-user-${i}`);
  const someUser = () => users[Math.floor(Math.random() * USERS)] as string;
  // Every user starts rich enough that no spend is refused.
  await db.transaction().execute(async (trx) => {
    for (const userId of users)
      await credits.grant(trx, {
        userId,
        amount: 1_000_000,
        memo: 'bench',
        actorId: null,
        key: `seed:${userId}`,
      });
  });

  console.log(`\n${label} (concurrency ${CONCURRENCY})`);
  const baseline = await phase('baseline: 1-row insert tx', () =>
    db.transaction().execute(async (trx) => {
      await sql`insert into bench_baseline (id, v, created_at) values (${uniq()}, ${1}, ${Date.now()})`.execute(
        trx,
      );
    }),
  );
  const award = await phase('award (platform → user)', () =>
    db.transaction().execute(async (trx) => {
      await credits.award(trx, {
        userId: someUser(),
        amount: 1,
        kind: 'annotation',
        reference: { type: 'bench', id: uniq() },
      });
    }),
  );
  // A generation's reservation: the real spend path (a generation row is not needed to post it).
  const reserve = (userId: string) =>
    db.transaction().execute(async (trx) => {
      await credits.reserve(trx, { userId, generationId: uniq(), n: 1, charge });
    });
  const spend = await phase('spend (reserve, checked)', () => reserve(someUser()));
  const hot = await phase('hot spend (one user)', () => reserve(users[0] as string));
  // No generation rows exist here, so only the whole-ledger sums of the trial balance apply.
  const books = await trialBalance(db);
  console.log(
    `  → ratio to baseline: award ${(award / baseline).toFixed(2)}, spend ${(spend / baseline).toFixed(2)}, ` +
      `hot spend ${(hot / baseline).toFixed(2)}; ${fmt(books.transfers)} transfers summing to ${books.total}`,
  );
}

console.log(
  `ledger bench: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const sqliteUrl = `sqlite:${join(tempDir('dreamfold-ledger-'), 'bench.db')}`;
const sqliteSync = process.env.SQLITE_SYNCHRONOUS === 'FULL' ? 'FULL' : 'NORMAL';
const sqlite = await openDatabase(sqliteUrl, { sqliteSynchronous: sqliteSync });
try {
  await benchDatabase(`SQLite (WAL, synchronous=${sqliteSync})`, sqlite);
} finally {
  await sqlite.close();
}
if (process.env.BENCH_PG !== '0') {
  const pgDb: TestDatabase = await createTestDatabase('postgres');
  const pg = await openDatabase(pgDb.url);
  try {
    await benchDatabase('PostgreSQL (pool of 10)', pg);
  } finally {
    await pg.close();
    await pgDb.drop();
  }
}
