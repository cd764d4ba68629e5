// .npy writing: whole arrays (writeNpy) and row-streaming (NpyWriter, which reserves header room and
// rewrites the row count on close). Both write to a temporary name and rename, so a reader never sees
// a half-written file under the final name.

import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { AestheticsError } from '../errors.js';
import { encodeFloat16 } from '../float16.js';
import { formatNpyHeader, itemSize, type NpyDtype } from './header.js';

export interface NpyWriteOptions {
  dim: number;
  /** '<f4' by default; '<f2' is what LAION ships (half the size). */
  dtype?: NpyDtype;
  /** Header format version; by default 1.0 (what NumPy writes for small headers). */
  version?: 1 | 2 | 3;
}

function encodeRows(values: Float32Array, dtype: NpyDtype): Uint8Array {
  if (dtype === '<f4') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const bytes = new Uint8Array(values.length * 2);
  encodeFloat16(values, bytes);
  return bytes;
}

function checkShape(values: Float32Array, dim: number, file: string): number {
  if (!Number.isInteger(dim) || dim < 1)
    throw new AestheticsError('invalid_argument', `dim ${dim} is not ≥ 1`, file);
  if (values.length % dim !== 0) {
    throw new AestheticsError(
      'invalid_argument',
      `${values.length} values are not a whole number of ${dim}-d rows`,
      file,
    );
  }
  return values.length / dim;
}

/** Writes `values` (rows × dim, row-major) as a C-order [rows, dim] .npy file. */
export async function writeNpy(path: string, values: Float32Array, options: NpyWriteOptions): Promise<void> {
  const writer = await NpyWriter.create(path, options);
  try {
    await writer.append(values);
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/** Largest row count a header may need to hold; reserved up front so `close` can rewrite it in place. */
const MAX_ROWS_TEXT = String(Number.MAX_SAFE_INTEGER);

export class NpyWriter {
  private rows = 0;
  private position: number;

  private constructor(
    readonly path: string,
    private readonly tempPath: string,
    private readonly handle: FileHandle,
    private readonly options: Required<Omit<NpyWriteOptions, 'version'>> & Pick<NpyWriteOptions, 'version'>,
    private readonly minDictChars: number,
    headerBytes: number,
  ) {
    this.position = headerBytes;
  }

  static async create(path: string, options: NpyWriteOptions): Promise<NpyWriter> {
    checkShape(new Float32Array(0), options.dim, path);
    const resolved = { dim: options.dim, dtype: options.dtype ?? '<f4', version: options.version };
    const minDictChars =
      `{'descr': '${resolved.dtype}', 'fortran_order': False, 'shape': (${MAX_ROWS_TEXT}, ${options.dim}), }`
        .length;
    const header = formatNpyHeader(resolved.dtype, 0, options.dim, {
      minDictChars,
      version: options.version,
    });
    const tempPath = `${path}.tmp-${process.pid}-${Date.now()}`;
    const handle = await open(tempPath, 'w');
    await handle.write(header, 0, header.length, 0);
    return new NpyWriter(path, tempPath, handle, resolved, minDictChars, header.length);
  }

  get rowCount(): number {
    return this.rows;
  }

  /** Appends whole rows (a multiple of dim values). */
  async append(values: Float32Array): Promise<void> {
    const rows = checkShape(values, this.options.dim, this.path);
    const bytes = encodeRows(values, this.options.dtype);
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.handle.write(
        bytes,
        done,
        bytes.length - done,
        this.position + done,
      );
      done += bytesWritten;
    }
    this.position += bytes.length;
    this.rows += rows;
  }

  /** Rewrites the header with the final row count, then moves the file to its final name. */
  async close(): Promise<void> {
    const header = formatNpyHeader(this.options.dtype, this.rows, this.options.dim, {
      minDictChars: this.minDictChars,
      version: this.options.version,
    });
    await this.handle.write(header, 0, header.length, 0);
    await this.handle.sync();
    await this.handle.close();
    await rename(this.tempPath, this.path);
  }

  /** Discards the partial file. */
  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.tempPath, { force: true });
  }

  /** Bytes per stored value, for callers sizing their chunks. */
  get itemSize(): number {
    return itemSize(this.options.dtype);
  }
}
