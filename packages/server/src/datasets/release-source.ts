// The coordinator's side of a release: async iterables over the database, page by page in id order
// (keyset, never OFFSET, never everything at once), turned into the rows @dreamfold/datasets takes,
// plus the image bytes from the blob store and the exclusion counts for the dataset card. From a SQLite
// file the pages are read by a thread of their own (sqlite-reader-thread.ts).
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
import { sqlitePath, type DatabaseHandle } from '../db/connect.js';
import { imageKey, type BlobStore } from '../storage/blob-store.js';
import { storedHalfBits } from '../scoring/embedding-codec.js';
import { validEmbeddingsBetween } from '../scoring/queries.js';
import { scoringDb } from '../scoring/tables.js';
import {
  IMAGE_COLUMN,
  IMAGE_KINDS,
  PREFERENCE_COLUMN,
  PREFERENCE_KINDS,
  RATING_COLUMN,
  RATING_KINDS,
  exclusionTallyQueries,
  tallyFrom,
  type ExclusionTallies,
  publishableRatingsPage,
  publishablePreferencesPage,
  publishedImagesPage,
} from './source-queries.js';
import { SqliteReaderThread, type ColumnPage, type PackedColumns } from './sqlite-reader-thread.js';

/** Rows per query; a page is small enough for any database and large enough that paging costs little. */
export const PAGE_ROWS = 5000;
/**
 * Rows handed on at a time: converting a whole query page at once keeps twice as many objects alive
 * through each young-generation collection, which costs more than the extra steps.
 */
const SLICE_ROWS = 500;

/** A page's values by column: `columns[c][r]` (sqlite-reader-thread.ts sends pages this way). */
type Columns = unknown[][];
type PageQuery = (after: string | null, limit: number) => CompiledQuery;

/**
 * The pages of `query(after, limit)` read in this thread, each starting after the last id (column 0) of
 * the one before; rows are read as arrays (db/array-rows.ts: half the CPU of objects) and laid out as
 * columns, as the reader thread sends them.
 */
async function* pagesHere(
  read: ArrayRowsReader,
  query: PageQuery,
  pageRows: number,
): AsyncGenerator<ColumnPage> {
  let after: string | null = null;
  for (;;) {
    const rows = await read(query(after, pageRows));
    const width = rows[0]?.length ?? 0;
    const columns: Columns = [];
    for (let c = 0; c < width; c++) columns.push(rows.map((row) => row[c]));
    if (rows.length > 0) yield { columns, rows: rows.length };
    if (rows.length < pageRows) return;
    after = rows[rows.length - 1]![0] as string;
  }
}

/**
 * Yields the rows of the pages converted by `toRow`, a slice at a time (the library takes pages as they
 * are, saving an asynchronous step per row).
 */
