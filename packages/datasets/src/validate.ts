// Input rows come from a database the library does not own: each field is checked before it is staged,
// and a bad one fails the release naming the stream, the row and the field.

import { DatasetError } from './errors.js';
import {
  FLAG_NAMES,
  type PreferenceChoice,
  type ReleaseImage,
  type ReleasePreference,
  type ReleaseRating,
} from './types.js';

const SHA256 = /^[0-9a-f]{64}$/;
/**
 * Image ids are visible ASCII: then JavaScript's string order (the sort the caller gives), byte order
 * (DuckDB's) and every database's "C" order agree, which the merge of images and aggregates relies on.
 */
const IMAGE_ID = /^[\x21-\x7e]{1,256}$/;
const TAG = /^[a-z0-9_.:-]{1,64}$/;
const INT32_MAX = 2 ** 31 - 1;
const MAX_ID_LENGTH = 256;

function fail(stream: string, row: string, field: string, problem: string): never {
  throw new DatasetError('invalid_row', `${stream} row ${row}: ${field} ${problem}`);
}

function text(stream: string, row: string, field: string, value: unknown): string {
  if (typeof value !== 'string') fail(stream, row, field, `must be a string (got ${typeof value})`);
  return value;
}

function id(stream: string, row: string, field: string, value: unknown): string {
  const s = text(stream, row, field, value);
  if (s.length === 0 || s.length > MAX_ID_LENGTH)
    fail(stream, row, field, `must be 1–${MAX_ID_LENGTH} characters`);
  return s;
}

function int(stream: string, row: string, field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(stream, row, field, `must be an integer in [${min}, ${max}] (got ${String(value)})`);
  }
  return value;
}

function finite(stream: string, row: string, field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    fail(stream, row, field, `must be a finite number (got ${String(value)})`);
  return value;
}

function imageId(stream: string, row: string, field: string, value: unknown): string {
  const s = text(stream, row, field, value);
  if (!IMAGE_ID.test(s)) fail(stream, row, field, 'must be 1–256 visible ASCII characters');
  return s;
}

function tag(stream: string, row: string, field: string, value: unknown): string {
  const s = text(stream, row, field, value);
  if (!TAG.test(s)) fail(stream, row, field, `must match [a-z0-9_.:-]{1,64} (got ${JSON.stringify(s)})`);
  return s;
}

/** Each flag with its field name in messages, built once rather than for every row. */
const FLAG_FIELDS = FLAG_NAMES.map((name) => [name, `flags.${name}`] as const);

/** Checks an image row. */
export function checkImage(image: ReleaseImage): void {
  if (typeof image !== 'object' || image === null)
    throw new DatasetError('invalid_row', 'images: a row is not an object');
  const row = imageId('images', '?', 'id', image.id);
  const s = 'images';
  if (typeof image.sha256 !== 'string' || !SHA256.test(image.sha256))
    fail(s, row, 'sha256', 'must be 64 lower-case hex digits');
  text(s, row, 'prompt', image.prompt);
  text(s, row, 'negativePrompt', image.negativePrompt);
  text(s, row, 'model', image.model);
  text(s, row, 'sampler', image.sampler);
  int(s, row, 'steps', image.steps, 0, INT32_MAX);
  finite(s, row, 'guidanceScale', image.guidanceScale);
  int(s, row, 'seed', image.seed, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  int(s, row, 'width', image.width, 1, INT32_MAX);
  int(s, row, 'height', image.height, 1, INT32_MAX);
  finite(s, row, 'createdAt', image.createdAt);
  id(s, row, 'creatorId', image.creatorId);
  if (image.workerId !== null) id(s, row, 'workerId', image.workerId);
  if (image.aestheticScore !== null) finite(s, row, 'aestheticScore', image.aestheticScore);
  if (image.punsafe !== undefined && image.punsafe !== null) finite(s, row, 'punsafe', image.punsafe);
  const flags = image.flags as Record<string, unknown> | null;
  if (typeof flags !== 'object' || flags === null) fail(s, row, 'flags', 'must be an object of counts');
  const answers = int(s, row, 'flags.answers', flags.answers, 0, INT32_MAX);
  for (const [name, field] of FLAG_FIELDS) int(s, row, field, flags[name], 0, answers);
}

export function checkRating(rating: ReleaseRating, index: number): void {
  const s = 'ratings';
  const row = `#${index}`;
  if (typeof rating !== 'object' || rating === null) fail(s, row, 'row', 'is not an object');
  imageId(s, row, 'imageId', rating.imageId);
  id(s, row, 'raterId', rating.raterId);
  finite(s, row, 'score', rating.score);
  tag(s, row, 'kind', rating.kind);
}

const CHOICES: readonly PreferenceChoice[] = ['a', 'b', 'tie'];

export function checkPreference(preference: ReleasePreference, index: number): void {
  const s = 'preferences';
  const row = `#${index}`;
  if (typeof preference !== 'object' || preference === null) fail(s, row, 'row', 'is not an object');
  imageId(s, row, 'imageA', preference.imageA);
  imageId(s, row, 'imageB', preference.imageB);
  if (preference.imageA === preference.imageB) fail(s, row, 'imageB', 'must differ from imageA');
  text(s, row, 'prompt', preference.prompt);
  if (!CHOICES.includes(preference.choice))
    fail(s, row, 'choice', `must be "a", "b" or "tie" (got ${JSON.stringify(preference.choice)})`);
  id(s, row, 'raterId', preference.raterId);
}
