// The rules of dataset releases on the coordinator: one release at a time per name (claimed in
// dataset_releases, so two coordinators cannot build the same one), salts derived from a secret that
// never leaves the database, the previous release found automatically, files served only when the
// manifest lists them, and the admin's schedule checked by a timer on an injectable clock.
import { createHmac } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Kysely } from 'kysely';
import {
  MANIFEST_FILE,
  RELEASE_NAME,
  writeRelease,
  type Manifest,
  type ReleaseProgress,
} from '@dreamfold/datasets';
import type { DatasetRelease, DatasetSchedule } from '@dreamfold/protocol';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import type { DatabaseHandle } from '../db/connect.js';
import { AppError, notFound } from '../errors.js';
import { sha256Hex, toIso } from '../ids.js';
import type { BlobStore } from '../storage/blob-store.js';
import * as q from './queries.js';
import { datasetDb, type DatasetDatabase } from './tables.js';
import { PageEmbeddings, imageReader, openReleaseStreams } from './release-source.js';

const HOUR_MS = 3_600_000;

export interface DatasetLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface DatasetServiceOptions {
  /** Where releases go unless told otherwise: $DATA_DIR/datasets. */
  dir: string;
  log?: DatasetLog;
  /** A 'building' row not heartbeated for this long belongs to a coordinator that died. */
  staleBuildMs?: number;
  /** Samples per shard (tests use small ones). */
  shardSize?: number;
  /** Rows per page of the source queries. */
  pageRows?: number;
  /** Width of the stored CLIP embeddings (EMBEDDING_DIM); default 768. */
  embeddingDim?: number;
}

export interface ReleaseRequest {
  name?: string;
  /** Parent folder of the release folder; default the service's dir. */
  outDir?: string;
  /** The previous release folder; default the newest ready release; null: none. */
  previous?: string | null;
  startedBy?: string | null;
  onProgress?: (p: ReleaseProgress) => void;
  signal?: AbortSignal;
}

export interface ReleaseRecord {
  name: string;
  path: string;
  previous: string | null;
  manifest: Manifest;
  manifestSha256: string;
  /** Seconds spent in each phase of the release. */
  seconds: Record<string, number>;
  /** CPU seconds of this process (JavaScript, the database driver, DuckDB's threads) in each phase. */
  cpuSeconds: Record<string, number>;
}

interface CachedManifest {
  sha256: string;
  files: Map<string, { bytes: number; sha256: string }>;
}

export class DatasetService {
  private readonly db: Kysely<DatasetDatabase>;
  private readonly manifests = new Map<string, CachedManifest>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<unknown> | undefined;

  private readonly base: Kysely<Database>;

  constructor(
    private readonly database: Pick<DatabaseHandle, 'db' | 'arrayRows' | 'dialect' | 'url'>,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly options: DatasetServiceOptions,
  ) {
    this.base = database.db;
    this.db = datasetDb(database.db);
  }

  /** Per-release salt: HMAC-SHA256(secret, name). Same name → same pseudonyms; another name → unlinkable. */
  async salt(name: string): Promise<Buffer> {
    const { secret } = await q.settingsRow(this.db, this.clock.now());
    return createHmac('sha256', Buffer.from(secret, 'hex')).update(`dreamfold-dataset-salt:${name}`).digest();
  }

