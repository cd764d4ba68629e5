// manifest.json: every file of the release (path, size, SHA-256), its counts and where it stands
// relative to the previous release. Written last; it does not list itself.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DatasetError } from './errors.js';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 'dreamfold-dataset-release';
export const MANIFEST_FORMAT_VERSION = 1;

export interface ManifestFile {
  /** Relative to the release folder, '/'-separated. */
  path: string;
  bytes: number;
  sha256: string;
}

export interface ReleaseCounts {
  images: number;
  shards: number;
  embeddings: number;
  ratings: number;
  preferences: number;
  added: number;
  removed: number;
  /** Ratings / preferences given to the release that refer to images not in it (left out). */
  ratings_left_out: number;
  preferences_left_out: number;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  format_version: number;
  name: string;
  created_at: string;
  previous: string | null;
  license: string;
  counts: ReleaseCounts;
  exclusions: { reason: string; count: number }[];
  files: ManifestFile[];
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface PreviousRelease {
  folder: string;
  manifestPath: string;
  manifest: Manifest;
  /** Absolute path of its metadata.parquet, checked against the manifest. */
  metadataPath: string;
}

/** Reads and checks a previous release given its folder or its manifest.json. */
export async function loadPreviousRelease(path: string): Promise<PreviousRelease> {
  let manifestPath = path;
  const info = await stat(path).catch(() => undefined);
  if (info === undefined)
    throw new DatasetError('previous_missing', 'the previous release does not exist', path);
  if (info.isDirectory()) manifestPath = join(path, MANIFEST_FILE);
  const folder = dirname(manifestPath);
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (error) {
    throw new DatasetError(
      'previous_missing',
      'the previous release has no readable manifest',
      manifestPath,
      {
        cause: error,
      },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DatasetError('previous_malformed', `not JSON (${(error as Error).message})`, manifestPath, {
      cause: error,
    });
  }
  const manifest = checkManifest(parsed, manifestPath);
  const entry = manifest.files.find((f) => f.path === 'metadata.parquet');
  if (!entry) throw new DatasetError('previous_malformed', 'lists no metadata.parquet', manifestPath);
  const metadataPath = join(folder, 'metadata.parquet');
  const size = (await stat(metadataPath).catch(() => undefined))?.size;
  if (size === undefined)
    throw new DatasetError('previous_corrupt', 'missing (listed in the previous manifest)', metadataPath);
  if (size !== entry.bytes || (await sha256File(metadataPath)) !== entry.sha256) {
    throw new DatasetError(
      'previous_corrupt',
      'size or SHA-256 differs from the previous manifest',
      metadataPath,
    );
  }
  return { folder, manifestPath, manifest, metadataPath };
}

function checkManifest(value: unknown, file: string): Manifest {
  const bad = (why: string): never => {
    throw new DatasetError('previous_malformed', `not a release manifest: ${why}`, file);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('not a JSON object');
  const m = value as Record<string, unknown>;
  if (m.format !== MANIFEST_FORMAT) bad(`"format" is not "${MANIFEST_FORMAT}"`);
  if (m.format_version !== MANIFEST_FORMAT_VERSION)
    bad(`unknown "format_version" ${JSON.stringify(m.format_version)}`);
  if (typeof m.name !== 'string' || m.name === '') bad('"name" is missing');
  if (!Array.isArray(m.files)) bad('"files" is not a list');
  for (const [i, f] of (m.files as unknown[]).entries()) {
    const e = f as Record<string, unknown> | null;
    if (
      typeof e !== 'object' ||
      e === null ||
      typeof e.path !== 'string' ||
      typeof e.bytes !== 'number' ||
      typeof e.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(e.sha256)
    ) {
      bad(`files[${i}] needs path, bytes and a hex sha256`);
    }
  }
  return value as Manifest;
}
