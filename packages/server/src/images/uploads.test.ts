import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, crc32 } from 'node:zlib';
import { readPngParameters } from '@dreamfold/protocol/png';
import { testDialects } from '../test-support/databases.js';
import { auth, solidPng, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { pop, registerWorker, submit, upload } from '../test-support/worker-client.js';

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A PNG whose header declares `side`×`side` RGB and whose image data inflates to `rows` rows. */
function declaredPng(side: number, rows: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.alloc(1 + side * 3);
  const idat = deflateSync(Buffer.concat(Array.from({ length: rows }, () => row)));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', idat),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A tiny PNG whose header claims 14000×14000: decoded, it would need ~588 MB. */
const bombPng = () => declaredPng(14000, 64);

for (const dialect of testDialects()) {
  describe(`untrusted uploads (${dialect})`, () => {
    let c: TestCoordinator;
    let worker: string;
    before(async () => {
      // 128×128 max: the upload body limit becomes 128*128*4 + 1 MiB.
      c = await startTestCoordinator({ dialect, env: { MAX_PIXELS: String(128 * 128) } });
      worker = await registerWorker(c, c.userKey);
    });
    after(() => c.shutdown());

    test('bad uploads get clear errors and the job stays recoverable', async () => {
      const g = (await submit(c, c.userKey, { model: 'uploads', width: 64, height: 64 })).json();
      const job = (await pop(c, worker, { models: ['uploads'] })).json().job;
      const good = await solidPng(64, 64, 3);
      const cases: [string, Buffer, number, string][] = [
        ['not an image', Buffer.from('hello, I am text'), 422, 'invalid_image'],
        [
          'a JPEG',
          Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46]),
          422,
          'invalid_image',
        ],
        ['wrong size', await solidPng(32, 32), 422, 'wrong_image_size'],
        ['decompression bomb', bombPng(), 422, 'image_too_large'],
        ['truncated PNG', good.subarray(0, Math.floor(good.length * 0.6)), 422, 'invalid_image'],
        ['a bad CRC', Buffer.concat([good.subarray(0, -4), Buffer.from('oops')]), 422, 'invalid_image'],
        // The right header, but image data that inflates to 10,000 rows (~1.9 MB) instead of 64.
        ['more image data than declared', declaredPng(64, 10_000), 422, 'invalid_image'],
        ['oversized body', Buffer.alloc(128 * 128 * 4 + 1024 * 1024 + 10, 1), 413, 'payload_too_large'],
      ];
      for (const [name, body, status, type] of cases) {
        const res = await upload(c, worker, job.id, job.leaseId, body);
        assert.equal(res.statusCode, status, `${name}: ${res.body}`);
        assert.equal(res.json().type, type, name);
        assert.doesNotMatch(res.body, /at .*\.(ts|js):\d+/, 'no stack trace');
      }
      const asJson = await c.app.inject({
        method: 'PUT',
        url: `/v1/jobs/${job.id}/result?leaseId=${job.leaseId}`,
        headers: { ...auth(worker), 'content-type': 'application/json' },
        payload: { not: 'an image' },
      });
      assert.equal(asJson.statusCode, 415, asJson.body);
      const still = (await c.app.inject({ url: `/v1/generations/${g.id}`, headers: auth(c.userKey) })).json();
      assert.equal(still.images[0].state, 'leased');
      const ok = await upload(c, worker, job.id, job.leaseId, good);
      assert.equal(ok.statusCode, 200, ok.body);
    });

    test('the stored image is our re-encoding: extra chunks are gone, the parameters chunk is ours', async () => {
      await submit(c, c.userKey, {
        model: 'reencode',
        width: 64,
        height: 64,
        prompt: 'a red fox, snow',
        negativePrompt: 'blurry',
        seed: 1234,
        steps: 12,
      });
      const job = (await pop(c, worker, { models: ['reencode'] })).json().job;
      const png = await solidPng(64, 64, 9);
      const iend = png.length - 12;
      const tampered = Buffer.concat([
        png.subarray(0, iend),
        chunk('tEXt', Buffer.from('Comment\0<script>alert(1)</script>', 'latin1')),
        chunk('tEXt', Buffer.from('parameters\0a forged prompt\nSteps: 1, Seed: 1', 'latin1')),
        png.subarray(iend),
        Buffer.from('trailing garbage'),
      ]);
      const res = await upload(c, worker, job.id, job.leaseId, tampered);
      assert.equal(res.statusCode, 200, res.body);
      const stored = await c.app.inject({ url: res.json().url, headers: auth(c.userKey) });
      assert.ok(!stored.rawPayload.includes(Buffer.from('<script>')));
      assert.ok(!stored.rawPayload.includes(Buffer.from('trailing garbage')));
      // A1111's format, which image viewers and SD tools read, written from the job, not the upload.
      const params = readPngParameters(stored.rawPayload);
      assert.equal(params?.prompt, 'a red fox, snow');
      assert.equal(params?.negativePrompt, 'blurry');
      assert.deepEqual(
        [params?.steps, params?.seed, params?.width, params?.height, params?.model],
        [12, 1234, 64, 64, 'reencode'],
      );
    });
  });
}
