// Reads a release's rows from a SQLite file in a thread of its own, so that reading the database (about
// half of a release's CPU before its Parquet tables are written) runs beside the staging on the main
// thread instead of before it: on two cores the two overlap.
//
// The thread opens its own read-only connection and reads every stream inside one read transaction: in
// WAL mode that is one snapshot, so the images, ratings and preferences of a release all come from the
// same moment, whatever the coordinator commits meanwhile (a take-down during a release applies to the
// next one). While it is open, checkpoints cannot pass that snapshot; the WAL grows by what is written
// during the release and is reset afterwards (db/connect.ts limits what it keeps).
//
// Pages are read on request (keyset: each starts after the last id of the one before, which the thread
// remembers per stream), two requests ahead per stream, so at most two pages per stream wait in memory.
// A page travels as columns (one array per selected column): a structured clone of columns costs the
// receiving thread ~40 % less than the same values as rows. A stream that declares its columns' kinds
// travels packed instead (packedPageQuery below): SQLite itself joins each column of the page into one
// string, so neither better-sqlite3 nor the structured clone handles values one by one, and this thread
// splits the strings again (1,000,000 release images: 4.2–4.4 s wall and 5.5–5.6 CPU s for the read and
// the hand-over, against 5.9–6.4 s and 7.3–8.2 as columns).
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { CompiledQuery } from 'kysely';

/** A stream's statements: its first page, and every later page (after = the last id of the previous one). */
export interface ThreadStream {
  first: CompiledQuery;
  next: CompiledQuery;
  /** Position of the `after` parameter in `next` (set from the last row's column 0). */
  afterParameter: number;
  pageRows: number;
  /** The selected columns' aliases and kinds, in select order: given, the stream's pages travel packed. */
  packed?: PackedColumns;
}

/**
 * How a column of a packed page is written and read back: 'text' is never null, 'nullableText' may be,
 * 'number' (an integer or a real, or null) arrives as a JavaScript number.
 */
export type ColumnKind = 'text' | 'nullableText' | 'number';
export type PackedColumns = readonly (readonly [alias: string, kind: ColumnKind])[];

/** Between the values of a packed column (the unit separator, U+001F). */
const SEPARATOR = '\u001f';

/**
 * `query` (a page, its columns selected as `columns`) wrapped so that it answers one row: the page's row
 * count, the last keyset value (column 0), how many text values could not be packed (null where no null
 * may be, or holding the separator) and then, per column, its values joined by the separator, in the
 * page's order (every group_concat sees the rows in the same order, so the columns stay aligned; the
 * order itself is the ORDER BY of the page, whose ids the release checks). Nullable text is written with
 * a leading '=' (null as nothing); numbers in SQLite's own text form, which round-trips a double exactly
 * (tested); the parameters are the page's.
 */
export function packedPageQuery(query: CompiledQuery, columns: PackedColumns): CompiledQuery {
  const ref = (alias: string) => `"${alias.replaceAll('"', '""')}"`;
  const sep = 'char(31)';
  const unpackable = columns
    .filter(([, kind]) => kind !== 'number')
    .map(([alias, kind]) => `ifnull(instr(${ref(alias)}, ${sep}), ${kind === 'text' ? 1 : 0})`);
  const values = columns.map(([alias, kind]) => {
    const value = kind === 'nullableText' ? `'=' || ${ref(alias)}` : ref(alias);
    return `group_concat(${kind === 'text' ? value : `ifnull(${value}, '')`}, ${sep})`;
  });
  return {
    ...query,
    sql: `select count(*), max(${ref(columns[0]![0])}), ifnull(sum(${unpackable.join(' + ') || '0'}), 0), ${values.join(', ')} from (${query.sql})`,
  };
}

/** The columns of a packed page (its strings as packedPageQuery wrote them), as a plain page has them. */
function unpack(texts: readonly (string | null)[], rows: number, columns: PackedColumns): unknown[][] {
  return columns.map(([alias, kind], c) => {
    const pieces: unknown[] = (texts[c] ?? '').split(SEPARATOR);
    if (pieces.length !== rows) {
      // Only a number column holding text with the separator in it gets here (text is checked in SQL).
      throw new Error(
        `column ${alias} of a page could not be read back (${pieces.length} values for ${rows} rows)`,
      );
    }
    if (kind === 'nullableText') {
      for (let r = 0; r < rows; r++) {
        const p = pieces[r] as string;
        pieces[r] = p === '' ? null : p.slice(1);
      }
    } else if (kind === 'number') {
      for (let r = 0; r < rows; r++) {
        const p = pieces[r] as string;
        const n = p === '' ? null : Number(p);
        // SQLite writes an infinite real as 'Inf' / '-Inf' (a NaN it stores as null).
        pieces[r] = n !== n ? (p === 'Inf' ? Infinity : p === '-Inf' ? -Infinity : n) : n;
      }
    }
    return pieces;
  });
}

