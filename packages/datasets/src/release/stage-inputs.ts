// Phase 1 of a release: read the caller's three streams once, check every row, replace account ids by
// pseudonyms, give each image its shard and key, append its embedding row, and stage the rows as CSV
// for DuckDB. Nothing here holds more than one block of rows.

import { DatasetError, throwIfAborted } from '../errors.js';
import { EmbeddingWriter } from '../embeddings.js';
import { indexDigits } from '../keys.js';
import type { AggregateCursor, ImageAggregates } from './aggregates.js';
import type { ChangeTracker } from './changes.js';
import type { Pseudonymizer } from '../pseudonym.js';
import { StagingFile, textBytes } from '../staging.js';
import {
  FLAG_NAMES,
  type ReleaseImage,
  type ReleaseOptions,
  type ReleasePreference,
  type ReleaseProgress,
  type ReleaseRating,
} from '../types.js';
import { checkImage, checkPreference, checkRating } from '../validate.js';

const DAY_MS = 86_400_000;
const PROGRESS_EVERY = 4096;
/** Room for an image row's fields other than its five free texts (sha256, pseudonyms, 22 numbers). */
const ROW_BYTES = 1024;

const NO_AGGREGATES: ImageAggregates = {
  ratingMean: null,
  ratingCount: 0,
  ratingStd: null,
  wins: 0,
  losses: 0,
  ties: 0,
};

/** Column layout of the staged images file, in release order. */
export const STAGED_IMAGE_COLUMNS: readonly [string, string][] = [
  ['id', 'VARCHAR'],
  ['sha256', 'VARCHAR'],
  ['shard', 'INTEGER'],
  ['key', 'VARCHAR'],
  ['prompt', 'VARCHAR'],
  ['negative_prompt', 'VARCHAR'],
  ['model', 'VARCHAR'],
  ['sampler', 'VARCHAR'],
  ['steps', 'INTEGER'],
  ['guidance_scale', 'DOUBLE'],
  ['seed', 'BIGINT'],
  ['width', 'INTEGER'],
  ['height', 'INTEGER'],
  ['created_day', 'INTEGER'],
  ['creator', 'VARCHAR'],
  ['worker', 'VARCHAR'],
  ['rating_mean', 'DOUBLE'],
  ['rating_count', 'INTEGER'],
  ['rating_std', 'DOUBLE'],
  ['pairwise_wins', 'INTEGER'],
  ['pairwise_losses', 'INTEGER'],
  ['pairwise_ties', 'INTEGER'],
  ['aesthetic_score', 'FLOAT'],
  ['punsafe', 'FLOAT'],
  ['flag_answers', 'INTEGER'],
  ...FLAG_NAMES.map((name): [string, string] => [`flag_${name}`, 'INTEGER']),
  ['has_embedding', 'BOOLEAN'],
];

export const STAGED_RATING_COLUMNS: readonly [string, string][] = [
  ['rater', 'VARCHAR'],
  ['image_id', 'VARCHAR'],
  ['score', 'DOUBLE'],
  ['kind', 'VARCHAR'],
];

export const STAGED_PREFERENCE_COLUMNS: readonly [string, string][] = [
  ['image_a', 'VARCHAR'],
  ['image_b', 'VARCHAR'],
  ['prompt', 'VARCHAR'],
  ['choice', 'VARCHAR'],
  ['rater', 'VARCHAR'],
];

export interface StagedImages {
  file: string;
  count: number;
  embeddings: number;
  embeddingFile: string;
}

type Progress = (p: ReleaseProgress) => void;

/** A stream item as rows: a page as it is, a single row as a page of one. */
function pageOf<T>(item: T | readonly T[]): readonly T[] {
  return Array.isArray(item) ? (item as readonly T[]) : [item as T];
}

