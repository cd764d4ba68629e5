// Appeals against safety decisions. The owner of a hidden image says why the decision is wrong; a
// moderator upholds it or overturns it (the image becomes public again). Each appeal remembers what hid
// the image — the classifier with its score, the prompt-filter rule that matched, a verification outcome,
// or a moderator with their reason (hide-reasons.ts) — so the outcomes count the false positives of each
// rule, and the thresholds and rules can be tuned from them.
import type { Kysely } from 'kysely';
import type {
  Appeal,
  AppealList,
  AppealQuery,
  AppealStats,
  CreateAppealBody,
  DecideAppealBody,
  ModeratorAppealList,
} from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { AppError, notFound } from '../errors.js';
import { newId, toIso, toIsoOrUndefined } from '../ids.js';
import { recordAudit } from '../audit/record.js';
import { withIdempotency, type IdempotentAnswer } from '../idempotency/idempotency.js';
import { decodeCursor, encodeCursor } from '../moderation/cursor.js';
import { publicFileUrl } from '../moderation/views.js';
import { unhideImage } from '../moderation/queries.js';
import { hideRule, hideSource } from './hide-reasons.js';
import * as q from './appeal-queries.js';

export const CLASSIFIER_RULE = 'nsfw_classifier';
const RULE_MAX = 200;

export class AppealsService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async create(
    userId: string,
    imageId: string,
    body: CreateAppealBody,
    idempotencyKey: string | undefined,
  ): Promise<IdempotentAnswer<Appeal>> {
    try {
      return await withIdempotency(
        this.db,
        this.clock,
        { userId, key: idempotencyKey, route: 'POST /v1/images/:id/appeals', request: { imageId, body } },
        async (trx) => {
          // Only the owner appeals; anyone else's image does not exist for them.
          const image = await q.ownedImageForAppeal(trx, imageId, userId);
          if (!image) throw notFound('Image');
          if (image.hiddenReason === null) {
            throw new AppError('conflict', 'The image is not hidden; there is no decision to appeal.');
          }
          if (await q.openAppealOf(trx, imageId)) throw alreadyAppealed();
          const source = hideSource({ hiddenBy: image.hiddenBy, reason: image.hiddenReason });
          const row = {
            id: newId(),
            image_id: imageId,
            user_id: userId,
            note: body.note,
            source,
            rule: hideRule(source, image.hiddenReason, CLASSIFIER_RULE).slice(0, RULE_MAX),
            score: source === 'classifier' ? image.score : null,
            state: 'open' as const,
            created_at: this.clock.now(),
            decided_at: null,
            decided_by: null,
            decision_note: null,
          };
          await q.insertAppeal(trx, row);
          return { status: 201, body: toAppeal(row) };
        },
      );
    } catch (err) {
      // Two appeals at once: the partial unique index let one in.
      if (isUniqueViolation(err)) throw alreadyAppealed();
      throw err;
    }
  }

  async mine(userId: string, limit: number, cursor: string | undefined): Promise<AppealList> {
    const after = decodeCursor(cursor, ['number', 'string'] as const);
    const rows = await q.appealsOfUser(this.db, { userId, limit, after });
    const last = rows.at(-1);
    return {
      items: rows.map(toAppeal),
      nextCursor: rows.length === limit && last ? encodeCursor([last.created_at, last.id]) : undefined,
    };
  }

  async queue(query: AppealQuery): Promise<ModeratorAppealList> {
    const limit = query.limit ?? 20;
    const after = decodeCursor(query.cursor, ['number', 'string'] as const);
    const rows = await q.appealQueue(this.db, { state: query.state ?? 'open', limit, after });
    const last = rows.at(-1);
    return {
      items: rows.map((r) => ({
        ...toAppeal(r),
        userId: r.user_id,
        url: publicFileUrl(r.image_id),
        prompt: r.prompt,
      })),
      nextCursor: rows.length === limit && last ? encodeCursor([last.created_at, last.id]) : undefined,
    };
  }

  /** Upholds or overturns; overturning unhides the image. Both are audited with the decision. */
  async decide(actorId: string, appealId: string, body: DecideAppealBody): Promise<Appeal> {
    const now = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      const appeal = await q.findAppeal(trx, appealId);
      if (!appeal) throw notFound('Appeal');
      if (appeal.ownerId === actorId) {
        throw new AppError(
          'forbidden',
          'Moderators cannot decide appeals about their own images; ask another moderator.',
        );
      }
      if (appeal.state !== 'open')
        throw new AppError('conflict', `This appeal was already decided (${appeal.state}).`);
      if (
        !(await q.decideAppeal(trx, { id: appealId, state: body.outcome, by: actorId, note: body.note, now }))
      ) {
        throw new AppError('conflict', 'Another moderator decided this appeal just now.');
      }
      let unhidden = false;
      if (body.outcome === 'overturned') {
        unhidden = await unhideImage(trx, appeal.image_id);
        if (unhidden) {
          await recordAudit(trx, {
            actorId,
            action: 'image.unhide',
            targetType: 'image',
            targetId: appeal.image_id,
            detail: { reason: body.note, appeal: appealId, hiddenFor: appeal.rule },
            at: now,
          });
        }
      }
      await recordAudit(trx, {
        actorId,
        action: 'appeal.decide',
        targetType: 'image',
        targetId: appeal.image_id,
        detail: {
          appeal: appealId,
          outcome: body.outcome,
          note: body.note,
          source: appeal.source,
          rule: appeal.rule,
          unhidden,
        },
        at: now,
      });
    });
    const row = await q.findAppeal(this.db, appealId);
    if (!row) throw notFound('Appeal');
    return toAppeal(row);
  }

  async stats(): Promise<AppealStats> {
    const [counts, hides, overturns] = await Promise.all([
      q.appealCounts(this.db),
      q.classifierHidesByBand(this.db),
      q.classifierOverturnsByBand(this.db),
    ]);
    const items = new Map<string, AppealStats['items'][number]>();
    for (const c of counts) {
      const key = `${c.source}\u0000${c.rule}`;
      const item = items.get(key) ?? { source: c.source, rule: c.rule, open: 0, upheld: 0, overturned: 0 };
      item[c.state] += c.n;
      items.set(key, item);
    }
    const classifierItems = [...items.values()].filter((i) => i.source === 'classifier');
    const sum = (f: (i: AppealStats['items'][number]) => number) =>
      classifierItems.reduce((a, i) => a + f(i), 0);
    const count = (rows: { band: number; n: number }[], band: number) =>
      rows.find((r) => r.band === band)?.n ?? 0;
    return {
      items: [...items.values()],
      classifier: {
        hidden: hides.reduce((a, r) => a + r.n, 0),
        appealed: sum((i) => i.open + i.upheld + i.overturned),
        overturned: sum((i) => i.overturned),
        byScore: Array.from({ length: 10 }, (_, band) => ({
          from: band / 10,
          to: (band + 1) / 10,
          hidden: count(hides, band),
          overturned: count(overturns, band),
        })),
      },
    };
  }
}

function toAppeal(r: q.AppealRow): Appeal {
  return {
    id: r.id,
    imageId: r.image_id,
    note: r.note,
    source: r.source,
    rule: r.rule,
    score: r.score ?? undefined,
    state: r.state,
    createdAt: toIso(r.created_at),
    decidedAt: toIsoOrUndefined(r.decided_at),
    decisionNote: r.decision_note ?? undefined,
  };
}

const alreadyAppealed = () =>
  new AppError('conflict', 'This image already has an open appeal; a moderator will decide it.');

function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
