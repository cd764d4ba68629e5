// Limits on worker registration, against one person registering many workers to farm credits or to
// out-vote honest workers in replication: workers per new account, workers per IP among new accounts, and
// registrations per hour per account and per IP. Each limit is configurable and 0 switches it off.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { ensureStanding } from './sql/standing.js';
import * as q from './sql/limits.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export class WorkerLimits {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly limits: Config['workerLimits'],
  ) {}

  /** Refuses a registration that would break a limit, saying which and until when it holds. */
  async check(userId: string, ip: string): Promise<void> {
    const now = this.clock.now();
    const { registrationsPerHour, perNewAccount, perIpForNewAccounts, newAccountDays } = this.limits;
    if (registrationsPerHour > 0) {
      const recent = await q.recentRegistrations(this.db, { userId, ip, since: now - HOUR_MS });
      if (recent.account >= registrationsPerHour || recent.ip >= registrationsPerHour) {
        throw new AppError(
          'rate_limited',
          `At most ${registrationsPerHour} workers may be registered per hour from one account or one address; try again later.`,
        );
      }
    }
    const createdAt = await q.accountCreatedAt(this.db, userId);
    const isNew = createdAt !== undefined && now - createdAt < newAccountDays * DAY_MS;
    if (!isNew) return;
    const until = new Date((createdAt as number) + newAccountDays * DAY_MS).toISOString();
    if (perNewAccount > 0 && (await q.activeWorkersOfAccount(this.db, userId)) >= perNewAccount) {
      throw new AppError(
        'limit_exceeded',
        `Accounts younger than ${newAccountDays} days may have ${perNewAccount} workers; revoke one, or wait until ${until}.`,
      );
    }
    if (
      perIpForNewAccounts > 0 &&
      (await q.activeWorkersFromIp(this.db, { ip, accountsSince: now - newAccountDays * DAY_MS })) >=
        perIpForNewAccounts
    ) {
      throw new AppError(
        'limit_exceeded',
        `New accounts have registered ${perIpForNewAccounts} workers from this address already; an account older than ${newAccountDays} days can add more.`,
      );
    }
  }

  /** Remembers where the worker was registered from (its trust row, state new). */
  async record(workerId: string, ip: string): Promise<void> {
    await ensureStanding(this.db, { workerId, now: this.clock.now(), ip });
  }
}