/** A page as columns: `columns[c][r]` is column c of row r; `rows` rows. */
export interface ColumnPage {
  columns: unknown[][];
  rows: number;
}

interface PageMessage {
  /** The stream of a page; -1 for the answers of one-off statements. */
  stream: number;
  columns?: unknown[][];
  /** A packed page's column strings (packedPageQuery), instead of columns. */
  packed?: (string | null)[];
  rows?: number;
  answers?: unknown[][][];
  error?: string;
}

// Plain CommonJS, evaluated in the thread: nothing to build, and the same code under tsx and from dist
// (as db/sqlite-checkpointer.ts).
const THREAD_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.module);
const message = (error) => String(error && error.message ? error.message : error);
let db;
let streams;
// A database that cannot be opened answers every request with the reason.
let failure;
try {
  db = new SQLite(workerData.path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  db.pragma('mmap_size = ' + workerData.mmapBytes);
  // One read transaction for the whole release: one snapshot (the first read below takes it).
  db.exec('BEGIN');
  streams = workerData.streams.map((s) => ({
    packedFirst: s.packedFirst && db.prepare(s.packedFirst).raw(true),
    packedNext: s.packedNext && db.prepare(s.packedNext).raw(true),
    first: db.prepare(s.first.sql).raw(true),
    firstParameters: s.first.parameters,
    next: db.prepare(s.next.sql).raw(true),
    nextParameters: s.next.parameters.slice(),
    afterParameter: s.afterParameter,
    pageRows: s.pageRows,
    after: undefined,
    done: false,
  }));
} catch (error) {
  failure = message(error);
}
// The stream's first statement, or its next one after the last key read, run with \`how\` ('all', 'get').
function run(s, first, next, how) {
  if (s.after === undefined) return first[how](...s.firstParameters);
  s.nextParameters[s.afterParameter] = s.after;
  return next[how](...s.nextParameters);
}
function page(s) {
  if (s.done) return { columns: [], rows: 0 };
  const rows = run(s, s.first, s.next, 'all');
  if (rows.length < s.pageRows) s.done = true;
  else s.after = rows[rows.length - 1][0];
  const width = rows.length > 0 ? rows[0].length : 0;
  const columns = new Array(width);
  for (let c = 0; c < width; c++) {
    const column = new Array(rows.length);
    for (let r = 0; r < rows.length; r++) column[r] = rows[r][c];
    columns[c] = column;
  }
  return { columns, rows: rows.length };
}
// A packed page (packedPageQuery), or the page as columns when a text value could not be packed.
function packedPage(s) {
  if (s.done) return { packed: [], rows: 0 };
  const answer = run(s, s.packedFirst, s.packedNext, 'get');
  if (answer[2] > 0) return page(s);
  const rows = answer[0];
  if (rows < s.pageRows) s.done = true;
  else s.after = answer[1];
  return { packed: answer.slice(3), rows };
}
parentPort.on('message', (m) => {
  if (m === 'close') {
    if (db) db.close();
    parentPort.close();
    return;
  }
  // A number asks for the next page of that stream; an array of statements for their rows, once.
  const stream = typeof m === 'number' ? m : -1;
  if (failure !== undefined) {
    parentPort.postMessage({ stream, error: failure });
    return;
  }
  try {
    if (stream === -1) {
      const answers = m.map((q) => db.prepare(q.sql).raw(true).all(...q.parameters));
      parentPort.postMessage({ stream, answers });
    } else {
      const s = streams[stream];
      parentPort.postMessage({ stream, ...(s.packedFirst ? packedPage(s) : page(s)) });
    }
  } catch (error) {
    parentPort.postMessage({ stream, error: message(error) });
  }
});
`;

/**
 * The database file is read through a memory map of up to this size (SQLite caps it at its compiled-in
 * maximum, 2 GB in better-sqlite3's build) instead of one read() call per page missing from the page cache.
 * A release reads each image's rows in id order, and the coordinator's ids are random UUIDs, so nearly every
 * table row it looks up lies on a page of its own: measured on a 1,000,000-image database with random-order
 * ids, the image read took 8.9–9.3 s mapped against 14.1–16.2 s through read() (a 256 MB page cache instead:
 * 15.0 s); on one whose ids follow the insertion order, 4.1 against 3.9 s. The mapped pages are the
 * operating system's page cache, shared and dropped under memory pressure, but they count in the process's
 * resident size while the release runs (docs/benchmarks.md: the bench's anonymous and file-backed peaks).
 * The file never shrinks under the map: the coordinator runs no VACUUM and leaves auto_vacuum off (SQLite's
 * default).
 */
export const RELEASE_READ_MMAP_BYTES = 2 ** 31;

/** Requests a stream keeps outstanding: the thread reads the next page while this one is converted. */
const AHEAD = 2;

type Waiter = { resolve: (m: PageMessage) => void; reject: (e: Error) => void };

export class SqliteReaderThread {
  /** Pages received and not yet taken, and the takers waiting for one, per stream. */
  private readonly received: PageMessage[][];
  private readonly waiting: Waiter[][];
  private readonly exited: Promise<void>;
  private failure: Error | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly streams: readonly ThreadStream[],
  ) {
    // Slot 0 for the answers of one-off statements, slot i + 1 for stream i.
    this.received = Array.from({ length: streams.length + 1 }, () => []);
    this.waiting = Array.from({ length: streams.length + 1 }, () => []);
    worker.on('message', (m: PageMessage) => {
      const waiter = this.waiting[m.stream + 1]!.shift();
      if (waiter) waiter.resolve(m);
      else this.received[m.stream + 1]!.push(m);
    });
    const fail = (error: Error) => {
      this.failure ??= error;
      for (const queue of this.waiting) for (const w of queue.splice(0)) w.reject(error);
    };
    worker.on('error', (error) => fail(new Error(`reading the release from SQLite: ${error.message}`)));
    this.exited = new Promise((resolve) =>
      worker.once('exit', () => {
        fail(new Error('the release reader thread stopped'));
        resolve();
      }),
    );
  }

  /** Starts the thread on the SQLite file `path`; `streams` are read in any order, each once. */
  static start(path: string, streams: readonly ThreadStream[]): SqliteReaderThread {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(THREAD_CODE, {
      eval: true,
      workerData: {
        path,
        module,
        mmapBytes: RELEASE_READ_MMAP_BYTES,
        streams: streams.map((s) => ({
          first: { sql: s.first.sql, parameters: s.first.parameters },
          next: { sql: s.next.sql, parameters: s.next.parameters },
          afterParameter: s.afterParameter,
          pageRows: s.pageRows,
          packedFirst: s.packed && packedPageQuery(s.first, s.packed).sql,
          packedNext: s.packed && packedPageQuery(s.next, s.packed).sql,
        })),
      },
    });
    return new SqliteReaderThread(worker, streams);
  }

  private take(stream: number): Promise<PageMessage> {
    const ready = this.received[stream + 1]!.shift();
    if (ready) return Promise.resolve(ready);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting[stream + 1]!.push({ resolve, reject }));
  }

  /**
   * Rows (as arrays) of each statement, read in the thread's snapshot: the first request made fixes the
   * snapshot, so statements asked for before any page count exactly what the streams will read.
   */
  async query(statements: readonly CompiledQuery[]): Promise<unknown[][][]> {
    this.worker.postMessage(statements.map((q) => ({ sql: q.sql, parameters: q.parameters })));
    const m = await this.take(-1);
    if (m.error !== undefined) throw new Error(`reading the release from SQLite: ${m.error}`);
    return m.answers!;
  }

  /** The pages of stream `index`, in order, read ahead by the thread. */
  async *pages(index: number, pageRows: number): AsyncGenerator<ColumnPage> {
    let requested = 0;
    for (; requested < AHEAD; requested++) this.worker.postMessage(index);
    for (;;) {
      const m = await this.take(index);
      requested--;
      if (m.error !== undefined) throw new Error(`reading the release from SQLite: ${m.error}`);
      const page: ColumnPage = {
        columns: m.packed ? this.unpacked(index, m.packed, m.rows!) : m.columns!,
        rows: m.rows!,
      };
      const last = page.rows < pageRows;
      // Ask for the next page before handing this one on (a full page may be followed by an empty one).
      if (!last) {
        this.worker.postMessage(index);
        requested++;
      }
      if (page.rows > 0) yield page;
      if (last) break;
    }
    // Requests still in flight after the last page answer with empty pages; take them so none is left.
    for (; requested > 0; requested--) await this.take(index);
  }

  private unpacked(index: number, packed: readonly (string | null)[], rows: number): unknown[][] {
    if (rows === 0) return [];
    try {
      return unpack(packed, rows, this.streams[index]!.packed!);
    } catch (error) {
      throw new Error(`reading the release from SQLite: ${(error as Error).message}`);
    }
  }

  /** Closes the thread's connection (ending its transaction); resolves once the thread has exited. */
  async close(): Promise<void> {
    this.worker.postMessage('close');
    await this.exited;
  }
}
