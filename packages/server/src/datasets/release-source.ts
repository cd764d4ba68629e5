// The coordinator's side of a release: async iterables over the database, page by page in id order
// (keyset, never OFFSET, never everything at once), turned into the rows @dreamfold/datasets takes,
// plus the image bytes from the blob store and the exclusion counts for the dataset card.
import type { CompiledQuery, Kysely } from 'kysely';
import type {
  ExclusionCount,
  PreferenceChoice,
  ReleaseImage,
  ReleasePreference,
  ReleaseRating,
} from '@dreamfold/datasets';
import type { Database } from '../db/schema.js';
import type { ArrayRowsReader } from '../db/array-rows.js';
import type { DatabaseHandle } from '../db/connect.js';
import { imageKey, type BlobStore } from '../storage/blob-store.js';
import { storedHalfBits } from '../scoring/embedding-codec.js';
import { validEmbeddingsBetween } from '../scoring/queries.js';
import { scoringDb } from '../scoring/tables.js';
import {
  IMAGE_COLUMN,
  PREFERENCE_COLUMN,
  RATING_COLUMN,
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

type Row = unknown[];

/**
 * Yields the rows of `query(after, limit)` converted by `toRow`, a slice at a time (the library takes
 * pages as they are, saving an asynchronous step per row), each query page starting after the last id
 * (column 0) of the one before. Rows are read as arrays (db/array-rows.ts): half the CPU of objects.
 */
async function* paged<R>(
  read: ArrayRowsReader,
  query: (after: string | null, limit: number) => CompiledQuery,
  pageRows: number,
  toRow: (row: Row) => R,
  onPage?: (rows: Row[]) => Promise<void>,
): AsyncGenerator<R[]> {
  let after: string | null = null;
  for (;;) {
    const rows = await read(query(after, pageRows));
    // Every row of the previous page was handed on before this one is read.
    await onPage?.(rows);
    for (let i = 0; i < rows.length; i += SLICE_ROWS) {
      const end = Math.min(rows.length, i + SLICE_ROWS);
      const slice = new Array<R>(end - i);
      for (let j = i; j < end; j++) slice[j - i] = toRow(rows[j]!);
      yield slice;
    }
    if (rows.length < pageRows) return;
    after = rows[rows.length - 1]![0] as string;
  }
}

/** A nullable number column (PostgreSQL's numeric types arrive as numbers too, see db/connect.ts). */
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * The CLIP embeddings of the page of images being released, read with one range query per page (the
 * library asks for them one image at a time) and kept only until the next page: float16 bits, copied into
 * img_emb as they are stored.
 */
export class PageEmbeddings {
  private page = new Map<string, Uint16Array>();

  constructor(private readonly db: Kysely<Database>) {}

  /** Loads the embeddings of the images with ids from `first` to `last` (a page); none for an empty page. */
  async load(first: string | undefined, last: string | undefined): Promise<void> {
    this.page = new Map();
    if (first === undefined || last === undefined) return;
    const rows = await validEmbeddingsBetween(scoringDb(this.db), first, last);
    for (const row of rows) this.page.set(row.imageId, storedHalfBits(row.data));
  }

  read = async (id: string): Promise<Uint16Array | null> => this.page.get(id) ?? null;
}

const I = IMAGE_COLUMN;

/** A published image row as the library takes it. */
function imageOf(r: Row): ReleaseImage {
  return {
    id: r[I.id] as string,
    // publicImages only returns rows with a result.
    sha256: r[I.sha256] as string,
    prompt: r[I.prompt] as string,
    negativePrompt: r[I.negativePrompt] as string,
    model: r[I.model] as string,
    sampler: r[I.sampler] as string,
    steps: Number(r[I.steps]),
    guidanceScale: Number(r[I.guidanceScale]),
    seed: Number(r[I.seed]),
    width: Number(r[I.width]),
    height: Number(r[I.height]),
    createdAt: Number(r[I.createdAt]),
    creatorId: r[I.creatorId] as string,
    workerId: r[I.workerId] as string | null,
    aestheticScore: num(r[I.aestheticScore]),
    punsafe: num(r[I.punsafe]),
    flags: {
      answers: num(r[I.flagAnswers]) ?? 0,
      nsfw: num(r[I.flagNsfw]) ?? 0,
      broken: num(r[I.flagBroken]) ?? 0,
      offensive: num(r[I.flagOffensive]) ?? 0,
      does_not_match_prompt: num(r[I.flagMismatch]) ?? 0,
    },
  };
}

export function releaseImages(
  database: Pick<DatabaseHandle, 'db' | 'arrayRows'>,
  pageRows = PAGE_ROWS,
  embeddings?: PageEmbeddings,
): AsyncIterable<ReleaseImage[]> {
  return paged(
    database.arrayRows,
    (after, limit) => publishedImagesPage(database.db, after, limit),
    pageRows,
    imageOf,
    embeddings && ((rows) => embeddings.load(rows[0]?.[I.id] as string, rows.at(-1)?.[I.id] as string)),
  );
}

const R = RATING_COLUMN;

export function releaseRatings(
  database: Pick<DatabaseHandle, 'db' | 'arrayRows'>,
  pageRows = PAGE_ROWS,
): AsyncIterable<ReleaseRating[]> {
  return paged(
    database.arrayRows,
    (after, limit) => publishableRatingsPage(database.db, after, limit),
    pageRows,
    (r): ReleaseRating => ({
      imageId: r[R.imageId] as string,
      raterId: r[R.raterId] as string,
      score: Number(r[R.rating]),
      kind: 'aesthetic',
    }),
  );
}

const P = PREFERENCE_COLUMN;

export function releasePreferences(
  database: Pick<DatabaseHandle, 'db' | 'arrayRows'>,
  pageRows = PAGE_ROWS,
): AsyncIterable<ReleasePreference[]> {
  return paged(
    database.arrayRows,
    (after, limit) => publishablePreferencesPage(database.db, after, limit),
    pageRows,
    (r): ReleasePreference => ({
      imageA: r[P.imageA] as string,
      imageB: r[P.imageB] as string,
      prompt: r[P.prompt] as string,
      choice: r[P.choice] as PreferenceChoice,
      raterId: r[P.raterId] as string,
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
      reason: 'annotations_of_replaced_images',
      count: t.annotationsOfReplacedImages,
      description:
        'Ratings and preferences given to a picture that verification withdrew; its job was run again and the new picture is rated afresh.',
    },
    {
      reason: 'annotations_of_withdrawn_raters',
      count: t.annotationsOfWithdrawnRaters,
      description: 'Ratings and preferences (not images) by people who withdrew from releases.',
    },
  ];
  return { exclusions, publicImages: t.publicImages };
}
