// Rows go from JavaScript to DuckDB through a staged CSV file: measured on the 1,000,000-row benchmark,
// writing CSV text and letting DuckDB's reader load it is ~2.5× faster than its Appender, which crosses
// into native code once per value.
//
// Encoding: every text value is quoted ("" doubles a quote; tabs, newlines, NUL stay as they are inside
// the quotes), NULL is an empty unquoted field, numbers are JavaScript's shortest round-trip decimal.
//
// Fields are encoded one by one straight into a large buffer (no line string is built): a row of ~30
// fields as one template string cost a cons-string tree, its flattening and its collection, which were
// most of the staging time. Each field method writes the value and a ',' after it; end() turns the last
// ',' into the newline.

import { open, type FileHandle } from 'node:fs/promises';
import { sqlString } from './duckdb.js';

const FLUSH_BYTES = 1 << 20;
const BUFFER_BYTES = 2 << 20;
/** Strings up to this length are copied byte by byte; longer ones go through Buffer#write. */
const SHORT_TEXT = 48;
const COMMA = 44;
const QUOTE = 34;

export class StagingFile {
  /** Filled buffers waiting for the next flush, and the one being filled. */
  private sealed: Buffer[] = [];
  private sealedBytes = 0;
  private current = Buffer.allocUnsafe(BUFFER_BYTES);
  private offset = 0;
  rows = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  static async create(path: string): Promise<StagingFile> {
    return new StagingFile(path, await open(path, 'w'));
  }

  /**
   * Starts a row that takes at most `maxBytes` bytes (3 per UTF-16 unit of text, twice that for text
   * with quotes, 25 per number), so the field methods never check for room.
   */
  begin(maxBytes: number): void {
    if (maxBytes > this.current.length - this.offset) {
      if (this.offset > 0) {
        this.sealed.push(this.current.subarray(0, this.offset));
        this.sealedBytes += this.offset;
      }
      this.current = Buffer.allocUnsafe(Math.max(BUFFER_BYTES, maxBytes));
      this.offset = 0;
    }
  }

  /** Ends the row; true when ~1 MB is gathered and flush() should be awaited. */
  end(): boolean {
    this.current[this.offset - 1] = 10;
    this.rows++;
    return this.sealedBytes + this.offset >= FLUSH_BYTES;
  }

  /** A quoted text field. */
  text(value: string): void {
    const b = this.current;
    let o = this.offset;
    b[o++] = QUOTE;
    const n = value.length;
    let i = 0;
    if (n <= SHORT_TEXT) {
      // ASCII without quotes, the common case, copied here; anything else from the first such unit on.
      for (; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c >= 128 || c === QUOTE) break;
        b[o++] = c;
      }
    }
    if (i < n) {
      const rest = i === 0 ? value : value.slice(i);
      o += b.write(rest.includes('"') ? rest.replaceAll('"', '""') : rest, o, 'utf8');
    }
    b[o++] = QUOTE;
    b[o++] = COMMA;
    this.offset = o;
  }

  /** An unquoted field the caller knows is ASCII without ',', '"' or newlines (hex, keys, tags). */
  ascii(value: string): void {
    const b = this.current;
    let o = this.offset;
    for (let i = 0; i < value.length; i++) b[o++] = value.charCodeAt(i);
    b[o++] = COMMA;
    this.offset = o;
  }

  /** An integer (|value| < 2^53), in decimal, zero-padded to `width` digits. */
  int(value: number, width = 1): void {
    const b = this.current;
    let o = this.offset;
    let n = value;
    if (n < 0) {
      b[o++] = 45;
      n = -n;
    }
    let digits = 1;
    for (let p = 10; n >= p; p *= 10) digits++;
    if (digits < width) digits = width;
    o += digits;
    this.offset = o + 1;
    b[o] = COMMA;
    for (let i = 0; i < digits; i++) {
      const q = Math.floor(n / 10);
      b[--o] = 48 + n - q * 10;
      n = q;
    }
  }

  /** Any finite number, as JavaScript's shortest round-trip decimal. */
  number(value: number): void {
    if (Number.isInteger(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER) this.int(value);
    else this.ascii(String(value));
  }

  /** A number, or NULL. */
  numberOrNull(value: number | null | undefined): void {
    if (value === null || value === undefined) this.null();
    else this.number(value);
  }

  /** true / false. */
  bool(value: boolean): void {
    this.ascii(value ? 'true' : 'false');
  }

  /** NULL: an empty unquoted field. */
  null(): void {
    this.current[this.offset++] = COMMA;
  }

  async flush(): Promise<void> {
    const buffers = this.offset > 0 ? [...this.sealed, this.current.subarray(0, this.offset)] : this.sealed;
    if (buffers.length === 0) return;
    const total = buffers.reduce((n, b) => n + b.length, 0);
    const { bytesWritten } = await this.handle.writev(buffers);
    if (bytesWritten < total) {
      // A short write (rare for files): write the rest in order.
      const rest = Buffer.concat(buffers).subarray(bytesWritten);
      for (let done = 0; done < rest.length;) done += (await this.handle.write(rest, done)).bytesWritten;
    }
    this.sealed = [];
    this.sealedBytes = 0;
    // The write has finished with these bytes: the buffer can be filled again.
    this.offset = 0;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.handle.close();
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

/** Bytes a text field can take at most (quotes doubled, 3 UTF-8 bytes per UTF-16 unit, its 3 marks). */
export function textBytes(value: string): number {
  return value.length * 6 + 3;
}

/**
 * DuckDB's CSV read buffer: 4 MB instead of its default 32 MB, which (held while the Parquet writer works
 * through the rows already read) was most of what grew between a 100,000- and a 1,000,000-row release.
 * Twice the longest line DuckDB accepts by default (max_line_size, 2 MB).
 */
const CSV_BUFFER_BYTES = 4 << 20;

/** `read_csv(...)` over a staged file with the given columns, nothing guessed. */
export function readStaged(path: string, columns: readonly [string, string][]): string {
  const spec = columns.map(([name, type]) => `${sqlString(name)}: ${sqlString(type)}`).join(', ');
  return `read_csv(${sqlString(path)}, header = false, delim = ',', quote = '"', escape = '"', new_line = '\\n', allow_quoted_nulls = false, auto_detect = false, buffer_size = ${CSV_BUFFER_BYTES}, columns = {${spec}})`;
}
