import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CreateGenerationBody,
  Generation,
  GenerationList,
  IdempotencyHeaders,
  IdParams,
  ListQuery,
  Problem,
  GENERATION_DEFAULTS,
} from '@dreamfold/protocol';
import { Type } from 'typebox';
import type { Services } from '../services.js';
import { isStaff, userOf } from '../http/auth.js';
import { bearerSecurity, problems } from '../http/schemas.js';
import { notFound } from '../errors.js';
import { imageKey } from '../storage/blob-store.js';
import { streamGenerationEvents } from './event-stream.js';
import { assertMayGenerate } from '../accounts/generation-access.js';

export const generationRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const { generations, blobs } = services;
  const viewer = (req: Parameters<typeof userOf>[0]) => {
    const user = userOf(req);
    return { userId: user.userId, staff: isStaff(user) };
  };

  app.post(
    '/v1/generations',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['generations'],
        summary: 'Ask for images: one job per image, queued by priority then age.',
        security: bearerSecurity,
        headers: IdempotencyHeaders,
        body: CreateGenerationBody,
        response: { 201: Generation, 402: Problem, 422: Problem, ...problems },
      },
    },
    async (req, reply) => {
      const user = userOf(req);
      assertMayGenerate(user, await services.accessStage.current());
      // The prompt filter (moderation/prompt-filter.ts) refuses before anything is priced or queued.
      await services.promptFilter.check([
        { path: 'body/prompt', label: 'prompt', text: req.body.prompt },
        { path: 'body/negativePrompt', label: 'negative prompt', text: req.body.negativePrompt },
      ]);
      // A request no recently seen worker can serve is answered now, not left waiting (fairness/).
      await services.requesters.assertServable({
        model: req.body.model,
        width: req.body.width ?? GENERATION_DEFAULTS.width,
        height: req.body.height ?? GENERATION_DEFAULTS.height,
        steps: req.body.steps ?? GENERATION_DEFAULTS.steps,
        maxSecondsPerImage: req.body.maxSecondsPerImage,
      });
      const answer = await generations.create(user.userId, req.body, req.headers['idempotency-key']);
      if (answer.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send(answer.body);
    },
  );

  app.get(
    '/v1/generations',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['generations'],
        security: bearerSecurity,
        querystring: ListQuery,
        response: { 200: GenerationList, ...problems },
      },
    },
    async (req) => {
      const list = await generations.list(userOf(req).userId, req.query.limit ?? 20, req.query.cursor);
      // Each finished image's safety view (blur, hidden and why): see safety/service.ts.
      return { ...list, items: await services.safety.describe(list.items) };
    },
  );

  app.get(
    '/v1/generations/:id',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['generations'],
        security: bearerSecurity,
        params: IdParams,
        response: { 200: Generation, ...problems },
      },
    },
    async (req) => {
      const g = await services.safety.describeOne(await generations.get(viewer(req), req.params.id));
      // An ETA from the measured speeds of the workers that can serve it (fairness/requesters.ts).
      return { ...g, eta: await services.requesters.eta(g) };
    },
  );

  app.delete(
    '/v1/generations/:id',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['generations'],
        summary: 'Cancel every image that has not finished.',
        security: bearerSecurity,
        params: IdParams,
        response: { 200: Generation, ...problems },
      },
    },
    async (req) => generations.cancel(viewer(req), req.params.id),
  );

  app.get(
    '/v1/generations/:id/events',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['generations'],
        summary:
          'Server-sent events: snapshot, queued, started, progress, image, requeued, failed, cancelled, finished.',
        security: bearerSecurity,
        params: IdParams,
        produces: ['text/event-stream'],
        response: { 200: Type.String({ description: 'text/event-stream' }), ...problems },
      },
    },
    async (req, reply) => {
      await generations.owned(viewer(req), req.params.id);
      return streamGenerationEvents(services, req, reply, viewer(req), req.params.id);
    },
  );

  app.get(
    '/v1/generations/:id/images/:index',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['generations'],
        summary: 'The PNG of one finished image.',
        security: bearerSecurity,
        params: Type.Object({ id: IdParams.properties.id, index: Type.Integer({ minimum: 0, maximum: 3 }) }),
        produces: ['image/png'],
        response: { 200: Type.Unsafe<Buffer | Readable>({ type: 'string', format: 'binary' }), ...problems },
      },
    },
    async (req, reply) => {
      const sha256 = await generations.imageSha256(viewer(req), req.params.id, req.params.index);
      const body = await blobs.stream(imageKey(sha256));
      if (!body) throw notFound('Image file');
      return reply
        .type('image/png')
        .header('cache-control', 'private, max-age=31536000, immutable')
        .header('etag', `"${sha256}"`)
        .send(body);
    },
  );
};
