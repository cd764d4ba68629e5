import { createReadStream, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { BlobTooLargeError, type BlobStore } from './blob-store.js';

/**
 * Up to this size a blob is written with synchronous calls. Four thread-pool round trips (open, write,
 * close, rename) cost ~140 µs of CPU for a 12 KB image where the synchronous calls cost ~55 µs, and the
 * event loop that runs them already writes SQLite's WAL synchronously on every commit, in pieces of this
 * size. Larger blobs are written off the event loop.
 */
const SYNC_WRITE_MAX_BYTES = 64 * 1024;
/** Folders remembered as existing (one per two hex digits for images, so a few hundred in practice). */
const MAX_KNOWN_FOLDERS = 10_000;
/**
 * Temp file names: random once per process, then a counter. Unique across processes sharing the folder
 * (coordinator replicas on shared storage) without 6 random bytes per write (~14 µs of a job cycle).
 */
const TEMP_PREFIX = randomBytes(6).toString('hex');
let tempCounter = 0;

/** Blobs as files under one root folder. Writes go to a temp file then rename, so a reader never sees half a file. */
export class FsBlobStore implements BlobStore {
  readonly kind = 'fs' as const;
  private readonly root: string;
  /** Folders this store created or found: `mkdir -p` on every write is a system call for nothing. */
  private readonly folders = new Set<string>();

  constructor(
    root: string,
    /**
     * Flush each blob (and its folder entry) to the disk before put resolves, so that it survives a
     * power loss like a transaction committed after it: for SQLITE_SYNCHRONOUS=FULL. Costs two fsyncs
     * (milliseconds) per blob, off the event loop.
     */
    private readonly options: { durable?: boolean } = {},
  ) {
    this.root = resolve(root);
    // Made at start, not at the first image: an operator sees at once where images will go, and a root
    // that cannot be created (permissions, a file in the way) stops the start instead of the first upload.
    mkdirSync(this.root, { recursive: true });
  }

  private path(key: string): string {
    const p = resolve(join(this.root, key));
    if (!p.startsWith(this.root + sep)) throw new Error(`Invalid blob key: ${key}`);
    return p;
  }

  async put(key: string, data: Buffer): Promise<void> {
    const p = this.path(key);
    const folder = dirname(p);
    const tmp = `${p}.${TEMP_PREFIX}${(tempCounter++).toString(36)}.tmp`;
    if (this.options.durable) return this.putDurably(p, folder, tmp, data);
    const sync = data.length <= SYNC_WRITE_MAX_BYTES;
    const write = async () => (sync ? writeFileSync(tmp, data) : await writeFile(tmp, data));
    if (!this.folders.has(folder)) {
      await mkdir(folder, { recursive: true });
      this.rememberFolder(folder);
    }
    try {
      await write();
    } catch (err) {
      // A folder remembered as existing was removed behind our back: make it again, once.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(folder, { recursive: true });
      await write();
    }
    if (sync) renameSync(tmp, p);
    else await rename(tmp, p);
  }

  private async putDurably(p: string, folder: string, tmp: string, data: Buffer): Promise<void> {
    await mkdir(folder, { recursive: true });
    const file = await open(tmp, 'w');
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, p);
    // The rename lives in the folder: flush it too, or the file may be gone after a power loss.
    const dir = await open(folder, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  private rememberFolder(folder: string): void {
    if (this.folders.size >= MAX_KNOWN_FOLDERS) this.folders.clear();
    this.folders.add(folder);
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.path(key));
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async getLimited(key: string, maxBytes: number): Promise<Buffer | undefined> {
    let handle;
    try {
      handle = await open(this.path(key), 'r');
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) return undefined;
      if (info.size > maxBytes) throw new BlobTooLargeError(key, maxBytes);
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  async stream(key: string): Promise<Readable | undefined> {
    const p = this.path(key);
    return (await this.has(key)) ? createReadStream(p) : undefined;
  }

  async has(key: string): Promise<boolean> {
    const p = this.path(key); // an invalid key is an error, not a missing blob
    try {
      return (await stat(p)).isFile();
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async close(): Promise<void> {}
}

/**
 * ENOTDIR: a folder on the key's path is a file (`a/b` when `a` is a blob); EISDIR: the key names a folder
 * (`a` when `a/b` is a blob). Either way there is no blob under that key, as in S3.
 */
function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}
