// Serves the web app (packages/web, built by Vite into packages/web/dist) at `/`: hashed assets with a
// year-long immutable cache, pre-compressed (brotli/gzip) when the browser accepts it; every other GET
// that is not an API or system path answers index.html, so client-side routes like /generate or
// /verify-email?token=… work on reload and from email links. Without a build, `/` explains how to make one.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';

/** packages/web/dist, from both packages/server/src/http and packages/server/dist/http. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/** Paths the app never answers for: the API and the system routes keep their own 404s. */
const NOT_APP = /^\/(v1|docs|openapi\.json|metrics|healthz|readyz)(\/|$|\?)/;

/**
 * No inline scripts or styles (React sets styles through the CSSOM, which CSP allows); images may be
 * blob:/data: URLs made in the page (downloads, previews); everything else from this origin only.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
} as const;

/** What `/` shows when packages/web has not been built: how to build it, and where the API is. */
function notBuiltPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Dreamfold</title></head>
<body><main><h1>Dreamfold</h1>
<p>An open, volunteer-powered text-to-image platform. The web app is not built on this server: run
<code>npm run build</code> (or <code>npm start</code>, which builds first) and restart.</p>
<ul><li><a href="/docs">API documentation</a> (<a href="/openapi.json">OpenAPI 3.1</a>)</li>
<li><a href="/v1/stats">Live figures</a></li></ul></main></body></html>`;
}

export interface WebAppOptions {
  /** The built app (index.html + assets/). */
  root?: string;
}

export const webApp: FastifyPluginAsync<WebAppOptions> = async (app, options) => {
  const root = options.root ?? DEFAULT_WEB_ROOT;
  // Everything this plugin serves is public; the auth hook refuses routes that do not say so.
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config as object), auth: 'public' };
  });
  const indexFile = join(root, 'index.html');

  if (!existsSync(indexFile)) {
    app.log.warn({ root }, 'the web app is not built; `/` shows a placeholder (run `npm run build`)');
    app.get('/', { schema: { hide: true } }, async (_req, reply) =>
      reply
        .headers(SECURITY_HEADERS)
        .header('cache-control', 'no-cache')
        .type('text/html; charset=utf-8')
        .send(notBuiltPage()),
    );
    return;
  }

  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    // One route per file found at start, instead of a catch-all that would swallow the SPA fallback.
    wildcard: false,
    index: false,
    preCompressed: true,
    cacheControl: false,
    decorateReply: false,
    globIgnore: ['**/*.br', '**/*.gz'],
    setHeaders: (res, path) => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
      // Vite puts a content hash in every name under assets/: such a file never changes.
      const hashed = /[\\/]assets[\\/]/.test(path);
      res.setHeader('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });

  const sendIndex = async (reply: FastifyReply) => {
    // Read per request: a rebuild (new asset hashes) is picked up without a restart.
    const html = await readFile(indexFile);
    return reply
      .headers(SECURITY_HEADERS)
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(html);
  };

  app.get('/', { schema: { hide: true } }, async (_req, reply) => sendIndex(reply));
  app.get('/*', { schema: { hide: true } }, async (req, reply) => {
    // Unknown API paths and missing files (a stale asset URL, /robots.txt) are 404s, not the app.
    const path = req.url.split('?')[0] ?? '';
    if (NOT_APP.test(path) || path.startsWith('/assets/') || /\.[a-z0-9]+$/i.test(path))
      return reply.callNotFound();
    return sendIndex(reply);
  });
};
