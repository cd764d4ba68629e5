// Donors: the public leaderboard, each donor's choice of how to appear on it, and their workers' current
// jobs and throughput history.
//
// Privacy: the leaderboard never shows emails, account names from applications or ids. A donor appears
// under a pseudonym by default (derived from a per-deployment secret, so it is stable but cannot be
// linked to an account id); they may opt into a public name of their choosing (screened by the prompt
// filter) or hide themselves. Deleted and suspended accounts are never listed.
import { createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import type {
  DonorLeaderboard,
  DonorProfile,
  DonorProfileBody,
  LeaderboardPeriod,
  WorkerActivityList,
} from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import type { PromptFilter } from '../moderation/prompt-filter.js';
import { AppError } from '../errors.js';
import { toIso, toIsoOrUndefined } from '../ids.js';
import * as q from './queries.js';

const DAY_MS = 86_400_000;
const PERIOD_DAYS: Record<LeaderboardPeriod, number | undefined> = { week: 7, month: 30, all: undefined };
/** The leaderboard is public and aggregates many rows: each replica recomputes it at most once a minute. */
const LEADERBOARD_CACHE_MS = 60_000;
const BASE32 = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

export class DonorService {
  private readonly cache = new Map<string, { until: number; value: DonorLeaderboard }>();
  private secret: string | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly promptFilter: PromptFilter,
  ) {}

  async leaderboard(period: LeaderboardPeriod, limit: number): Promise<DonorLeaderboard> {
    const now = this.clock.now();
    const cacheKey = `${period}:${limit}`;
    const hit = this.cache.get(cacheKey);
    if (hit && hit.until > now) return hit.value;

    const days = PERIOD_DAYS[period];
    const since = days === undefined ? 0 : now - days * DAY_MS;
    const rows = await q.leaderboardRows(this.db, { since, limit });
    const userIds = rows.map((r) => r.userId);
    const [earnings, profiles] = await Promise.all([
      q.workerEarnings(this.db, { userIds, since }),
      q.profilesOf(this.db, userIds),
    ]);
    const byUser = new Map(profiles.map((p) => [p.user_id, p]));
    const items = [];
    for (const [i, r] of rows.entries()) {
      const profile = byUser.get(r.userId);
      const named = profile?.listing === 'name' && profile.public_name ? profile.public_name : undefined;
      items.push({
        rank: i + 1,
        name: named ?? (await this.pseudonym(r.userId)),
        pseudonymous: named === undefined,
        images: r.images,
        megapixelSteps: Math.round(r.pixelSteps / 1e4) / 100,
        credits: earnings.get(r.userId) ?? 0,
        workers: r.workers,
      });
    }
    const value: DonorLeaderboard = {
      period,
      since: days === undefined ? undefined : toIso(since),
      computedAt: toIso(now),
      items,
    };
    this.cache.set(cacheKey, { until: now + LEADERBOARD_CACHE_MS, value });
    return value;
  }

  async profile(userId: string): Promise<DonorProfile> {
    const [row] = await q.profilesOf(this.db, [userId]);
    return {
      listing: row?.listing ?? 'pseudonym',
      publicName: row?.public_name ?? undefined,
      pseudonym: await this.pseudonym(userId),
    };
  }

  async setProfile(userId: string, body: DonorProfileBody): Promise<DonorProfile> {
    const publicName = body.publicName?.trim();
    if (body.listing === 'name' && !publicName) {
      throw new AppError(
        'validation_failed',
        'Choose the public name to show, or list yourself under a pseudonym.',
        [{ path: 'body/publicName', message: 'required when listing is "name"' }],
      );
    }
    await this.promptFilter.check([{ path: 'body/publicName', label: 'public name', text: publicName }]);
    await q.upsertProfile(this.db, {
      user_id: userId,
      listing: body.listing,
      public_name: publicName ?? null,
      updated_at: this.clock.now(),
    });
    // The donor sees their change on the leaderboard at once on this replica.
    this.cache.clear();
    return this.profile(userId);
  }

  /** The owner's workers: what each is doing now and its finished jobs per hour over the last `days`. */
  async activity(userId: string, days: number): Promise<WorkerActivityList> {
    const since = this.clock.now() - days * DAY_MS;
    const workerIds = await q.activeWorkerIds(this.db, userId);
    const [current, hours] = await Promise.all([
      q.currentJobs(this.db, workerIds),
      q.hourlyThroughput(this.db, { workerIds, since }),
    ]);
    return {
      since: toIso(since),
      items: workerIds.map((workerId) => {
        const job = current.find((j) => j.workerId === workerId);
        return {
          workerId,
          currentJob: job
            ? {
                jobId: job.id,
                model: job.model,
                width: job.width,
                height: job.height,
                step: job.step,
                totalSteps: job.totalSteps,
                startedAt: toIsoOrUndefined(job.leasedAt),
              }
            : undefined,
          hours: hours
            .filter((h) => h.workerId === workerId)
            .map((h) => ({
              hour: toIso(h.hourStart),
              jobs: h.jobs,
              megapixelSteps: Math.round(h.pixelSteps / 1e4) / 100,
            })),
        };
      }),
    };
  }

  /** "Donor 7KQ2MXAB": HMAC of the account id under the deployment's secret, 40 bits in base32. */
  private async pseudonym(userId: string): Promise<string> {
    this.secret ??= await q.pseudonymSecret(this.db, this.clock.now());
    const digest = createHmac('sha256', Buffer.from(this.secret, 'hex')).update(`donor:${userId}`).digest();
    let bits = 0n;
    for (const byte of digest.subarray(0, 5)) bits = (bits << 8n) | BigInt(byte);
    let out = '';
    for (let i = 0; i < 8; i++) out += BASE32[Number((bits >> BigInt(35 - i * 5)) & 31n)];
    return `Donor ${out}`;
  }
}
