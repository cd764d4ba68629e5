// What only the S3 store does: presigned uploads and bounded reads of objects someone else wrote.
// s3rver does not check SigV4 signatures, so test-support/s3-server.ts checks presigned ones like S3 does;
// the shape of the URL is checked here as well, in our own code.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BlobTooLargeError } from './blob-store.js';
import { S3BlobStore } from './s3-store.js';
import { stagingKey } from '../workers/lease-service.js';
import { S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from '../test-support/s3-server.js';

const NOW = Date.UTC(2030, 0, 2, 3, 4, 5, 678);

describe('S3BlobStore presigned uploads', () => {
  let s3: TestS3Server;
  // The S3 server checks URLs against the same fixed clock the store signs with.
  before(async () => {
    s3 = await startS3Server({ now: () => NOW + 1000 });
  });
  after(() => s3.close());

  test('the URL targets exactly the prefixed key, lives for the TTL asked and signs the content type', async () => {
    const store = s3.createStore({ prefix: 'tenant/', now: () => NOW });
    const key = stagingKey('job1', 'lease1');
    const p = await store.presignUpload(key, { contentType: 'image/png', expiresInSeconds: 123 });
    const url = new URL(p.url);
    assert.equal(url.origin, s3.endpoint);
    assert.equal(url.pathname, `/${s3.bucket}/tenant/uploads/job1/lease1.png`);
    const q = url.searchParams;
    assert.equal(q.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256');
    assert.equal(q.get('X-Amz-Expires'), '123');
    assert.equal(q.get('X-Amz-Date'), '20300102T030405Z');
    assert.deepEqual(q.get('X-Amz-SignedHeaders')?.split(';'), ['content-type', 'host']);
    assert.match(q.get('X-Amz-Credential') ?? '', /^S3RVER\/20300102\/us-east-1\/s3\/aws4_request$/);
    // A checksum in the URL would be of the empty body; S3 would refuse every real upload against it.
    assert.deepEqual(
      [...q.keys()].filter((k) => k.toLowerCase().startsWith('x-amz-checksum')),
      [],
      p.url,
    );
    assert.deepEqual(p.headers, { 'content-type': 'image/png' });
    assert.equal(p.expiresAt, NOW + 123_000);
  });

  test('a PUT with the given headers lands in the bucket under the prefix', async () => {
    const store = s3.createStore({ prefix: 'tenant/', now: () => NOW });
    const key = stagingKey('job2', 'lease2');
    const p = await store.presignUpload(key, { contentType: 'image/png', expiresInSeconds: 60 });
    const body = Buffer.from('not checked by the store, only by the coordinator');
    const res = await fetch(p.url, { method: 'PUT', headers: p.headers, body });
    assert.equal(res.status, 200, await res.text());
    assert.deepEqual(await store.get(key), body);
    assert.deepEqual(await s3.store.get(`tenant/${key}`), body);
  });

  test('the URL admits no other content type, no other key, and nothing after it expired', async () => {
    const store = s3.createStore({ prefix: 'tenant/', now: () => NOW });
    const key = stagingKey('job3', 'lease3');
    const p = await store.presignUpload(key, { contentType: 'image/png', expiresInSeconds: 60 });
    const body = Buffer.from('payload');
    const refusedBefore = s3.refusedPresigned();

    const html = await fetch(p.url, { method: 'PUT', headers: { 'content-type': 'text/html' }, body });
    assert.equal(html.status, 403);
    assert.match(await html.text(), /SignatureDoesNotMatch/);

    const elsewhere = p.url.replace('/uploads/job3/lease3.png', '/images/aa/evil.png');
    const moved = await fetch(elsewhere, { method: 'PUT', headers: p.headers, body });
    assert.equal(moved.status, 403);
    assert.equal(await s3.store.has('tenant/images/aa/evil.png'), false);

    const longer = new URL(p.url);
    longer.searchParams.set('X-Amz-Expires', '604000');
    const extended = await fetch(longer, { method: 'PUT', headers: p.headers, body });
    assert.equal(extended.status, 403);

    const stale = await s3
      .createStore({ prefix: 'tenant/', now: () => NOW - 61_000 })
      .presignUpload(key, { contentType: 'image/png', expiresInSeconds: 60 });
    const late = await fetch(stale.url, { method: 'PUT', headers: stale.headers, body });
    assert.equal(late.status, 403);
    assert.match(await late.text(), /AccessDenied/);

    assert.equal(await store.has(key), false);
    assert.equal(s3.refusedPresigned() - refusedBefore, 4);
    // The untouched URL still works.
    const ok = await fetch(p.url, { method: 'PUT', headers: p.headers, body });
    assert.equal(ok.status, 200);
  });
});

describe('S3BlobStore bounded reads', () => {
  test('getLimited stops reading a body that has no length and never ends', { timeout: 20_000 }, async () => {
    // An endpoint that answers every GET with an endless chunked body (no Content-Length): an
    // implementation that buffered the object before checking the limit would never return.
    let sent = 0;
    let hungUp!: () => void;
    const hangUp = new Promise<void>((resolve) => (hungUp = resolve));
    const cap = 1024 * 1024 * 1024;
    const server = createServer((_req, res) => {
      const chunk = Buffer.alloc(64 * 1024, 1);
      let closed = false;
      res.on('close', () => {
        closed = true;
        hungUp();
      });
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const pump = (): void => {
        while (!closed && sent < cap) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        if (!closed) res.end();
      };
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const store = new S3BlobStore({
      bucket: 'endless',
      client: {
        endpoint: `http://127.0.0.1:${port}`,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: S3RVER_CREDENTIALS,
        maxAttempts: 1,
      },
    });
    try {
      await assert.rejects(store.getLimited('uploads/x.png', 256 * 1024), BlobTooLargeError);
      await hangUp;
      assert.ok(sent < cap, `the client read the whole ${sent} bytes`);
    } finally {
      await store.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
