// Donor statistics, read from finished jobs through the partial indexes that already exist for them:
// jobs_done_recent (finished_at, id where done) for the leaderboard's period, jobs_worker_done
// (worker_id, finished_at, id where done) for one donor's throughput, credit_entries_account for earnings.
// Megapixel-steps use the generation's steps (what was asked for), not what a worker reported.
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database, DonorProfilesTable } from '../db/schema.js';
import { userAccount } from '../credits/queries.js';

const HOUR_MS = 3_600_000;

/** Results verification overturned or withdrew are not accepted work (trust/). */
const notRefused = sql<boolean>`not exists (
  select 1 from trust_results tr where tr.id = jobs.id and tr.status in ('overturned', 'withdrawn'))`;

export interface LeaderboardRow {
  userId: string;
  images: number;
  pixelSteps: number;
  workers: number;
}

/** Donors ranked by accepted pixel-steps since `since`; deleted, suspended and hidden donors left out. */
export async function leaderboardRows(
  db: Kysely<Database>,
  p: { since: number; limit: number },
): Promise<LeaderboardRow[]> {
  const pixelSteps = sql<string | number>`sum(jobs.pixels * generations.steps)`;
  const rows = await db
    .selectFrom('jobs')
    .innerJoin('workers', 'workers.id', 'jobs.worker_id')
    .innerJoin('generations', 'generations.id', 'jobs.generation_id')
    .innerJoin('users', 'users.id', 'workers.user_id')
    .leftJoin('donor_profiles', 'donor_profiles.user_id', 'workers.user_id')
    .select((eb) => [
      'workers.user_id as userId',
      eb.fn.countAll<string | number>().as('images'),
      pixelSteps.as('pixelSteps'),
      eb.fn.count<string | number>('jobs.worker_id').distinct().as('workers'),
    ])
    .where('jobs.state', '=', 'done')
    .where('jobs.finished_at', '>=', p.since)
    .where(notRefused)
    .where('users.deleted_at', 'is', null)
    .where('users.suspended_at', 'is', null)
    .where((eb) =>
      eb.or([eb('donor_profiles.listing', 'is', null), eb('donor_profiles.listing', '!=', 'hidden')]),
    )
    .groupBy('workers.user_id')
    .orderBy(pixelSteps, 'desc')
    .orderBy('workers.user_id')
    .limit(p.limit)
    .execute();
  return rows.map((r) => ({
    userId: r.userId,
    images: Number(r.images),
    pixelSteps: Number(r.pixelSteps),
    workers: Number(r.workers),
  }));
}

/** Credits paid to each donor for their workers' images since `since` (held earnings count once paid). */
export async function workerEarnings(
  db: Kysely<Database>,
  p: { userIds: readonly string[]; since: number },
): Promise<Map<string, number>> {
  if (p.userIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('credit_entries')
    .innerJoin('credit_transfers', 'credit_transfers.id', 'credit_entries.transfer_id')
    .select((eb) => ['credit_entries.account_id as account', eb.fn.sum<string | number>('amount').as('sum')])
    .where('credit_entries.account_id', 'in', p.userIds.map(userAccount))
    .where('credit_entries.created_at', '>=', p.since)
    .where('credit_transfers.kind', '=', 'worker_earning')
    .groupBy('credit_entries.account_id')
    .execute();
  return new Map(rows.map((r) => [r.account.slice('user:'.length), Number(r.sum)]));
}

export type ProfileRow = Pick<DonorProfilesTable, 'user_id' | 'listing' | 'public_name'>;

export async function profilesOf(db: Kysely<Database>, userIds: readonly string[]): Promise<ProfileRow[]> {
  if (userIds.length === 0) return [];
  return db
    .selectFrom('donor_profiles')
    .select(['user_id', 'listing', 'public_name'])
    .where('user_id', 'in', userIds)
    .execute();
}

export async function upsertProfile(db: Kysely<Database>, row: DonorProfilesTable): Promise<void> {
  const set = { listing: row.listing, public_name: row.public_name, updated_at: row.updated_at };
  await db
    .insertInto('donor_profiles')
    .values(row)
    .onConflict((oc) => oc.column('user_id').doUpdateSet(set))
    .execute();
}

/** The deployment's pseudonym secret (settings row), created on first use by whichever replica asks first. */
export async function pseudonymSecret(db: Kysely<Database>, now: number): Promise<string> {
  const key = 'donor_pseudonym_secret';
  const read = () => db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
  const found = await read();
  if (found) return JSON.parse(found.value) as string;
  await db
    .insertInto('settings')
    .values({
      key,
      value: JSON.stringify(randomBytes(32).toString('hex')),
      updated_at: now,
      updated_by: null,
    })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  return JSON.parse((await read())!.value) as string;
}

/** The owner's workers that still hold a key. */
export async function activeWorkerIds(db: Kysely<Database>, userId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('workers')
    .select('id')
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .orderBy('created_at')
    .execute();
  return rows.map((r) => r.id);
}

/** The jobs these workers hold a lease on now (through the partial jobs_leases index). */
export async function currentJobs(db: Kysely<Database>, workerIds: readonly string[]) {
  if (workerIds.length === 0) return [];
  return db
    .selectFrom('jobs')
    .innerJoin('generations', 'generations.id', 'jobs.generation_id')
    .select([
      'jobs.id',
      'jobs.worker_id as workerId',
      'generations.model',
      'generations.width',
      'generations.height',
      'jobs.step',
      'jobs.total_steps as totalSteps',
      'jobs.leased_at as leasedAt',
    ])
    .where('jobs.state', '=', 'leased')
    .where('jobs.worker_id', 'in', workerIds)
    .execute();
}

/** Finished jobs and pixel-steps per worker and hour since `since` (jobs_worker_done range scans). */
export async function hourlyThroughput(
  db: Kysely<Database>,
  p: { workerIds: readonly string[]; since: number },
) {
  if (p.workerIds.length === 0) return [];
  const hour = sql<string | number>`(jobs.finished_at / ${sql.lit(HOUR_MS)})`;
  const rows = await db
    .selectFrom('jobs')
    .innerJoin('generations', 'generations.id', 'jobs.generation_id')
    .select((eb) => [
      'jobs.worker_id as workerId',
      hour.as('hour'),
      eb.fn.countAll<string | number>().as('jobs'),
      sql<string | number>`sum(jobs.pixels * generations.steps)`.as('pixelSteps'),
    ])
    .where('jobs.worker_id', 'in', p.workerIds)
    .where('jobs.state', '=', 'done')
    .where('jobs.finished_at', '>=', p.since)
    .groupBy(['jobs.worker_id', hour])
    .orderBy(hour)
    .execute();
  return rows.map((r) => ({
    workerId: r.workerId!,
    hourStart: Number(r.hour) * HOUR_MS,
    jobs: Number(r.jobs),
    pixelSteps: Number(r.pixelSteps),
  }));
}
