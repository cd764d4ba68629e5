import type { Readable } from 'node:stream';

export interface PresignedUpload {
  url: string;
  /** Headers the uploader must send with the PUT (they are part of the signature). */
  headers: Record<string, string>;
  expiresAt: number;
}

/**
 * Where image bytes live. Keys are slash-separated paths (`images/ab/<sha256>.png`); stores never
 * interpret them. The filesystem store serves one coordinator; the S3 store serves any number of
 * replicas, and can hand workers presigned URLs so uploads bypass the coordinator.
 */
export interface BlobStore {
  readonly kind: 'fs' | 's3';
  put(key: string, data: Buffer, contentType: string): Promise<void>;
  get(key: string): Promise<Buffer | undefined>;
  /** Reads at most `maxBytes`; throws BlobTooLargeError beyond that, so a hostile upload cannot exhaust memory. */
  getLimited(key: string, maxBytes: number): Promise<Buffer | undefined>;
  stream(key: string): Promise<Readable | undefined>;
  has(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Only stores that support direct uploads implement this. */
  presignUpload?(
    key: string,
    options: { contentType: string; expiresInSeconds: number },
  ): Promise<PresignedUpload>;
  close(): Promise<void>;
}

export class BlobTooLargeError extends Error {
  constructor(
    readonly key: string,
    readonly maxBytes: number,
  ) {
    super(`Blob ${key} is larger than ${maxBytes} bytes`);
  }
}

/** Content-addressed key of a stored image. */
export function imageKey(sha256: string): string {
  return `images/${sha256.slice(0, 2)}/${sha256}.png`;
}
