// The coordinator's side of a release: async iterables over the database, page by page in id order
// (keyset, never OFFSET, never everything at once), turned into the rows @dreamfold/datasets takes,
// plus the image bytes from the blob store and the exclusion counts for the dataset card.
import type { Kysely } from 'kysely';
import type {
  ExclusionCount,
  PreferenceChoice,
  ReleaseImage,
  ReleasePreference,
  ReleaseRating,
} from '@dreamfold/datasets';
import type { Database } from '../db/schema.js';
import { imageKey, type BlobStore } from '../storage/blob-store.js';
import { storedHalfBits } from '../scoring/embedding-codec.js';
import { validEmbeddingsBetween } from '../scoring/queries.js';
import { scoringDb } from '../scoring/tables.js';
import {
  exclusionTallies,
  publishableRatingsPage,
  publishablePreferencesPage,
  publishedImagesPage,
} from './source-queries.js';

/** Rows per query; a page is small enough for any database and large enough that paging costs little. */
export const PAGE_ROWS = 5000;
/**
 * Rows handed on at a time: converting a whole query page at once keeps twice as many objects alive
 * through each young-generation collection, which costs more than the extra steps.
 */
const SLICE_ROWS = 500;

/**
 * Yields `fetchPage`'s rows a page at a time (the library takes pages as they are, saving an asynchronous
 * step per row), each page starting after the last id of the one before.
 */
async function* paged<T extends { id: string }, R>(
  fetchPage: (after: string | null, limit: number) => Promise<T[]>,
  pageRows: number,
  toRow: (row: T) => R,
): AsyncGenerator<R[]> {
  let after: string | null = null;
  for (;;) {
    const rows = await fetchPage(after, pageRows);
    for (let i = 0; i < rows.length; i += SLICE_ROWS) yield rows.slice(i, i + SLICE_ROWS).map(toRow);
    if (rows.length < pageRows) return;
    after = rows[rows.length - 1]!.id;
  }
}

const num = (v: number | string | null | undefined): number | null =>
  v === null || v === undefined ? null : Number(v);

/**
 * The CLIP embeddings of the page of images being released, read with one range query per page (the
 * library asks for them one image at a time) and kept only until the next page: float16 bits, copied into
 * img_emb as they are stored.
 */
export class PageEmbeddings {
  private page = new Map<string, Uint16Array>();

  constructor(private readonly db: Kysely<Database>) {}

  async load(ids: readonly string[]): Promise<void> {
    this.page = new Map();
    if (ids.length === 0) return;
    const rows = await validEmbeddingsBetween(scoringDb(this.db), ids[0]!, ids[ids.length - 1]!);
    for (const row of rows) this.page.set(row.imageId, storedHalfBits(row.data));
  }

  read = async (id: string): Promise<Uint16Array | null> => this.page.get(id) ?? null;
}

export function releaseImages(
  db: Kysely<Database>,
  pageRows = PAGE_ROWS,
  embeddings?: PageEmbeddings,
): AsyncIterable<ReleaseImage[]> {
  return paged(
    async (after, limit) => {
      const rows = await publishedImagesPage(db, after, limit);
      // Every row of the previous page was handed on before this one is read (see paged).
      await embeddings?.load(rows.map((r) => r.id));
      return rows;
    },
    pageRows,
    (r): ReleaseImage => ({
      id: r.id,
      // publicImages only returns rows with a result.
      sha256: r.sha256 as string,
      prompt: r.prompt,
      negativePrompt: r.negativePrompt,
      model: r.model,
      sampler: r.sampler,
      steps: Number(r.steps),
      guidanceScale: Number(r.guidanceScale),
      seed: Number(r.seed),
      width: Number(r.width),
      height: Number(r.height),
      createdAt: Number(r.createdAt),
      creatorId: r.creatorId,
      workerId: r.workerId,
      aestheticScore: num(r.aestheticScore),
      punsafe: num(r.punsafe),
      flags: {
        answers: num(r.flagAnswers) ?? 0,
        nsfw: num(r.flagNsfw) ?? 0,
        broken: num(r.flagBroken) ?? 0,
        offensive: num(r.flagOffensive) ?? 0,
        does_not_match_prompt: num(r.flagMismatch) ?? 0,
      },
    }),
  );
}

export function releaseRatings(db: Kysely<Database>, pageRows = PAGE_ROWS): AsyncIterable<ReleaseRating[]> {
  return paged(
    (after, limit) => publishableRatingsPage(db, after, limit),
    pageRows,
    (r): ReleaseRating => ({
      imageId: r.imageId,
      raterId: r.raterId,
      score: Number(r.rating),
      kind: 'aesthetic',
    }),
  );
}

export function releasePreferences(
  db: Kysely<Database>,
  pageRows = PAGE_ROWS,
): AsyncIterable<ReleasePreference[]> {
  return paged(
    (after, limit) => publishablePreferencesPage(db, after, limit),
    pageRows,
    (r): ReleasePreference => ({
      imageA: r.imageA,
      imageB: r.imageB as string,
      prompt: r.prompt,
      choice: r.choice as PreferenceChoice,
      raterId: r.raterId,
    }),
  );
}

/** The PNG of an image from the blob store (undefined when the blob is gone: the release then fails). */
export function imageReader(blobs: BlobStore): (sha256: string) => Promise<Buffer | undefined> {
  return (sha256) => blobs.get(imageKey(sha256));
}

/** What was left out and why, counted now, for the card and the manifest; and how many images are public. */
export async function releaseExclusions(
  db: Kysely<Database>,
): Promise<{ exclusions: ExclusionCount[]; publicImages: number }> {
  const t = await exclusionTallies(db);
  const accounted =
    t.hiddenByClassifier + t.hiddenByModerators + t.ownerWithdrew + t.ownerDeletedWithWithdrawal;
  const exclusions: ExclusionCount[] = [
    {
      reason: 'hidden_by_moderators',
      count: t.hiddenByModerators,
      description:
        'Images hidden by moderators (take-down requests, upheld reports); unhidden images return.',
    },
    {
      reason: 'hidden_by_safety_classifier',
      count: t.hiddenByClassifier,
      description: 'Images the NSFW classifier hid (above the hide threshold, no appeal upheld).',
    },
    {
      reason: 'owner_withdrew',
      count: t.ownerWithdrew,
      description: 'Images of people who withdrew their images from the gallery and from future releases.',
    },
    {
      reason: 'owner_deleted_account',
      count: t.ownerDeletedWithWithdrawal,
      description: 'Images of people who deleted their account and chose to withdraw their images with it.',
    },
    {
      reason: 'not_yet_public',
      count: Math.max(0, t.finishedImages - t.publicImages - accounted),
      description: 'Finished images not public yet (e.g. still waiting for the safety check).',
    },
    {
      reason: 'annotations_of_excluded_raters',
      count: t.annotationsOfExcludedRaters,
      description: 'Ratings and preferences (not images) by raters whom quality control excluded.',
    },
    {
      reason: 'annotations_of_withdrawn_raters',
      count: t.annotationsOfWithdrawnRaters,
      description: 'Ratings and preferences (not images) by people who withdrew from releases.',
    },
  ];
  return { exclusions, publicImages: t.publicImages };
}