async function* converted<R>(
  pages: AsyncIterable<ColumnPage>,
  toRow: (columns: Columns, row: number) => R,
  onPage?: (page: ColumnPage) => Promise<void>,
): AsyncGenerator<R[]> {
  for await (const page of pages) {
    // Every row of the previous page was handed on before this one's hook runs.
    await onPage?.(page);
    for (let i = 0; i < page.rows; i += SLICE_ROWS) {
      const end = Math.min(page.rows, i + SLICE_ROWS);
      const slice = new Array<R>(end - i);
      for (let j = i; j < end; j++) slice[j - i] = toRow(page.columns, j);
      yield slice;
    }
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
function imageOf(c: Columns, j: number): ReleaseImage {
  return {
    id: c[I.id]![j] as string,
    // publicImages only returns rows with a result.
    sha256: c[I.sha256]![j] as string,
    prompt: c[I.prompt]![j] as string,
    negativePrompt: c[I.negativePrompt]![j] as string,
    model: c[I.model]![j] as string,
    sampler: c[I.sampler]![j] as string,
    steps: Number(c[I.steps]![j]),
    guidanceScale: Number(c[I.guidanceScale]![j]),
    seed: Number(c[I.seed]![j]),
    width: Number(c[I.width]![j]),
    height: Number(c[I.height]![j]),
    createdAt: Number(c[I.createdAt]![j]),
    creatorId: c[I.creatorId]![j] as string,
    workerId: c[I.workerId]![j] as string | null,
    aestheticScore: num(c[I.aestheticScore]![j]),
    punsafe: num(c[I.punsafe]![j]),
    flags: {
      answers: num(c[I.flagAnswers]![j]) ?? 0,
      nsfw: num(c[I.flagNsfw]![j]) ?? 0,
      broken: num(c[I.flagBroken]![j]) ?? 0,
      offensive: num(c[I.flagOffensive]![j]) ?? 0,
      does_not_match_prompt: num(c[I.flagMismatch]![j]) ?? 0,
    },
  };
}

const R = RATING_COLUMN;

function ratingOf(c: Columns, j: number): ReleaseRating {
  return {
    imageId: c[R.imageId]![j] as string,
    raterId: c[R.raterId]![j] as string,
    score: Number(c[R.rating]![j]),
    kind: 'aesthetic',
  };
}

const P = PREFERENCE_COLUMN;

function preferenceOf(c: Columns, j: number): ReleasePreference {
  return {
    imageA: c[P.imageA]![j] as string,
    imageB: c[P.imageB]![j] as string,
    prompt: c[P.prompt]![j] as string,
    choice: c[P.choice]![j] as PreferenceChoice,
    raterId: c[P.raterId]![j] as string,
  };
}

/** The three streams of a release, and what to call once the release is done with them. */
export interface ReleaseStreams {
  images: AsyncIterable<ReleaseImage[]>;
  ratings: AsyncIterable<ReleaseRating[]>;
  preferences: AsyncIterable<ReleasePreference[]>;
  /**
   * The exclusion counts, counted while the rows are read: in the reader thread's snapshot (so they
   * agree exactly with what the streams read), or here; known once the last image has been read.
   */
  exclusions: Promise<ExclusionCount[]>;
  /**
   * The progress total, known before the first image: the finished images neither hidden nor withdrawn
   * (the public images, and any still waiting for the safety check).
   */
  expectedImages: Promise<number>;
  /** Where the rows are read: 'thread' (a SQLite file, sqlite-reader-thread.ts) or 'here'. */
  readIn: 'thread' | 'here';
  close(): Promise<void>;
}

/** A stand-in for `after` while a page statement is compiled, to find its position among the parameters. */
const AFTER = '\u0000after';

/**
 * Opens the release's streams. From a SQLite file they are read by a thread of their own in one
 * snapshot (sqlite-reader-thread.ts), beside the staging on this thread; otherwise (PostgreSQL, an
 * in-memory SQLite database) here, page by page.
 */
export function openReleaseStreams(
  database: Pick<DatabaseHandle, 'db' | 'arrayRows' | 'dialect' | 'url'>,
  pageRows = PAGE_ROWS,
  embeddings?: PageEmbeddings,
): ReleaseStreams {
  const { db } = database;
  // Images, ratings, preferences: each page statement with its columns' kinds (how the thread packs them).
  const sources: { query: PageQuery; kinds: PackedColumns }[] = [
    { query: (after, limit) => publishedImagesPage(db, after, limit), kinds: IMAGE_KINDS },
    { query: (after, limit) => publishableRatingsPage(db, after, limit), kinds: RATING_KINDS },
    { query: (after, limit) => publishablePreferencesPage(db, after, limit), kinds: PREFERENCE_KINDS },
  ];
  const path = database.dialect === 'sqlite' ? sqlitePath(database.url) : undefined;
  const tallies = exclusionTallyQueries(db);
  let pages: (index: number) => AsyncIterable<ColumnPage>;
  let counted: Promise<unknown[][][]>;
  let close = async () => {};
  let readIn: ReleaseStreams['readIn'] = 'here';
  if (path !== undefined && path !== ':memory:') {
    const thread = SqliteReaderThread.start(
      path,
      sources.map(({ query, kinds }) => {
        const next = query(AFTER, pageRows);
        return {
          first: query(null, pageRows),
          next,
          afterParameter: next.parameters.indexOf(AFTER),
          pageRows,
          packed: kinds,
        };
      }),
    );
    // Asked before any page, so the counts come from the snapshot the pages are read in.
    counted = thread.query(tallies);
    pages = (index) => thread.pages(index, pageRows);
    close = () => thread.close();
    readIn = 'thread';
  } else {
    counted = Promise.all(tallies.map((q) => database.arrayRows(q)));
    pages = (index) => pagesHere(database.arrayRows, sources[index]!.query, pageRows);
  }
  // The public images are the image rows read (from the snapshot the counts come from, on SQLite).
  let imagesRead!: (n: number) => void;
  const publicImages = new Promise<number>((resolve) => (imagesRead = resolve));
  async function* countedImages(): AsyncGenerator<ColumnPage> {
    let n = 0;
    for await (const page of pages(0)) {
      n += page.rows;
      yield page;
    }
    imagesRead(n);
  }
  const onImagePage =
    embeddings &&
    ((page: ColumnPage) => {
      const ids = page.columns[I.id]!;
      return embeddings.load(ids[0] as string, ids[page.rows - 1] as string);
    });
  return {
    images: converted(countedImages(), imageOf, onImagePage),
    ratings: converted(pages(1), ratingOf),
    preferences: converted(pages(2), preferenceOf),
    exclusions: Promise.all([counted, publicImages]).then(([answers, n]) =>
      exclusionsOf(tallyFrom(answers, n)),
    ),
    expectedImages: counted.then((answers) => {
      const t = tallyFrom(answers, 0);
      return (
        t.finishedImages -
        t.hiddenByClassifier -
        t.hiddenByModerators -
        t.ownerWithdrew -
        t.ownerDeletedWithWithdrawal
      );
    }),
    readIn,
    close,
  };
}

/** The PNG of an image from the blob store (undefined when the blob is gone: the release then fails). */
export function imageReader(blobs: BlobStore): (sha256: string) => Promise<Buffer | undefined> {
  return (sha256) => blobs.get(imageKey(sha256));
}

/** What a release leaves out and why, for the card and the manifest, from the tallies (source-queries.ts). */
function exclusionsOf(t: ExclusionTallies): ExclusionCount[] {
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
  return exclusions;
}
