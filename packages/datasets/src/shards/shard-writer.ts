// One WebDataset shard: a tar file written with tar-stream, byte-for-byte reproducible. Every member has
// the same header apart from name and size (mtime = release time, uid/gid 0, empty user/group names,
// mode 0644, regular file), members come in sorted order (`<key>.json`, `<key>.png`, `<key>.txt`, keys
// ascending), and nothing else (no directories, no pax headers for names this short) goes in.
//
// tar-stream hands out many small chunks (a 512-byte header, the data, its padding); they are batched into
// ~1 MB writes and hashed on the way, so the manifest's SHA-256 costs no second read of the shard.
// Memory stays bounded: add() waits while more than WRITE_AHEAD bytes are produced but not yet written.

import { createHash, type Hash } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import tar from 'tar-stream';

const BATCH_BYTES = 1 << 20;
const WRITE_AHEAD = 8 << 20;

export interface ShardMember {
  /** Extension without the dot; members are written sorted by it. */
  ext: string;
  data: Uint8Array;
}

export interface WrittenShard {
  path: string;
  bytes: number;
  sha256: string;
  samples: number;
}

export class ShardWriter {
  private readonly pack = tar.pack();
  private readonly hash: Hash = createHash('sha256');
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private produced = 0;
  private written = 0;
  private position = 0;
  private writes: Promise<void> = Promise.resolve();
  private failure: unknown;
  private readonly ended: Promise<void>;
  private samples = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly mtime: Date,
  ) {
    this.ended = new Promise<void>((resolve, reject) => {
      this.pack.on('data', (chunk: unknown) => this.take(chunk as Buffer));
      this.pack.on('end', resolve);
      this.pack.on('error', reject);
    });
    // close() awaits it; until then a failure is remembered, not thrown into the event loop.
    this.ended.catch(() => undefined);
  }

  static async create(path: string, mtime: Date): Promise<ShardWriter> {
    return new ShardWriter(path, await open(path, 'w'), mtime);
  }

  /** Adds one sample; `members` are sorted by extension here. */
  async add(key: string, members: readonly ShardMember[]): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    const sorted = [...members].sort((a, b) => (a.ext < b.ext ? -1 : a.ext > b.ext ? 1 : 0));
    for (const member of sorted) {
      this.pack.entry(
        {
          name: `${key}.${member.ext}`,
          size: member.data.length,
          mtime: this.mtime,
          mode: 0o644,
          uid: 0,
          gid: 0,
          uname: '',
          gname: '',
          type: 'file',
        },
        Buffer.from(member.data.buffer, member.data.byteOffset, member.data.byteLength),
      );
      this.produced += 512 + Math.ceil(member.data.length / 512) * 512;
    }
    this.samples++;
    while (this.produced - this.written > WRITE_AHEAD) {
      const pending = this.writes;
      await pending;
      if (this.failure !== undefined) throw this.failure;
      // Chunks still inside tar-stream: let its 'data' events run.
      if (pending === this.writes) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private take(chunk: Buffer): void {
    this.hash.update(chunk);
    this.batch.push(chunk);
    this.batchBytes += chunk.length;
    if (this.batchBytes >= BATCH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.batchBytes === 0) return;
    const data = Buffer.concat(this.batch, this.batchBytes);
    this.batch = [];
    this.batchBytes = 0;
    const position = this.position;
    this.position += data.length;
    this.writes = this.writes.then(async () => {
      if (this.failure !== undefined) return;
      try {
        let done = 0;
        while (done < data.length) {
          const { bytesWritten } = await this.handle.write(data, done, data.length - done, position + done);
          done += bytesWritten;
        }
        this.written += data.length;
      } catch (error) {
        this.failure = error;
      }
    });
  }

  /** Ends the archive (two zero blocks), writes what is left and closes the file. */
  async close(): Promise<WrittenShard> {
    this.pack.finalize();
    await this.ended;
    this.flush();
    await this.writes;
    if (this.failure !== undefined) throw this.failure;
    await this.handle.close();
    return { path: this.path, bytes: this.position, sha256: this.hash.digest('hex'), samples: this.samples };
  }

  async abort(): Promise<void> {
    this.pack.destroy();
    await this.writes.catch(() => undefined);
    await this.handle.close().catch(() => undefined);
    await rm(this.path, { force: true });
  }
}
