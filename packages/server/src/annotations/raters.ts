// Raters for moderators: who is excluded and who earns, and reinstating an excluded rater (audited).
import type { Kysely } from 'kysely';
import type { RaterFilter, RaterList, RaterSummary } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Dialect } from '../db/connect.js';
import type { Clock } from '../clock.js';
import { AppError, notFound } from '../errors.js';
import { toIso } from '../ids.js';
import { recordAudit } from '../audit/record.js';
import { decodeCursor, encodeCursor } from '../http/cursor.js';
import { setExclusion } from './answer.js';
import { qualityPolicy, type AnnotationSettings } from './service.js';
import { listRaters, raterWithEmail, reinstateRater } from './sql/raters.js';
import { toRaterSummary } from './views.js';

/** Who is looking: admins see emails, moderators user ids only. */
export interface RaterViewer {
  userId: string;
  admin: boolean;
}

export class RaterService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly clock: Clock,
    private readonly settings: AnnotationSettings,
  ) {}

  async list(
    viewer: RaterViewer,
    q: { filter: RaterFilter; limit: number; cursor: string | undefined },
  ): Promise<RaterList> {
    const rows = await listRaters(this.db, { ...q, before: decodeCursor(q.cursor) });
    const policy = qualityPolicy(this.settings);
    const last = rows.at(-1);
    // The cursor carries the page's sort key: when excluded for the excluded list, else when started.
    const next =
      last && rows.length === q.limit
        ? { createdAt: q.filter === 'excluded' ? (last.excluded_at ?? 0) : last.created_at, id: last.user_id }
        : undefined;
    return {
      items: rows.map((r) => toRaterSummary(r, policy, viewer.admin)),
      nextCursor: next && encodeCursor(next),
    };
  }

  /**
   * Lifts an excluded rater's exclusion and starts their checks over: their answers rejoin the
   * aggregates (and releases) at once, and the agreement threshold judges them again from their next
   * checks. Only an excluded rater (409 otherwise), with the reason in the audit log.
   */
  async reinstate(viewer: RaterViewer, userId: string, reason: string): Promise<RaterSummary> {
    const now = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      const before = await reinstateRater(trx, this.dialect, userId);
      if (!before) {
        if (!(await raterWithEmail(trx, userId))) throw notFound('Rater');
        throw new AppError(
          'conflict',
          'This rater is not excluded; only an excluded rater can be reinstated.',
        );
      }
      await setExclusion(trx, this.dialect, userId, null);
      await recordAudit(trx, {
        actorId: viewer.userId,
        action: 'annotation.rater_reinstate',
        targetType: 'user',
        targetId: userId,
        detail: {
          reason,
          excludedAt: before.excluded_at === null ? undefined : toIso(before.excluded_at),
          goldAnswers: before.gold_answers,
          goldAgreed: before.gold_agreed,
        },
        at: now,
      });
    });
    const row = await raterWithEmail(this.db, userId);
    if (!row) throw notFound('Rater');
    return toRaterSummary(row, qualityPolicy(this.settings), viewer.admin);
  }
}
