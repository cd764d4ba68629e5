// Test inputs for releases: small real PNGs (built here with zlib, so the package needs no image
// library), synthetic images / ratings / preferences with account ids that must never leak, an
// in-memory blob store, and a temp folder per test.

import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import type { ReleaseImage, ReleaseOptions, ReleasePreference, ReleaseRating } from '../types.js';

export async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dreamfold-datasets-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** A valid RGB PNG of `width`×`height` filled with a colour derived from `seed`. */
export function solidPng(width: number, height: number, seed: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = y * (1 + width * 3) + 1 + x * 3;
      raw[o] = seed & 255;
      raw[o + 1] = (seed * 7) & 255;
      raw[o + 2] = (seed * 13 + x) & 255;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export const sha256Hex = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** Prompts that stress CSV staging, JSON and tar: quotes, separators, newlines, NUL, non-ASCII. */
export const AWKWARD_PROMPTS = [
  'a "quoted" cat, with commas',
  'tabs\tand\nnew lines\r\nand CRLF',
  'back\\slash and NUL \0 inside',
  'ünïcödé 🎨 emoji and 中文',
  '',
  ' leading and trailing spaces ',
];

export const EMBEDDING_DIM = 8;

export interface Fixture {
  images: ReleaseImage[];
  ratings: ReleaseRating[];
  preferences: ReleasePreference[];
  blobs: Map<string, Buffer>;
  embeddings: Map<string, Float32Array>;
  /** Raw ids and emails that must never appear in a release. */
  secrets: string[];
}

export interface FixtureOptions {
  count: number;
  /** Only ids in this set (default: all). */
  keep?: (index: number) => boolean;
}

export function imageId(i: number): string {
  return `img${String(i).padStart(6, '0')}`;
}

/** Deterministic synthetic platform data: users, workers, images, ratings and preferences. */
export function makeFixture(options: FixtureOptions): Fixture {
  const users = ['user-alice@example.org', 'user-bob@example.org', 'user-carol@example.org'];
  const workers = ['worker-raw-id-1', 'worker-raw-id-2'];
  const images: ReleaseImage[] = [];
  const blobs = new Map<string, Buffer>();
  const embeddings = new Map<string, Float32Array>();
  for (let i = 0; i < options.count; i++) {
    if (options.keep && !options.keep(i)) continue;
    const png = solidPng(2 + (i % 3), 2, i);
    const sha = sha256Hex(png);
    blobs.set(sha, png);
    const id = imageId(i);
    if (i % 3 !== 1) {
      embeddings.set(
        id,
        Float32Array.from({ length: EMBEDDING_DIM }, (_, k) => Math.sin(i * 10 + k) / 3),
      );
    }
    images.push({
      id,
      sha256: sha,
      prompt: i < AWKWARD_PROMPTS.length ? AWKWARD_PROMPTS[i]! : `a painting of lighthouse number ${i}`,
      negativePrompt: i % 4 === 0 ? 'blurry, "low" quality' : '',
      model: i % 2 === 0 ? 'sd-1.5' : 'sdxl-turbo',
      sampler: i % 2 === 0 ? 'euler' : 'dpmpp_2m',
      steps: 20 + (i % 5),
      guidanceScale: 7.5 + (i % 3) / 4,
      seed: 4_000_000_000 + i * 7919,
      width: 512 + 64 * (i % 2),
      height: 512,
      createdAt: Date.UTC(2026, 0, 1 + (i % 9), 13, 45, 7) + i,
      creatorId: users[i % users.length]!,
      workerId: i % 5 === 4 ? null : workers[i % workers.length]!,
      aestheticScore: i % 4 === 3 ? null : 4 + (i % 7) * 0.3141,
      punsafe: i % 5 === 1 ? null : (i % 10) / 10 + 0.0123,
      flags: {
        answers: i % 4,
        nsfw: i % 4 > 0 && i % 6 === 0 ? 1 : 0,
        broken: 0,
        offensive: i % 4 > 1 ? 1 : 0,
        does_not_match_prompt: i % 4 === 3 ? 3 : 0,
      },
    });
  }
  const ratings: ReleaseRating[] = [];
  const preferences: ReleasePreference[] = [];
  for (let i = 0; i < options.count; i++) {
    // Ratings and preferences also name images that are not published (the library must drop them).
    for (let r = 0; r < i % 4; r++) {
      ratings.push({
        imageId: imageId(i),
        raterId: users[(i + r) % users.length]!,
        score: 1 + ((i * 3 + r * 5) % 10),
        kind: 'aesthetic',
      });
    }
    if (i % 5 === 2) ratings.push({ imageId: imageId(i), raterId: users[0]!, score: 0.25, kind: 'quality' });
    if (i + 1 < options.count) {
      const choice = (['a', 'b', 'tie'] as const)[i % 3]!;
      preferences.push({
        imageA: imageId(i),
        imageB: imageId(i + 1),
        prompt: `pair prompt ${i}`,
        choice,
        raterId: users[(i + 2) % users.length]!,
      });
    }
  }
  return { images, ratings, preferences, blobs, embeddings, secrets: [...users, ...workers] };
}

/** writeRelease options over a fixture (embedding dim 8, 10 samples per shard). */
export function fixtureOptions(
  fixture: Fixture,
  outDir: string,
  overrides: Partial<ReleaseOptions> = {},
): ReleaseOptions {
  return {
    outDir,
    name: 'r1',
    createdAt: new Date(Date.UTC(2026, 1, 2, 3, 4, 5)),
    salt: 'a test salt of sixteen bytes or more',
    images: fixture.images,
    ratings: fixture.ratings,
    preferences: fixture.preferences,
    readImage: async (sha) => fixture.blobs.get(sha),
    readEmbedding: async (id) => fixture.embeddings.get(id),
    embeddingDim: EMBEDDING_DIM,
    shardSize: 10,
    ...overrides,
  };
}
