// One contract, two stores: the filesystem store and the S3 store (against a real S3-compatible server)
// must behave the same to everything above them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BlobTooLargeError, imageKey, type BlobStore } from './blob-store.js';
import { FsBlobStore } from './fs-store.js';
import { tempDir } from '../test-support/databases.js';
import { startS3Server, type TestS3Server } from '../test-support/s3-server.js';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface StoreUnderTest {
  name: string;
  open(): Promise<BlobStore>;
  close(): Promise<void>;
}

let s3: TestS3Server | undefined;
const stores: StoreUnderTest[] = [
  {
    name: 'FsBlobStore',
    open: async () => new FsBlobStore(tempDir('dreamfold-blobs-')),
    close: async () => {},
  },
  {
    // SQLITE_SYNCHRONOUS=FULL: every blob flushed to the disk before put resolves.
    name: 'FsBlobStore, durable',
    open: async () => new FsBlobStore(tempDir('dreamfold-blobs-'), { durable: true }),
    close: async () => {},
  },
  {
    name: 'S3BlobStore',
    open: async () => {
      s3 = await startS3Server();
      return s3.createStore({ prefix: 'contract/' });
    },
    close: async () => s3?.close(),
  },
];

for (const under of stores) {
  describe(`blob store contract (${under.name})`, () => {
    let store: BlobStore;
    before(async () => {
      store = await under.open();
    });
    after(() => under.close());

    test('put then get, has, stream and delete round-trip the exact bytes', async () => {
      const key = imageKey('ab'.repeat(32));
      const data = randomBytes(300_000);
      assert.equal(await store.has(key), false);
      await store.put(key, data, 'image/png');
      assert.equal(await store.has(key), true);
      assert.deepEqual(await store.get(key), data);
      const stream = await store.stream(key);
      assert.ok(stream, 'the blob streams');
      assert.deepEqual(await readAll(stream), data);
      await store.delete(key);
      assert.equal(await store.has(key), false);
      assert.equal(await store.get(key), undefined);
    });

    test('put over an existing key replaces it', async () => {
      await store.put('replace/me.bin', Buffer.from('first'), 'application/octet-stream');
      await store.put('replace/me.bin', Buffer.from('second, longer'), 'application/octet-stream');
      assert.equal((await store.get('replace/me.bin'))?.toString(), 'second, longer');
    });

    test('missing keys read as undefined / false, and deleting one is not an error', async () => {
      assert.equal(await store.get('missing/key.png'), undefined);
      assert.equal(await store.getLimited('missing/key.png', 10), undefined);
      assert.equal(await store.stream('missing/key.png'), undefined);
      assert.equal(await store.has('missing/key.png'), false);
      await store.delete('missing/key.png');
      // A "folder" that exists only as the prefix of other keys is not a blob either.
      await store.put('folder/child.txt', Buffer.from('x'), 'text/plain');
      assert.equal(await store.has('folder'), false);
      assert.equal(await store.get('folder'), undefined);
      assert.equal(await store.getLimited('folder', 1), undefined);
      assert.equal(await store.stream('folder'), undefined);
    });

    test('getLimited returns blobs up to the limit and throws BlobTooLargeError beyond it', async () => {
      const data = randomBytes(4096);
      await store.put('limited/blob.bin', data, 'application/octet-stream');
      assert.deepEqual(await store.getLimited('limited/blob.bin', 4096), data);
      await assert.rejects(store.getLimited('limited/blob.bin', 4095), (err: unknown) => {
        assert.ok(err instanceof BlobTooLargeError, String(err));
        assert.equal(err.key, 'limited/blob.bin');
        assert.equal(err.maxBytes, 4095);
        return true;
      });
      // The refusal does not consume or damage the blob.
      assert.deepEqual(await store.get('limited/blob.bin'), data);
    });

    test('a large blob over the limit is refused', async () => {
      await store.put('limited/big.bin', randomBytes(8 * 1024 * 1024), 'application/octet-stream');
      await assert.rejects(store.getLimited('limited/big.bin', 1024), BlobTooLargeError);
    });
  });
}

describe('FsBlobStore keys', () => {
  test('refuses keys that escape its root, without touching anything outside', async () => {
    const parent = tempDir('dreamfold-escape-');
    const root = join(parent, 'root');
    await mkdir(root);
    await writeFile(join(parent, 'secret.txt'), 'outside');
    const store: BlobStore = new FsBlobStore(root);
    for (const key of ['../secret.txt', 'a/../../secret.txt', '..', '', '.']) {
      await assert.rejects(store.get(key), /Invalid blob key/, key);
      await assert.rejects(store.getLimited(key, 100), /Invalid blob key/, key);
      await assert.rejects(store.stream(key), /Invalid blob key/, key);
      await assert.rejects(store.has(key), /Invalid blob key/, key);
      await assert.rejects(store.put(key, Buffer.from('x'), 'text/plain'), /Invalid blob key/, key);
      await assert.rejects(store.delete(key), /Invalid blob key/, key);
    }
    const survivor = new FsBlobStore(parent);
    assert.equal((await survivor.get('secret.txt'))?.toString(), 'outside');
  });

  test('small and large blobs land whole, also after their folder was removed behind the store', async () => {
    const root = tempDir('dreamfold-folders-');
    const store: BlobStore = new FsBlobStore(root);
    const small = randomBytes(1000);
    const large = randomBytes(200_000); // written off the event loop
    await store.put('f/small.bin', small, 'application/octet-stream');
    await store.put('f/large.bin', large, 'application/octet-stream');
    await rm(join(root, 'f'), { recursive: true });
    await store.put('f/small.bin', small, 'application/octet-stream');
    await store.put('f/large.bin', large, 'application/octet-stream');
    assert.deepEqual(await store.get('f/small.bin'), small);
    assert.deepEqual(await store.get('f/large.bin'), large);
    assert.deepEqual(
      (await readdir(join(root, 'f'))).sort(),
      ['large.bin', 'small.bin'],
      'no temp files left',
    );
  });

  test('keys that stay inside the root after normalisation are fine', async () => {
    const store: BlobStore = new FsBlobStore(tempDir('dreamfold-inside-'));
    await store.put('a/./b/../c.txt', Buffer.from('ok'), 'text/plain');
    assert.equal((await store.get('a/c.txt'))?.toString(), 'ok');
  });
});
