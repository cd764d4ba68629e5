import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openBlobStore } from './open-blob-store.js';
import { FsBlobStore } from './fs-store.js';
import { tempDir } from '../test-support/databases.js';
import { S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from '../test-support/s3-server.js';

describe('openBlobStore', () => {
  let s3: TestS3Server;
  before(async () => {
    s3 = await startS3Server();
    // BLOB_URL carries no secrets: the S3 store takes the usual AWS environment variables.
    process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;
  });
  after(() => s3.close());

  const s3Url = (path: string) =>
    `s3://${s3.bucket}${path}?endpoint=${encodeURIComponent(s3.endpoint)}&forcePathStyle=true&region=${s3.region}`;

  for (const [path, prefix] of [
    ['/tenant/a', 'tenant/a/'],
    ['/tenant/b/', 'tenant/b/'],
    ['', ''],
  ] as const) {
    test(`s3://bucket${path || ' (no prefix)'} builds a working store under "${prefix}"`, async () => {
      const store = openBlobStore(s3Url(path));
      try {
        assert.equal(store.kind, 's3');
        await store.put('images/ab/x.png', Buffer.from(`in ${path}`), 'image/png');
        assert.equal((await store.get('images/ab/x.png'))?.toString(), `in ${path}`);
        assert.equal((await s3.store.get(`${prefix}images/ab/x.png`))?.toString(), `in ${path}`);
        assert.ok(store.presignUpload, 'an S3 store presigns uploads');
        const p = await store.presignUpload('uploads/j/l.png', {
          contentType: 'image/png',
          expiresInSeconds: 30,
        });
        assert.equal(new URL(p.url).pathname, `/${s3.bucket}/${prefix}uploads/j/l.png`);
        await store.delete('images/ab/x.png');
        assert.equal(await s3.store.has(`${prefix}images/ab/x.png`), false);
      } finally {
        await store.close();
      }
    });
  }

  test('file: URLs (absolute, relative, file:///) open a filesystem store at that folder', async () => {
    const dir = tempDir('dreamfold-open-');
    const forms = [`file:${dir}`, `file:${relative(process.cwd(), dir)}`, pathToFileURL(dir).href, dir];
    for (const [i, url] of forms.entries()) {
      const store = openBlobStore(url);
      assert.equal(store.kind, 'fs', url);
      assert.equal(store.presignUpload, undefined);
      await store.put(`form-${i}.txt`, Buffer.from(url), 'text/plain');
    }
    const direct = new FsBlobStore(dir);
    for (const [i, url] of forms.entries()) {
      assert.equal((await direct.get(`form-${i}.txt`))?.toString(), url);
    }
    assert.equal(await direct.has(join('..', 'form-0.txt')).catch(() => 'refused'), 'refused');
  });
});
