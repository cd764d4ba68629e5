// Public images: the gallery, one image's details, its PNG and its thumbnail. Public means what
// moderation/visibility.ts says; an image that is not public exists only for its owner and for staff —
// everyone else gets 404, the same answer as for an id that never existed.
import type { Kysely } from 'kysely';
import type {
  Gallery,
  GalleryQuery,
  ImageDetail,
  ImageSummary,
  RatingAggregate,
  Sampler,
} from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import { AppError, notFound } from '../errors.js';
import { toIso } from '../ids.js';
import { decodeCursor, encodeCursor } from '../moderation/cursor.js';
import { publicFileUrl, publicThumbUrl } from '../moderation/views.js';
import {
  findImage,
  findPublicImage,
  listRecent,
  listScored,
  listUnscored,
  type GalleryRow,
  type ImageRow,
} from './gallery-queries.js';
import type { Thumbnails } from './thumbnails.js';

/** Who is looking: nobody (anonymous), or a signed-in user who may be staff. */
export type Viewer = { userId: string; staff: boolean } | undefined;

export interface StoredImage {
  sha256: string;
  /** Public images may sit in shared caches; others must not. */
  public: boolean;
}

const MAX_TERMS = 8;

export class ImageService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly thumbnails: Thumbnails,
  ) {}

  async list(query: GalleryQuery): Promise<Gallery> {
    const limit = query.limit ?? 24;
    const terms = (query.q ?? '').split(/\s+/).filter(Boolean).slice(0, MAX_TERMS);
    if ((query.sort ?? 'recent') === 'recent') {
      const after = decodeCursor(query.cursor, ['number', 'string'] as const);
      const rows = await listRecent(this.db, { terms, limit, after });
      const last = rows.at(-1);
      return {
        items: rows.map(toSummary),
        nextCursor: rows.length === limit && last ? encodeCursor([last.finishedAt ?? 0, last.id]) : undefined,
      };
    }
    // Aesthetic order in two runs: scored images best first, then the unscored newest first. The cursor
    // says which run it is in: ['s', score, id] or ['u', finished_at, id].
    const after = decodeCursor(query.cursor, ['string', 'number', 'string'] as const);
    if (after && after[0] !== 's' && after[0] !== 'u')
      throw new AppError('validation_failed', 'The cursor is not one this server issued.');
    const rows: GalleryRow[] = [];
    if (!after || after[0] === 's') {
      rows.push(...(await listScored(this.db, { terms, limit, after: after && [after[1], after[2]] })));
    }
    if (rows.length < limit) {
      const unscoredAfter = after?.[0] === 'u' ? ([after[1], after[2]] as const) : undefined;
      rows.push(
        ...(await listUnscored(this.db, { terms, limit: limit - rows.length, after: unscoredAfter })),
      );
    }
    const last = rows.at(-1);
    let nextCursor: string | undefined;
    if (rows.length === limit && last) {
      nextCursor =
        last.score === null
          ? encodeCursor(['u', last.finishedAt ?? 0, last.id])
          : encodeCursor(['s', last.score, last.id]);
    }
    return { items: rows.map(toSummary), nextCursor };
  }

  async get(viewer: Viewer, id: string): Promise<ImageDetail> {
    const row = await findImage(this.db, id);
    if (!row) throw notFound('Image');
    const isPublic = (await findPublicImage(this.db, id)) !== undefined;
    if (!isPublic && !mayBypass(viewer, row.ownerId)) throw notFound('Image');
    return {
      id: row.id,
      params: {
        prompt: row.prompt,
        negativePrompt: row.negativePrompt,
        model: row.model,
        width: row.width,
        height: row.height,
        steps: row.steps,
        guidanceScale: row.guidanceScale,
        // Only Sampler values are stored (the generation route validates them).
        sampler: row.sampler as Sampler,
        seed: row.seed,
      },
      createdAt: toIso(row.createdAt),
      finishedAt: toIso(row.finishedAt ?? row.createdAt),
      sha256: row.sha256 as string,
      url: publicFileUrl(row.id),
      thumbUrl: publicThumbUrl(row.id),
      visibility: isPublic ? 'public' : visibilityOf(row),
      aestheticScore: row.score ?? undefined,
      rating: ratingOf(row),
    };
  }

  /** Where the PNG is, if this viewer may have it. One query for public images (the common case). */
  async file(viewer: Viewer, id: string): Promise<StoredImage> {
    const pub = await findPublicImage(this.db, id);
    if (pub?.sha256) return { sha256: pub.sha256, public: true };
    const row = await findImage(this.db, id);
    if (!row?.sha256 || !mayBypass(viewer, row.ownerId)) throw notFound('Image');
    return { sha256: row.sha256, public: false };
  }

  /** The thumbnail of an image `file` already let this viewer have. */
  async thumbnail(image: StoredImage): Promise<Buffer> {
    const data = await this.thumbnails.get(image.sha256);
    if (!data) throw notFound('Image file');
    return data;
  }
}

/** The owner and staff see images that are not public (to appeal, to moderate). */
function mayBypass(viewer: Viewer, ownerId: string): boolean {
  return viewer !== undefined && (viewer.staff || viewer.userId === ownerId);
}

function visibilityOf(row: ImageRow): ImageDetail['visibility'] {
  return row.hiddenAt !== null ? 'hidden' : 'withdrawn';
}

function ratingOf(row: ImageRow): RatingAggregate | undefined {
  if (row.ratingCount === null) return undefined;
  const count = Number(row.ratingCount);
  const pairwise = { wins: Number(row.pairWins), losses: Number(row.pairLosses), ties: Number(row.pairTies) };
  if (count === 0) return { count, pairwise };
  // Ratings are integers, so count, sum and sum of squares are exact; the spread follows from them.
  const mean = Number(row.ratingSum) / count;
  const variance = Math.max(0, Number(row.ratingSumSq) / count - mean * mean);
  return { count, mean, stddev: Math.sqrt(variance), pairwise };
}

function toSummary(row: GalleryRow): ImageSummary {
  return {
    id: row.id,
    prompt: row.prompt,
    model: row.model,
    width: row.width,
    height: row.height,
    createdAt: toIso(row.createdAt),
    aestheticScore: row.score ?? undefined,
    url: publicFileUrl(row.id),
    thumbUrl: publicThumbUrl(row.id),
  };
}
