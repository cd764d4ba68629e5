// Every failure this package reports is an AestheticsError with a stable `code` (for the CLI and callers
// to branch on) and, where a file is at fault, that file's path, so a researcher with thousands of
// shards can tell which one is broken.

export type AestheticsErrorCode =
  | 'npy_magic' // not a .npy file
  | 'npy_version' // unknown .npy format version
  | 'npy_header' // header dict unreadable
  | 'npy_dtype' // dtype other than '<f2' / '<f4'
  | 'npy_fortran_order' // column-major data
  | 'npy_shape' // not a 2-D [N, D] array
  | 'dimension_mismatch' // D differs from the expected embedding dimension
  | 'truncated' // fewer bytes than the header promises
  | 'trailing_bytes' // more bytes than the header promises
  | 'row_count_mismatch' // embeddings and metadata/ratings disagree on N
  | 'missing_pair' // an img_emb file without its metadata file, or the reverse
  | 'no_pairs' // an input folder with no embedding/metadata pairs at all
  | 'missing_column' // a parquet file without the column asked for
  | 'parquet_unreadable' // not a Parquet file, or a truncated or corrupt one
  | 'model_format' // model file unreadable or inconsistent
  | 'model_dtype' // a tensor type we do not read
  | 'invalid_argument' // a caller passed an impossible option
  | 'state_mismatch' // a resume state written for other thresholds / another model
  | 'aborted'; // the caller's AbortSignal fired

export class AestheticsError extends Error {
  readonly code: AestheticsErrorCode;
  readonly file: string | undefined;

  constructor(code: AestheticsErrorCode, message: string, file?: string, options?: { cause?: unknown }) {
    super(file === undefined ? message : `${file}: ${message}`, options);
    this.name = 'AestheticsError';
    this.code = code;
    this.file = file;
  }
}

/** Throws the package's 'aborted' error when the signal has fired; called between units of work. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new AestheticsError('aborted', 'operation aborted', undefined, { cause: signal.reason });
}
