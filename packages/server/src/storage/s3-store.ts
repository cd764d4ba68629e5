import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { BlobTooLargeError, type BlobStore, type PresignedUpload } from './blob-store.js';

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix inside the bucket, e.g. "dreamfold/". */
  prefix?: string;
  client: S3ClientConfig;
  now?: () => number;
}

/**
 * Blobs in an S3-compatible bucket, shared by every coordinator replica. Workers upload through presigned
 * PUT URLs scoped to one key and a short lifetime; the coordinator then reads the object back (bounded),
 * validates and re-encodes it before anything is published.
 */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3' as const;
  private readonly client: S3Client;
  private readonly prefix: string;
  private readonly now: () => number;

  constructor(private readonly options: S3StoreOptions) {
    this.client = new S3Client({
      // Newer SDKs add a CRC32 of the *empty* body to presigned PUT URLs (x-amz-checksum-crc32=AAAAAA==),
      // which S3 then holds every real upload against and refuses. Checksums only where S3 requires them.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      ...options.client,
    });
    this.prefix = options.prefix ?? '';
    this.now = options.now ?? Date.now;
  }

  private key(key: string): string {
    return this.prefix + key;
  }

  async put(key: string, data: Buffer, contentType: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: this.key(key),
        Body: data,
        ContentType: contentType,
      }),
    );
  }

  async stream(key: string): Promise<Readable | undefined> {
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }),
      );
      return out.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    return this.getLimited(key, Number.MAX_SAFE_INTEGER);
  }

  async getLimited(key: string, maxBytes: number): Promise<Buffer | undefined> {
    let out;
    try {
      out = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const body = out.Body as Readable;
    if (out.ContentLength !== undefined && out.ContentLength > maxBytes) {
      body.destroy();
      throw new BlobTooLargeError(key, maxBytes);
    }
    // Count while reading too: the declared length is the server's word, not a guarantee.
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of body) {
      total += (chunk as Buffer).length;
      if (total > maxBytes) {
        body.destroy();
        throw new BlobTooLargeError(key, maxBytes);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  async has(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }));
  }

  async presignUpload(
    key: string,
    options: { contentType: string; expiresInSeconds: number },
  ): Promise<PresignedUpload> {
    const command = new PutObjectCommand({
      Bucket: this.options.bucket,
      Key: this.key(key),
      ContentType: options.contentType,
    });
    const now = this.now();
    const url = await getSignedUrl(this.client, command, {
      expiresIn: options.expiresInSeconds,
      // The presigner leaves content-type unsigned unless asked; signed, the URL accepts only a PNG upload.
      signableHeaders: new Set(['content-type']),
      // Sign at the same instant expiresAt is computed from, so the two agree (and follow an injected clock).
      signingDate: new Date(now),
    });
    return {
      url,
      headers: { 'content-type': options.contentType },
      expiresAt: now + options.expiresInSeconds * 1000,
    };
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}
