// The public gallery over HTTP. Anyone may read public images; a credential, when sent, lets owners and
// staff also reach images that are not public (hidden or withdrawn) — for everyone else those are 404.
import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Gallery, GalleryQuery, IdParams, ImageDetail } from '@dreamfold/protocol';
import { Type } from 'typebox';
import type { Services } from '../services.js';
import { isStaff, optionalUserOf } from '../http/auth.js';
import { problems } from '../http/schemas.js';
import { notFound } from '../errors.js';
import { imageKey } from '../storage/blob-store.js';
import { THUMB_SIDE } from './thumbnails.js';
import type { StoredImage, Viewer } from './service.js';

const Binary = Type.Unsafe<Buffer | Readable>({ type: 'string', format: 'binary' });
const NotModified = Type.Null({ description: 'Not modified (If-None-Match matched the ETag).' });

// Browsers keep an image for a year (its bytes never change: the ETag is its SHA-256). Shared caches
// (CDNs, proxies) keep it ten minutes, so a take-down reaches them within that. Images that are not
// public are shown to their owner and staff only and must never sit in a shared cache.
const PUBLIC_CACHE = 'public, max-age=31536000, s-maxage=600';
const PRIVATE_CACHE = 'private, no-store';

function viewerOf(req: FastifyRequest): Viewer {
  const user = optionalUserOf(req);
  return user ? { userId: user.userId, staff: isStaff(user) } : undefined;
}

/** Sets the caching headers; true when the client's copy is current (answer 304). */
function cacheHeaders(req: FastifyRequest, reply: FastifyReply, image: StoredImage, etag: string): boolean {
  reply.header('etag', etag).header('cache-control', image.public ? PUBLIC_CACHE : PRIVATE_CACHE);
  const sent = req.headers['if-none-match'];
  return typeof sent === 'string' && sent.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

export const imageRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { images, blobs } = services;

  app.get(
    '/v1/images',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['images'],
        summary: 'The public gallery: search prompts, newest or best-scored first.',
        querystring: GalleryQuery,
        response: { 200: Gallery, ...problems },
      },
    },
    async (req) => images.list(req.query),
  );

  app.get(
    '/v1/images/:id',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['images'],
        summary: 'One image: its generation parameters, scores and rating aggregates.',
        params: IdParams,
        response: { 200: ImageDetail, ...problems },
      },
    },
    async (req) => images.get(viewerOf(req), req.params.id),
  );

  app.get(
    '/v1/images/:id/file',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['images'],
        summary: 'The PNG (ETag: its SHA-256).',
        params: IdParams,
        produces: ['image/png'],
        response: { 200: Binary, 304: NotModified, ...problems },
      },
    },
    async (req, reply) => {
      const image = await images.file(viewerOf(req), req.params.id);
      if (cacheHeaders(req, reply, image, `"${image.sha256}"`)) return reply.code(304).send(null);
      const body = await blobs.stream(imageKey(image.sha256));
      if (!body) throw notFound('Image file');
      return reply.type('image/png').send(body);
    },
  );

  app.get(
    '/v1/images/:id/thumb',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['images'],
        summary: `A WebP thumbnail at most ${THUMB_SIDE} pixels on its longer side.`,
        params: IdParams,
        produces: ['image/webp'],
        response: { 200: Binary, 304: NotModified, ...problems },
      },
    },
    async (req, reply) => {
      const image = await images.file(viewerOf(req), req.params.id);
      if (cacheHeaders(req, reply, image, `"${image.sha256}-t${THUMB_SIDE}"`))
        return reply.code(304).send(null);
      const thumb = await images.thumbnail(image);
      return reply.type('image/webp').send(thumb);
    },
  );
};
