// The web app's serving rules, on a stand-in build (no Vite needed): hashed assets cached for a year and
// pre-compressed, index.html for client-side routes with a strict CSP, API and file paths keep their
// 404s, and a placeholder when the app is not built.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync } from 'node:zlib';
import { startTestCoordinator, tempDir, type TestCoordinator } from '../test-support/index.js';
import { CONTENT_SECURITY_POLICY } from './web-app.js';

const INDEX =
  '<!doctype html><html><head><script type="module" src="/assets/index-AbC123.js"></script></head><body><div id="root"></div></body></html>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});`;

describe('serving the web app', () => {
  let c: TestCoordinator;
  before(async () => {
    const root = tempDir();
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'index.html'), INDEX);
    writeFileSync(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(join(root, 'assets', 'index-AbC123.js'), SCRIPT);
    writeFileSync(join(root, 'assets', 'index-AbC123.js.br'), brotliCompressSync(SCRIPT));
    c = await startTestCoordinator({ dialect: 'sqlite', build: { webRoot: root } });
  });
  after(() => c.shutdown());

  it('answers index.html with a strict CSP at / and at every client-side route', async () => {
    for (const url of [
      '/',
      '/generate',
      '/verify-email?token=abc',
      '/images/some_0',
      '/moderation?tab=reports',
    ]) {
      const res = await c.app.inject({ url });
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.body, INDEX, url);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.equal(res.headers['cache-control'], 'no-cache');
      assert.equal(res.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
      assert.match(CONTENT_SECURITY_POLICY, /script-src 'self';/);
      assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval/);
    }
  });

  it('serves hashed assets for a year, brotli-compressed when accepted', async () => {
    const plain = await c.app.inject({ url: '/assets/index-AbC123.js' });
    assert.equal(plain.statusCode, 200);
    assert.equal(plain.body, SCRIPT);
    assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.match(String(plain.headers['content-type']), /javascript/);
    const br = await c.app.inject({
      url: '/assets/index-AbC123.js',
      headers: { 'accept-encoding': 'br, gzip' },
    });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(brotliDecompressSync(br.rawPayload).toString(), SCRIPT);
    const favicon = await c.app.inject({ url: '/favicon.svg' });
    assert.equal(favicon.statusCode, 200);
    assert.equal(favicon.headers['cache-control'], 'no-cache');
  });

  it('keeps 404 problems for unknown API paths, missing assets and files', async () => {
    for (const url of ['/v1/nope', '/v1', '/assets/index-Old999.js', '/robots.txt', '/metrics/x']) {
      const res = await c.app.inject({ url });
      assert.equal(res.statusCode, 404, url);
      assert.match(String(res.headers['content-type']), /application\/problem\+json/, url);
    }
    assert.equal((await c.app.inject({ url: '/healthz' })).statusCode, 200);
    assert.equal((await c.app.inject({ url: '/v1/stats' })).statusCode, 200);
    assert.equal((await c.app.inject({ method: 'POST', url: '/generate' })).statusCode, 404);
  });
});

describe('without a built web app', () => {
  it('explains at / how to build it', async () => {
    const c = await startTestCoordinator({ dialect: 'sqlite', build: { webRoot: tempDir() } });
    try {
      const res = await c.app.inject({ url: '/' });
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /npm run build/);
      assert.equal((await c.app.inject({ url: '/generate' })).statusCode, 404);
    } finally {
      await c.shutdown();
    }
  });
});