  /** A fresh default name: dreamfold-YYYY-MM-DD, then -2, -3 … when that day already has one. */
  private async defaultName(now: number): Promise<string> {
    const base = `dreamfold-${toIso(now).slice(0, 10)}`;
    const taken = new Set(await q.namesStartingWith(this.db, base));
    if (!taken.has(base)) return base;
    for (let i = 2; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`;
  }

  /** The newest ready release whose manifest is still on this machine. */
  private async latestRelease(): Promise<q.ReleaseRow | undefined> {
    for (const row of await q.listReadyReleases(this.db, { limit: 20 })) {
      if (await stat(join(row.path, MANIFEST_FILE)).catch(() => undefined)) return row;
    }
    return undefined;
  }

  /** Builds one release from the database, start to finish. */
  async release(request: ReleaseRequest = {}): Promise<ReleaseRecord> {
    const now = this.clock.now();
    const name = request.name ?? (await this.defaultName(now));
    if (!RELEASE_NAME.test(name) || name.includes('..')) {
      throw new AppError(
        'validation_failed',
        `"${name}" is not a release name ([A-Za-z0-9][A-Za-z0-9._-]*).`,
      );
    }
    const outDir = resolve(request.outDir ?? this.options.dir);
    const path = join(outDir, name);
    const startedBy = request.startedBy ?? null;
    const claimed =
      (await q.insertBuildingRelease(this.db, { name, path, now, startedBy })) ||
      (await q.takeOverRelease(this.db, {
        name,
        path,
        now,
        staleBefore: now - (this.options.staleBuildMs ?? 15 * 60_000),
        startedBy,
      }));
    if (!claimed) throw new AppError('conflict', `A release named "${name}" exists or is being built.`);

    let previousPath: string | undefined;
    if (request.previous === undefined) previousPath = (await this.latestRelease())?.path;
    else if (request.previous !== null) previousPath = resolve(request.previous);

    let lastBeat = now;
    // Opened below; closed (its snapshot given up) as soon as the library has read every row.
    let streams: ReturnType<typeof openReleaseStreams> | undefined;
    let closing: Promise<void> | undefined;
    const closeStreams = () => (closing ??= streams?.close() ?? Promise.resolve());
    const onProgress = (p: ReleaseProgress) => {
      if (p.phase === 'tables') void closeStreams();
      request.onProgress?.(p);
      const t = this.clock.now();
      if (t - lastBeat > 30_000) {
        lastBeat = t;
        q.heartbeatRelease(this.db, name, t).catch(() => undefined);
      }
    };
    this.options.log?.info({ name, path, previous: previousPath ?? null }, 'dataset release started');
    try {
      const embeddings = new PageEmbeddings(this.base);
      streams = openReleaseStreams(this.database, this.options.pageRows, embeddings);

      const result = await writeRelease({
        outDir,
        name,
        createdAt: new Date(now),
        salt: await this.salt(name),
        images: streams.images,
        readEmbedding: embeddings.read,
        embeddingDim: this.options.embeddingDim,
        ratings: streams.ratings,
        preferences: streams.preferences,
        readImage: imageReader(this.blobs),
        previous: previousPath,
        shardSize: this.options.shardSize,
        aggregateRatingKind: 'aesthetic',
        // Counted while the release reads its rows; the library awaits them for the card.
        exclusions: streams.exclusions,
        expectedImages: streams.expectedImages,
        title: `Dreamfold dataset ${name}`,
        onProgress,
        signal: request.signal,
      }).finally(closeStreams);
      const { counts } = result.manifest;
      await q.markReleaseReady(this.db, {
        name,
        path,
        previous: result.manifest.previous,
        counts: JSON.stringify(counts),
        manifestSha256: result.manifestSha256,
        now: this.clock.now(),
      });
      this.options.log?.info({ name, counts }, 'dataset release ready');
      return {
        name,
        path,
        previous: result.manifest.previous,
        manifest: result.manifest,
        manifestSha256: result.manifestSha256,
        seconds: result.seconds,
        cpuSeconds: result.cpuSeconds,
      };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await q.markReleaseFailed(this.db, { name, error: message, now: this.clock.now() });
      this.options.log?.error({ name, err: message }, 'dataset release failed');
      throw error;
    }
  }

  async list(
    limit: number,
    before?: readonly [number, string],
  ): Promise<{ rows: q.ReleaseRow[]; items: DatasetRelease[] }> {
    const rows = await q.listReadyReleases(this.db, { limit, before });
    return { rows, items: rows.map(releaseView) };
  }

  /** A file of a ready release, only if its manifest lists it (or it is the manifest). */
  async file(name: string, file: string): Promise<{ path: string; bytes: number; sha256: string }> {
    const row = await q.findRelease(this.db, name);
    if (!row || row.state !== 'ready' || row.manifest_sha256 === null) throw notFound('Release');
    const manifest = await this.manifest(row);
    if (file === MANIFEST_FILE) {
      const path = join(row.path, MANIFEST_FILE);
      return { path, bytes: (await stat(path)).size, sha256: manifest.sha256 };
    }
    const entry = manifest.files.get(file);
    if (!entry) throw notFound('File');
    // The manifest is the only list of paths; joining one of them cannot leave the release folder.
    return { path: join(row.path, ...file.split('/')), ...entry };
  }

  private async manifest(row: q.ReleaseRow): Promise<CachedManifest> {
    const cached = this.manifests.get(row.name);
    if (cached && cached.sha256 === row.manifest_sha256) return cached;
    let text: string;
    try {
      text = await readFile(join(row.path, MANIFEST_FILE), 'utf8');
    } catch {
      throw new AppError('not_found', 'This release is not stored on this coordinator.');
    }
    // Serve only the manifest the release was recorded with, never a file that replaced it.
    if (sha256Hex(text) !== row.manifest_sha256)
      throw new AppError('internal', 'The release manifest changed on disk.');
    const parsed = JSON.parse(text) as Manifest;
    const entry: CachedManifest = {
      sha256: sha256Hex(text),
      files: new Map(parsed.files.map((f) => [f.path, { bytes: f.bytes, sha256: f.sha256 }])),
    };
    if (this.manifests.size >= 64) this.manifests.clear();
    this.manifests.set(row.name, entry);
    return entry;
  }

  async schedule(): Promise<DatasetSchedule> {
    const s = await q.settingsRow(this.db, this.clock.now());
    return scheduleView(s.interval_ms, s.next_at);
  }

  async setSchedule(intervalHours: number | null, by: string | null): Promise<DatasetSchedule> {
    const now = this.clock.now();
    await q.settingsRow(this.db, now);
    const intervalMs = intervalHours === null ? null : intervalHours * HOUR_MS;
    const nextAt = intervalMs === null ? null : now + intervalMs;
    await q.updateSchedule(this.db, { intervalMs, nextAt, now, by });
    return scheduleView(intervalMs, nextAt);
  }

  /**
   * Starts a scheduled release when one is due and this coordinator wins the slot. Answers the release,
   * or undefined when nothing was due (or another coordinator took it).
   */
  async tick(): Promise<ReleaseRecord | undefined> {
    const now = this.clock.now();
    const s = await q.settingsRow(this.db, now);
    if (s.interval_ms === null || s.next_at === null || Number(s.next_at) > now) return undefined;
    const won = await q.claimScheduledSlot(this.db, {
      seenNextAt: Number(s.next_at),
      nextAt: now + Number(s.interval_ms),
    });
    if (!won) return undefined;
    return this.release({ startedBy: 'schedule' });
  }

  /** Checks the schedule every `everyMs`; one check (and so one release) at a time. */
  start(everyMs: number): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.ticking) return;
      this.ticking = this.tick()
        .catch((err: unknown) =>
          this.options.log?.error(
            { err: err instanceof Error ? err.message : String(err) },
            'scheduled dataset release failed',
          ),
        )
        .finally(() => (this.ticking = undefined));
    }, everyMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a release it started. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
  }
}

function scheduleView(intervalMs: number | string | null, nextAt: number | string | null): DatasetSchedule {
  return {
    intervalHours: intervalMs === null ? null : Number(intervalMs) / HOUR_MS,
    nextAt: nextAt === null ? null : toIso(Number(nextAt)),
  };
}

function releaseView(row: q.ReleaseRow): DatasetRelease {
  const counts = JSON.parse(row.counts ?? '{}') as Manifest['counts'];
  return {
    name: row.name,
    createdAt: toIso(Number(row.created_at)),
    previous: row.previous,
    counts: {
      images: counts.images,
      shards: counts.shards,
      embeddings: counts.embeddings,
      ratings: counts.ratings,
      preferences: counts.preferences,
      added: counts.added,
      removed: counts.removed,
    },
    manifestSha256: row.manifest_sha256 ?? '',
    filesUrl: `/v1/datasets/${row.name}`,
  };
}
