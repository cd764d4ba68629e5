import { fileURLToPath } from 'node:url';
import type { BlobStore } from './blob-store.js';
import { FsBlobStore } from './fs-store.js';
import { S3BlobStore } from './s3-store.js';

/**
 * BLOB_URL → a store.
 *  - `file:/abs/path` or `file:relative/path`: files on this machine.
 *  - `s3://bucket/optional/prefix?region=eu-central-1&endpoint=https://…&forcePathStyle=true`:
 *    credentials come from the usual AWS environment variables / profiles.
 * `durable`: files are flushed to the disk before a put resolves (see FsBlobStore).
 */
export function openBlobStore(url: string, options: { durable?: boolean } = {}): BlobStore {
  if (url.startsWith('s3://')) {
    const u = new URL(url);
    const prefix = u.pathname.replace(/^\//, '');
    return new S3BlobStore({
      bucket: u.hostname,
      prefix: prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix,
      client: {
        region: u.searchParams.get('region') ?? process.env.AWS_REGION ?? 'us-east-1',
        endpoint: u.searchParams.get('endpoint') ?? undefined,
        forcePathStyle: u.searchParams.get('forcePathStyle') === 'true',
      },
    });
  }
  if (url.startsWith('file://')) return new FsBlobStore(fileURLToPath(url), options);
  return new FsBlobStore(url.replace(/^file:/, ''), options);
}