export async function stageImages(
  options: Pick<ReleaseOptions, 'images' | 'readEmbedding' | 'signal' | 'expectedImages'>,
  settings: { staging: StagingFile; embeddingFile: string; shardSize: number; embeddingDim: number },
  pseudonyms: Pseudonymizer,
  progress: Progress,
  aggregates: AggregateCursor,
  changes: ChangeTracker,
): Promise<StagedImages> {
  const { staging } = settings;
  const embeddings = await EmbeddingWriter.create(settings.embeddingFile, settings.embeddingDim).catch(
    async (error: unknown) => {
      await staging.abort();
      throw error;
    },
  );
  const digits = indexDigits(settings.shardSize);
  const keyScale = 10 ** digits;
  const keyWidth = 5 + digits;
  // The progress total, once the caller knows it (it may still be counting when the images start).
  let total = typeof options.expectedImages === 'number' ? options.expectedImages : undefined;
  if (options.expectedImages !== undefined && typeof options.expectedImages !== 'number') {
    Promise.resolve(options.expectedImages).then(
      (n) => (total = n),
      () => undefined,
    );
  }
  let row = 0;
  let previousId: string | undefined;
  try {
    for await (const item of options.images as AsyncIterable<ReleaseImage | readonly ReleaseImage[]>) {
      for (const image of pageOf(item)) {
        checkImage(image);
        if (previousId !== undefined && !(image.id > previousId)) {
          throw new DatasetError(
            'unsorted_input',
            `images must come sorted by id, each greater than the last: ${JSON.stringify(image.id)} came after ${JSON.stringify(previousId)}`,
          );
        }
        previousId = image.id;
        const change = changes.image(image.id);
        if (change instanceof Promise) await change;
        const shard = Math.floor(row / settings.shardSize);
        const embedding = options.readEmbedding ? await options.readEmbedding(image.id) : null;
        const has = embeddings.add(image.id, embedding);
        if (embeddings.full) await embeddings.flush();
        let found = aggregates.find(image.id);
        if (found instanceof Promise) found = await found;
        const worker = image.workerId === null ? null : pseudonyms.pseudonym('worker', image.workerId);
        const creator = pseudonyms.pseudonym('user', image.creatorId);
        staging.begin(
          6 *
            (image.id.length +
              image.prompt.length +
              image.negativePrompt.length +
              image.model.length +
              image.sampler.length) +
            ROW_BYTES,
        );
        staging.text(image.id);
        staging.ascii(image.sha256);
        staging.int(shard);
        staging.int(shard * keyScale + (row - shard * settings.shardSize), keyWidth);
        staging.text(image.prompt);
        staging.text(image.negativePrompt);
        staging.text(image.model);
        staging.text(image.sampler);
        staging.int(image.steps);
        staging.number(image.guidanceScale);
        staging.int(image.seed);
        staging.int(image.width);
        staging.int(image.height);
        staging.int(Math.floor(image.createdAt / DAY_MS));
        staging.ascii(creator);
        if (worker === null) staging.null();
        else staging.ascii(worker);
        // Aggregates of the image (from every rating and preference that names it), or none.
        const a = found ?? NO_AGGREGATES;
        staging.numberOrNull(a.ratingMean);
        staging.int(a.ratingCount);
        staging.numberOrNull(a.ratingStd);
        staging.int(a.wins);
        staging.int(a.losses);
        staging.int(a.ties);
        // Exact float32 values, so DuckDB's FLOAT parse cannot round differently.
        staging.numberOrNull(image.aestheticScore === null ? null : Math.fround(image.aestheticScore));
        staging.numberOrNull(
          image.punsafe === undefined || image.punsafe === null ? null : Math.fround(image.punsafe),
        );
        const f = image.flags;
        staging.int(f.answers);
        staging.int(f.nsfw);
        staging.int(f.broken);
        staging.int(f.offensive);
        staging.int(f.does_not_match_prompt);
        staging.bool(has);
        if (staging.end()) await staging.flush();
        row++;
        if (row % PROGRESS_EVERY === 0) {
          throwIfAborted(options.signal);
          progress({ phase: 'images', done: row, total });
        }
      }
    }
    await staging.close();
    await embeddings.close();
    await aggregates.finish();
    await changes.finish();
  } catch (error) {
    await staging.abort();
    await embeddings.abort();
    await aggregates.abort();
    await changes.abort();
    throw error;
  }
  progress({ phase: 'images', done: row, total: total ?? row });
  return {
    file: staging.path,
    count: row,
    embeddings: embeddings.present,
    embeddingFile: settings.embeddingFile,
  };
}

export async function stageRatings(
  ratings: ReleaseOptions['ratings'],
  file: string,
  pseudonyms: Pseudonymizer,
  signal: AbortSignal | undefined,
  progress: Progress,
): Promise<number> {
  const staging = await StagingFile.create(file);
  try {
    for await (const item of (ratings ?? []) as AsyncIterable<ReleaseRating | readonly ReleaseRating[]>) {
      for (const rating of pageOf(item)) {
        checkRating(rating, staging.rows);
        staging.begin(textBytes(rating.imageId) + rating.kind.length + 64);
        staging.ascii(pseudonyms.pseudonym('user', rating.raterId));
        staging.text(rating.imageId);
        staging.number(rating.score);
        staging.ascii(rating.kind);
        if (staging.end()) await staging.flush();
        if (staging.rows % PROGRESS_EVERY === 0) {
          throwIfAborted(signal);
          progress({ phase: 'annotations', done: staging.rows, total: undefined });
        }
      }
    }
    await staging.close();
  } catch (error) {
    await staging.abort();
    throw error;
  }
  return staging.rows;
}

export async function stagePreferences(
  preferences: ReleaseOptions['preferences'],
  file: string,
  pseudonyms: Pseudonymizer,
  signal: AbortSignal | undefined,
  progress: Progress,
): Promise<number> {
  const staging = await StagingFile.create(file);
  try {
    for await (const item of (preferences ?? []) as AsyncIterable<
      ReleasePreference | readonly ReleasePreference[]
    >) {
      for (const p of pageOf(item)) {
        checkPreference(p, staging.rows);
        staging.begin(textBytes(p.imageA) + textBytes(p.imageB) + textBytes(p.prompt) + 32);
        staging.text(p.imageA);
        staging.text(p.imageB);
        staging.text(p.prompt);
        staging.ascii(p.choice);
        staging.ascii(pseudonyms.pseudonym('user', p.raterId));
        if (staging.end()) await staging.flush();
        if (staging.rows % PROGRESS_EVERY === 0) {
          throwIfAborted(signal);
          progress({ phase: 'annotations', done: staging.rows, total: undefined });
        }
      }
    }
    await staging.close();
  } catch (error) {
    await staging.abort();
    throw error;
  }
  return staging.rows;
}
