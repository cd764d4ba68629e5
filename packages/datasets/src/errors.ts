// Every failure this package reports is a DatasetError with a stable `code` (for the CLI, the server and
// tests to branch on) and, where a file or an input row is at fault, which one: a release that stops at
// row 734,112 of a million says which image, and a broken previous release says which file.

export type DatasetErrorCode =
  | 'invalid_argument' // an impossible option: bad release name, shard size, salt …
  | 'output_not_empty' // the release folder already exists and holds files
  | 'unsorted_input' // image ids not strictly increasing (the caller must sort by id)
  | 'invalid_row' // an input row with a missing or mistyped field
  | 'embedding_dimension' // readEmbedding returned a vector of the wrong length
  | 'missing_blob' // readImage failed or returned nothing for an image
  | 'blob_mismatch' // the bytes readImage returned do not hash to the image's sha256
  | 'invalid_image' // the bytes are not a PNG
  | 'previous_missing' // the previous release folder or its manifest.json does not exist
  | 'previous_malformed' // the previous manifest is not a release manifest
  | 'previous_corrupt' // a previous release file is missing or its SHA-256 differs from its manifest
  | 'aborted'; // the caller's AbortSignal fired

export class DatasetError extends Error {
  readonly code: DatasetErrorCode;
  /** The file at fault, when there is one. */
  readonly file: string | undefined;

  constructor(code: DatasetErrorCode, message: string, file?: string, options?: { cause?: unknown }) {
    super(file === undefined ? message : `${file}: ${message}`, options);
    this.name = 'DatasetError';
    this.code = code;
    this.file = file;
  }
}

/** Throws the package's 'aborted' error when the signal has fired; called between units of work. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new DatasetError('aborted', 'release aborted', undefined, { cause: signal.reason });
}
