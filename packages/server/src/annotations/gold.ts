// Gold items: images (or pairs of the same prompt) whose answer a moderator knows. They are handed out
// like any task (service.ts mixes them in at ANNOTATION_GOLD_PERCENT) and score the raters who get them.
import type { Kysely } from 'kysely';
import type { AnnotationKind, CreateGoldBody, GoldItem, GoldList } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { AppError, notFound } from '../errors.js';
import { newId } from '../ids.js';
import { withIdempotency, type IdempotentAnswer } from '../idempotency/idempotency.js';
import { recordAudit } from '../audit/record.js';
import { decodeCursor, encodeCursor } from '../http/cursor.js';
import { expectationMasks } from './flags.js';
import type { ImagePool } from './pool.js';
import { pairKey } from './sql/handout.js';
import { goldWithCounts, insertGold, listGold, pooledImages, retireGold } from './sql/gold.js';
import { toGoldItem } from './views.js';

export class GoldService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly pool: ImagePool,
  ) {}

  async create(
    actorId: string,
    body: CreateGoldBody,
    idempotencyKey: string | undefined,
  ): Promise<IdempotentAnswer<GoldItem>> {
    return withIdempotency(
      this.db,
      this.clock,
      { userId: actorId, key: idempotencyKey, route: 'POST /v1/admin/annotations/gold', request: body },
      async (trx) => {
        const now = this.clock.now();
        const row = await this.draft(trx, body);
        const item = { ...row, id: newId(), created_by: actorId, created_at: now };
        if (!(await insertGold(trx, item))) {
          throw new AppError(
            'conflict',
            'A gold item of this kind already covers this image (or pair); retire it first to replace it.',
          );
        }
        await recordAudit(trx, {
          actorId,
          action: 'annotation.gold_create',
          targetType: 'image',
          targetId: item.image_b === null ? item.image_a : item.pair_key,
          detail: { goldId: item.id, ...body },
          at: now,
        });
        return {
          status: 201,
          body: toGoldItem({ ...item, retired_at: null, retired_by: null, answers: 0, agreed: 0 }),
        };
      },
    );
  }

  async list(kind: AnnotationKind | undefined, limit: number, cursor: string | undefined): Promise<GoldList> {
    const rows = await listGold(this.db, { kind, limit, before: decodeCursor(cursor) });
    const last = rows.at(-1);
    return {
      items: rows.map(toGoldItem),
      nextCursor:
        rows.length === limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : undefined,
    };
  }

  /** Stops handing it out; answers already given keep their verdict. Retiring twice changes nothing. */
  async retire(actorId: string, id: string): Promise<GoldItem> {
    const before = await goldWithCounts(this.db, id);
    if (!before) throw notFound('Gold item');
    const now = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      if (!(await retireGold(trx, { id, actorId, now }))) return;
      await recordAudit(trx, {
        actorId,
        action: 'annotation.gold_retire',
        targetType: 'image',
        targetId: before.image_b === null ? before.image_a : before.pair_key,
        detail: { goldId: id, kind: before.kind },
        at: now,
      });
    });
    return toGoldItem((await goldWithCounts(this.db, id)) ?? before);
  }

  /** Checks the images and turns the known answer into the stored form (pairs in canonical order). */
  private async draft(trx: Kysely<Database>, body: CreateGoldBody) {
    const ids = body.kind === 'pairwise' ? body.imageIds : [body.imageId];
    if (new Set(ids).size !== ids.length) {
      throw new AppError('validation_failed', 'A pair needs two different images.', [
        { path: 'body/imageIds', message: 'must name two different images' },
      ]);
    }
    await this.pool.ensure(trx, ids);
    const pooled = await pooledImages(trx, ids);
    const missing = ids.filter((id) => !pooled.some((p) => p.image_id === id));
    if (missing.length > 0) throw notFound(`Finished image ${missing.join(', ')}`);
    const none = {
      image_b: null,
      rating_min: null,
      rating_max: null,
      preferred: null,
      flags_set: null,
      flags_clear: null,
    };
    switch (body.kind) {
      case 'rating':
        if (body.ratingMin > body.ratingMax) {
          throw new AppError('validation_failed', 'ratingMin must not exceed ratingMax.', [
            { path: 'body/ratingMin', message: 'must be ≤ ratingMax' },
          ]);
        }
        return {
          ...none,
          kind: 'rating' as const,
          image_a: body.imageId,
          pair_key: body.imageId,
          rating_min: body.ratingMin,
          rating_max: body.ratingMax,
        };
      case 'flag': {
        const { set, clear } = expectationMasks(body.flags);
        return {
          ...none,
          kind: 'flag' as const,
          image_a: body.imageId,
          pair_key: body.imageId,
          flags_set: set,
          flags_clear: clear,
        };
      }
      case 'pairwise': {
        const [x, y] = body.imageIds as [string, string];
        if (pooled[0]?.prompt_key !== pooled[1]?.prompt_key) {
          throw new AppError(
            'validation_failed',
            'Both images must come from the same prompt (pairwise tasks only pair those).',
            [{ path: 'body/imageIds', message: 'must share a prompt' }],
          );
        }
        if (body.preferred !== 'tie' && body.preferred !== x && body.preferred !== y) {
          throw new AppError('validation_failed', 'preferred must be one of imageIds, or "tie".', [
            { path: 'body/preferred', message: 'must be one of imageIds or "tie"' },
          ]);
        }
        const [a, b] = x < y ? [x, y] : [y, x];
        const preferred =
          body.preferred === 'tie'
            ? ('tie' as const)
            : body.preferred === a
              ? ('a' as const)
              : ('b' as const);
        return {
          ...none,
          kind: 'pairwise' as const,
          image_a: a,
          image_b: b,
          pair_key: pairKey(a, b),
          preferred,
        };
      }
    }
  }
}
