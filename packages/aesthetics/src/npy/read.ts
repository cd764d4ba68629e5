// Streaming .npy reading: the header is validated against the file size when the file is opened (so a
// truncated download fails before any work), then rows are read in chunks through one file handle.
// Memory stays proportional to the chunk, never to the file: LAION's img_emb files are ~1.5 GB each.

import { open, type FileHandle } from 'node:fs/promises';
import { AestheticsError } from '../errors.js';
import { decodeFloat16 } from '../float16.js';
import { itemSize, MAX_HEADER_BYTES, parseNpyHeader, type NpyHeader } from './header.js';

export interface NpyOpenOptions {
  /** Expected embedding dimension; 768 (CLIP ViT-L/14) unless told; `null` accepts any. */
  dim?: number | null;
}

export interface NpyChunk {
  /** Index of the first row of this chunk in the file. */
  start: number;
  rows: number;
  /** rows × dim values, row-major. */
  data: Float32Array;
}

export class NpyReader {
  private constructor(
    readonly path: string,
    readonly header: NpyHeader,
    private readonly handle: FileHandle,
  ) {}

  get rows(): number {
    return this.header.rows;
  }

  get dim(): number {
    return this.header.dim;
  }

  static async open(path: string, options: NpyOpenOptions = {}): Promise<NpyReader> {
    const expectedDim = options.dim === undefined ? 768 : options.dim;
    const handle = await open(path, 'r');
    try {
      const size = (await handle.stat()).size;
      const prefix = new Uint8Array(Math.min(size, MAX_HEADER_BYTES));
      await readFully(handle, prefix, 0);
      const header = parseNpyHeader(prefix, path);
      if (expectedDim !== null && header.dim !== expectedDim) {
        throw new AestheticsError(
          'dimension_mismatch',
          `embedding dimension is ${header.dim}, expected ${expectedDim}`,
          path,
        );
      }
      const expectedSize = header.dataOffset + header.rows * header.dim * itemSize(header.dtype);
      if (size < expectedSize) {
        throw new AestheticsError(
          'truncated',
          `file is ${size} bytes but shape (${header.rows}, ${header.dim}) ${header.dtype} needs ${expectedSize}`,
          path,
        );
      }
      if (size > expectedSize) {
        throw new AestheticsError(
          'trailing_bytes',
          `file is ${size} bytes, ${size - expectedSize} more than shape (${header.rows}, ${header.dim}) needs`,
          path,
        );
      }
      return new NpyReader(path, header, handle);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Reads `count` rows from row `start` as float32 (into `out` when given, which must hold count × dim). */
  async readRows(start: number, count: number, out?: Float32Array): Promise<Float32Array> {
    const { rows, dim, dtype, dataOffset } = this.header;
    if (
      !Number.isInteger(start) ||
      !Number.isInteger(count) ||
      start < 0 ||
      count < 0 ||
      start + count > rows
    ) {
      throw new AestheticsError(
        'invalid_argument',
        `rows ${start}..${start + count} outside 0..${rows}`,
        this.path,
      );
    }
    const values = count * dim;
    const target = out ? out.subarray(0, values) : new Float32Array(values);
    if (target.length !== values) {
      throw new AestheticsError(
        'invalid_argument',
        `output buffer holds fewer than ${values} values`,
        this.path,
      );
    }
    const size = itemSize(dtype);
    const position = dataOffset + start * dim * size;
    if (size === 4) {
      // Read straight into the float32 buffer's bytes (little-endian host), no copy.
      await readFully(
        this.handle,
        new Uint8Array(target.buffer, target.byteOffset, values * 4),
        position,
        this.path,
      );
    } else {
      const bytes = new Uint8Array(values * 2);
      await readFully(this.handle, bytes, position, this.path);
      decodeFloat16(bytes, target);
    }
    return target;
  }

  /**
   * Yields the file in chunks of `rowsPerChunk` rows. The yielded buffer is reused for the next chunk
   * (that is what keeps memory flat): copy it if you keep it.
   */
  async *chunks(rowsPerChunk = 8192): AsyncGenerator<NpyChunk> {
    if (!(rowsPerChunk >= 1))
      throw new AestheticsError('invalid_argument', 'rowsPerChunk must be ≥ 1', this.path);
    const buffer = new Float32Array(Math.min(rowsPerChunk, Math.max(this.rows, 1)) * this.dim);
    for (let start = 0; start < this.rows; start += rowsPerChunk) {
      const rows = Math.min(rowsPerChunk, this.rows - start);
      const data = await this.readRows(start, rows, buffer);
      yield { start, rows, data };
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Reads a whole [N, D] .npy file into memory as float32 (for inputs known to be small, e.g. ratings sets). */
export async function readNpy(
  path: string,
  options: NpyOpenOptions = {},
): Promise<{ rows: number; dim: number; data: Float32Array; dtype: NpyHeader['dtype'] }> {
  const reader = await NpyReader.open(path, options);
  try {
    const data = await reader.readRows(0, reader.rows);
    return { rows: reader.rows, dim: reader.dim, data, dtype: reader.header.dtype };
  } finally {
    await reader.close();
  }
}

async function readFully(
  handle: FileHandle,
  into: Uint8Array,
  position: number,
  file?: string,
): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await handle.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) {
      // Only reachable if the file shrank after open; the size check at open catches the usual case.
      if (file !== undefined)
        throw new AestheticsError('truncated', 'file ended early while reading rows', file);
      return;
    }
    done += bytesRead;
  }
}
