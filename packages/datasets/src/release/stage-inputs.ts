// Phase 1 of a release: read the caller's three streams once, check every row, replace account ids by
// pseudonyms, give each image its shard and key, append its embedding row, and stage the rows as CSV
// for DuckDB. Nothing here holds more than one block of rows.

import { DatasetError, throwIfAborted } from '../errors.js';
import { EmbeddingWriter } from '../embeddings.js';
import { indexDigits, sampleKey } from '../keys.js';
import type { AggregateCursor } from './aggregates.js';
import type { Pseudonymizer } from '../pseudonym.js';
import { StagingFile, csvText } from '../staging.js';
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

/** Column layout of the staged images file (row = position in the release). */
export const STAGED_IMAGE_COLUMNS: readonly [string, string][] = [
  ['row', 'BIGINT'],
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
): Promise<StagedImages> {
  const { staging } = settings;
  const embeddings = await EmbeddingWriter.create(settings.embeddingFile, settings.embeddingDim).catch(
    async (error: unknown) => {
      await staging.abort();
      throw error;
    },
  );
  const digits = indexDigits(settings.shardSize);
  const total = options.expectedImages;
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
        const shard = Math.floor(row / settings.shardSize);
        const key = sampleKey(shard, row % settings.shardSize, digits);
        const embedding = options.readEmbedding ? await options.readEmbedding(image.id) : null;
        const has = embeddings.add(image.id, embedding);
        if (embeddings.full) await embeddings.flush();
        // Exact float32 values, so DuckDB's FLOAT parse cannot round differently.
        const score = image.aestheticScore === null ? '' : String(Math.fround(image.aestheticScore));
        const punsafe =
          image.punsafe === undefined || image.punsafe === null ? '' : String(Math.fround(image.punsafe));
        const f = image.flags;
        let found = aggregates.find(image.id);
        if (found instanceof Promise) found = await found;
        // Aggregates of the image (from every rating and preference that names it), or none.
        const agg =
          found === undefined
            ? ',0,,0,0,0'
            : `${found.ratingMean ?? ''},${found.ratingCount},${found.ratingStd ?? ''},${found.wins},${found.losses},${found.ties}`;
        const worker = image.workerId === null ? '' : pseudonyms.pseudonym('worker', image.workerId);
        const creator = pseudonyms.pseudonym('user', image.creatorId);
        const day = Math.floor(image.createdAt / DAY_MS);
        // One template per row: this loop runs a million times per million images.
        const line =
          `${row},${csvText(image.id)},${image.sha256},${shard},${key},${csvText(image.prompt)},` +
          `${csvText(image.negativePrompt)},${csvText(image.model)},${csvText(image.sampler)},${image.steps},` +
          `${image.guidanceScale},${image.seed},${image.width},${image.height},${day},${creator},${worker},${agg},` +
          `${score},${punsafe},${f.answers},${f.nsfw},${f.broken},${f.offensive},${f.does_not_match_prompt},${has}`;
        if (staging.add(line)) await staging.flush();
        row++;
        if (row % PROGRESS_EVERY === 0) {
          throwIfAborted(options.signal);
          progress({ phase: 'images', done: row, total });
        }
      }
    }
    await staging.close();
    await embeddings.close();
  } catch (error) {
    await staging.abort();
    await embeddings.abort();
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
        const line = `${pseudonyms.pseudonym('user', rating.raterId)},${csvText(rating.imageId)},${rating.score},${rating.kind}`;
        if (staging.add(line)) await staging.flush();
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
        const line = [
          csvText(p.imageA),
          csvText(p.imageB),
          csvText(p.prompt),
          p.choice,
          pseudonyms.pseudonym('user', p.raterId),
        ].join(',');
        if (staging.add(line)) await staging.flush();
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
