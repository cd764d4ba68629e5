// img_emb/img_emb_0000.npy: float16 [N, dim], row i = metadata row i, as LAION ships CLIP embeddings.
// Images without an embedding get a zero row (and has_embedding = false).
//
// The header and the float32 → float16 conversion are @dreamfold/aesthetics' (formatNpyHeader,
// encodeFloat16). Rows are written here rather than through its NpyWriter so that zero rows and
// embeddings the platform already stores as float16 (a Uint16Array of IEEE half bits) are copied as
// bytes: converting is ~40 M values/s, about 50,000 rows/s of 768-d, the slowest step of a release.
// Blocks of rows without any embedding are not written at all (see flush).

import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { encodeFloat16, formatNpyHeader } from '@dreamfold/aesthetics';
import { DatasetError } from './errors.js';

const BLOCK_ROWS = 1024;
/** Room for the largest row count, so the header can be rewritten in place on close. */
const MAX_ROWS_TEXT = String(Number.MAX_SAFE_INTEGER);

/** An embedding as float32 values, or as float16 bits (little-endian IEEE half, like '<f2'). */
export type EmbeddingValues = Float32Array | Uint16Array;

export class EmbeddingWriter {
  private readonly block: Uint8Array;
  private rowsInBlock = 0;
  /** Whether the current block holds any embedding; an all-zero block is skipped (a file hole). */
  private blockHasData = false;
  /** Whether the block buffer may hold bytes of an earlier block (then zero rows must be cleared). */
  private blockDirty = false;
  private rows = 0;
  private position: number;
  present = 0;

  private constructor(
    readonly path: string,
    private readonly tempPath: string,
    private readonly handle: FileHandle,
    readonly dim: number,
    private readonly minDictChars: number,
    headerBytes: number,
  ) {
    this.block = new Uint8Array(BLOCK_ROWS * dim * 2);
    this.position = headerBytes;
  }

  static async create(path: string, dim: number): Promise<EmbeddingWriter> {
    const minDictChars = `{'descr': '<f2', 'fortran_order': False, 'shape': (${MAX_ROWS_TEXT}, ${dim}), }`
      .length;
    const header = formatNpyHeader('<f2', 0, dim, { minDictChars });
    const tempPath = `${path}.partial`;
    const handle = await open(tempPath, 'w');
    await handle.write(header, 0, header.length, 0);
    return new EmbeddingWriter(path, tempPath, handle, dim, minDictChars, header.length);
  }

  /**
   * Adds the image's row; answers whether it had an embedding. When `full` is set afterwards, flush()
   * must be awaited before the next add (kept synchronous: it runs once per image).
   */
  add(id: string, embedding: EmbeddingValues | null | undefined): boolean {
    const rowBytes = this.dim * 2;
    const offset = this.rowsInBlock * rowBytes;
    let has = false;
    if (embedding === null || embedding === undefined) {
      if (this.blockDirty) this.block.fill(0, offset, offset + rowBytes);
    } else if (embedding instanceof Float32Array && embedding.length === this.dim) {
      encodeFloat16(embedding, this.block.subarray(offset, offset + rowBytes));
      has = true;
    } else if (embedding instanceof Uint16Array && embedding.length === this.dim) {
      this.block.set(new Uint8Array(embedding.buffer, embedding.byteOffset, rowBytes), offset);
      has = true;
    } else {
      const got =
        embedding instanceof Float32Array || embedding instanceof Uint16Array
          ? `${embedding.length} values`
          : 'neither a Float32Array nor a Uint16Array of float16 bits';
      throw new DatasetError(
        'embedding_dimension',
        `readEmbedding(${JSON.stringify(id)}) returned ${got}; expected ${this.dim} values`,
      );
    }
    if (has) {
      this.present++;
      this.blockHasData = true;
    }
    this.rows++;
    this.rowsInBlock++;
    return has;
  }

  /** True when a block is complete and flush() must be awaited. */
  get full(): boolean {
    return this.rowsInBlock === BLOCK_ROWS;
  }

  async flush(): Promise<void> {
    const bytes = this.rowsInBlock * this.dim * 2;
    // Zero rows need no writing: skipping past them leaves a hole that reads back as zeros (and costs
    // no disk on filesystems with sparse files); close() sets the final length.
    let done = this.blockHasData ? 0 : bytes;
    while (done < bytes) {
      const { bytesWritten } = await this.handle.write(this.block, done, bytes - done, this.position + done);
      done += bytesWritten;
    }
    this.position += bytes;
    this.rowsInBlock = 0;
    this.blockDirty = this.blockHasData;
    this.blockHasData = false;
  }

  /** Writes the last rows and the final row count, then gives the file its name. */
  async close(): Promise<void> {
    await this.flush();
    await this.handle.truncate(this.position);
    const header = formatNpyHeader('<f2', this.rows, this.dim, { minDictChars: this.minDictChars });
    await this.handle.write(header, 0, header.length, 0);
    await this.handle.close();
    await rename(this.tempPath, this.path);
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.tempPath, { force: true });
  }
}
