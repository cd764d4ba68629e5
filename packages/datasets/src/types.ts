// What a caller hands to writeRelease: three streams of rows (each an async iterable, so a database
// cursor or a paged query can feed a release of any size), two readers for the bytes, and options.
// Rows carry raw account ids: the library turns them into per-release pseudonyms and never writes them.

/** One published image. Images must arrive sorted by `id` (strictly increasing, code-unit order). */
export interface ReleaseImage {
  /** The image's public id (one job = one image). */
  id: string;
  /** Lower-case hex SHA-256 of the PNG bytes; `readImage` is asked for these bytes. */
  sha256: string;
  prompt: string;
  negativePrompt: string;
  model: string;
  sampler: string;
  steps: number;
  guidanceScale: number;
  seed: number;
  width: number;
  height: number;
  /** Milliseconds since the epoch; only the UTC day is released. */
  createdAt: number;
  /** Raw account id of the person who asked for the image; released only as a pseudonym. */
  creatorId: string;
  /** Raw id of the worker that generated it; released only as a pseudonym. */
  workerId: string | null;
  /** The aesthetic predictor's score, when the image was scored. */
  aestheticScore: number | null;
  /** P(unsafe) from the platform's NSFW classifier (LAION's `punsafe`), when classified. */
  punsafe?: number | null;
  /** How many flag answers the image received, and how many of them set each flag. */
  flags: FlagCounts;
}

/** The flags raters can set on an image (the platform's flag vocabulary). */
export const FLAG_NAMES = ['nsfw', 'broken', 'offensive', 'does_not_match_prompt'] as const;
export type FlagName = (typeof FLAG_NAMES)[number];
export type FlagCounts = { answers: number } & Record<FlagName, number>;

/** One rating of one image. Ratings of images that are not in the release are left out. */
export interface ReleaseRating {
  imageId: string;
  /** Raw account id of the rater; released only as a pseudonym. */
  raterId: string;
  score: number;
  /** What was rated, e.g. "aesthetic"; [a-z0-9_.:-]{1,64}. */
  kind: string;
}

export type PreferenceChoice = 'a' | 'b' | 'tie';

/** One pairwise preference. Pairs where either image is not in the release are left out. */
export interface ReleasePreference {
  imageA: string;
  imageB: string;
  /** The prompt both images answer (the caption, in Pick-a-Pic's terms). */
  prompt: string;
  choice: PreferenceChoice;
  raterId: string;
}

/** Why images (or ratings, preferences) were left out of a release, as counted by the caller; the card lists each. */
export interface ExclusionCount {
  /** A short stable code, e.g. "taken_down". */
  reason: string;
  count: number;
  /** One sentence for the dataset card. */
  description: string;
}

/** Rows, or pages of rows, from a cursor, a generator or an array. */
export type RowSource<T> = AsyncIterable<T | readonly T[]> | Iterable<T | readonly T[]>;

export type ReleasePhase = 'annotations' | 'images' | 'tables' | 'shards' | 'manifest';

export interface ReleaseProgress {
  phase: ReleasePhase;
  /** Rows (or, for 'shards', samples) done in this phase. */
  done: number;
  /** Known for 'shards' (the image count) and for 'images' when the caller passed expectedImages. */
  total: number | undefined;
}

export interface ReleaseOptions {
  /** Parent folder; the release is written to `<outDir>/<name>`. */
  outDir: string;
  /** Release name: [A-Za-z0-9][A-Za-z0-9._-]{0,99} (a folder name and a URL segment). */
  name: string;
  /** The release time: tar mtimes, the manifest and the card. Same inputs + same time → same bytes. */
  createdAt: Date;
  /**
   * Secret for the pseudonyms (≥ 16 bytes), e.g. HMAC(server secret, release name): the same release
   * re-run gives the same pseudonyms, another release gives unlinkable ones.
   */
  salt: Uint8Array | string;
  /**
   * The streams may yield rows one by one or in pages (arrays of rows, as a paged query reads them):
   * pages save an asynchronous step per row.
   */
  images: RowSource<ReleaseImage>;
  ratings?: RowSource<ReleaseRating>;
  preferences?: RowSource<ReleasePreference>;
  /** The PNG bytes of an image, by SHA-256. Rejecting or answering nothing fails the release. */
  readImage(sha256: string): Promise<Uint8Array | null | undefined>;
  /**
   * The image's CLIP embedding: embeddingDim float32 values, or float16 bits as a Uint16Array (copied
   * without conversion); null where there is none.
   */
  readEmbedding?(id: string): Promise<Float32Array | Uint16Array | null | undefined>;
  /** The previous release: its folder or its manifest.json. Without one, every image is "added". */
  previous?: string;
  /** Dataset license (SPDX id); default CC0-1.0. */
  license?: string;
  /** Samples per WebDataset shard; default 1000. */
  shardSize?: number;
  /** Embedding dimension; default 768 (CLIP ViT-L/14). */
  embeddingDim?: number;
  /** Name of the embedding model, for the card; default openai/clip-vit-large-patch14. */
  embeddingModel?: string;
  /** Ratings of this kind make the rating_* columns; default: every kind. */
  aggregateRatingKind?: string;
  /**
   * Counted exclusions, for the card and the manifest. A promise lets the caller count them while the
   * release reads its rows (the coordinator counts them in the same database snapshot as the rows); it
   * is awaited when the card is written, and its failure fails the release.
   */
  exclusions?: readonly ExclusionCount[] | PromiseLike<readonly ExclusionCount[]>;
  /** Title of the dataset card; default "Dreamfold <name>". */
  title?: string;
  /** How the data was produced (Markdown paragraph for the card); a generic one by default. */
  production?: string;
  /** Check each image's bytes against its sha256 (default true). */
  verifyImages?: boolean;
  /** Images read ahead while shards are written (default 8). */
  readConcurrency?: number;
  /** Used for the progress bar of the 'images' phase. */
  expectedImages?: number | PromiseLike<number>;
  /** DuckDB's memory limit, e.g. "256MB" (default); it spills to disk beyond it. */
  duckdbMemoryLimit?: string;
  /**
   * DuckDB's threads (default 1). The output is the same with any number; more threads can shorten the
   * 'tables' phase on idle cores, at the cost of CPU time and memory (each buffers its own reads).
   */
  duckdbThreads?: number;
  onProgress?(progress: ReleaseProgress): void;
  signal?: AbortSignal;
}
