// Annotation tasks over HTTP: take a task, see its images, answer it, see your standing; an image's
// aggregates for its owner and staff. Gold items for moderators are in admin-routes.ts.
import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AnnotationAnswer,
  AnswerAnnotationBody,
  IdempotencyHeaders,
  IdParams,
  ImageAnnotationStats,
  ImageIdParams,
  MyAnnotations,
  NextAnnotation,
  NextAnnotationQuery,
  Problem,
  TaskImageParams,
} from '@dreamfold/protocol';
import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { Services } from '../services.js';
import { isStaff, userOf } from '../http/auth.js';
import { bearerSecurity, problems } from '../http/schemas.js';
import { AppError, notFound } from '../errors.js';
import { imageKey } from '../storage/blob-store.js';

/** Annotating earns credits, so it needs a confirmed email (throwaway accounts would farm them). */
function annotator(req: FastifyRequest): string {
  const user = userOf(req);
  if (!user.emailVerified) {
    throw new AppError('forbidden', 'Confirm your email first: annotation tasks need a confirmed address.');
  }
  return user.userId;
}

export const annotationRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const { blobs } = services;
  const { tasks: annotations, answers } = services.annotations;

  app.get(
    '/v1/annotations/next',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['annotations'],
        summary:
          'Hands you a task of this kind (never your own images, never one you had) that you may answer until it expires.',
        security: bearerSecurity,
        querystring: NextAnnotationQuery,
        response: { 200: NextAnnotation, 409: Problem, ...problems },
      },
    },
    async (req) => annotations.next(annotator(req), req.query.kind),
  );

  app.post(
    '/v1/annotations/:id',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['annotations'],
        summary: 'Answers a task handed to you: once, before it expires. Earns credits, paced per hour.',
        security: bearerSecurity,
        params: IdParams,
        headers: IdempotencyHeaders,
        body: AnswerAnnotationBody,
        response: { 200: AnnotationAnswer, 409: Problem, 410: Problem, 422: Problem, ...problems },
      },
    },
    async (req, reply) => {
      const answer = await answers.answer(
        annotator(req),
        req.params.id,
        req.body,
        req.headers['idempotency-key'],
      );
      if (answer.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(200).send(answer.body);
    },
  );

  app.get(
    '/v1/annotations/:id/images/:index',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['annotations'],
        summary: 'The PNG of image 0 (or 1, pairwise) of a task handed to you.',
        security: bearerSecurity,
        params: TaskImageParams,
        produces: ['image/png'],
        response: { 200: Type.Unsafe<Buffer | Readable>({ type: 'string', format: 'binary' }), ...problems },
      },
    },
    async (req, reply) => {
      const sha256 = await annotations.taskImage(userOf(req).userId, req.params.id, req.params.index);
      const body = await blobs.stream(imageKey(sha256));
      if (!body) throw notFound('Image file');
      // No ETag: the content hash would tell a rater which image this is across tasks.
      return reply.type('image/png').header('cache-control', 'private, max-age=3600').send(body);
    },
  );

  app.get(
    '/v1/me/annotations',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['annotations'],
        summary:
          'What you annotated, what it earned, your agreement score, and whether earning is paused and why.',
        security: bearerSecurity,
        response: { 200: MyAnnotations, ...problems },
      },
    },
    async (req) => annotations.mine(userOf(req).userId),
  );

  app.get(
    '/v1/annotations/images/:imageId',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['annotations'],
        summary:
          'An image’s aggregates (rating mean, count and standard deviation; pairwise wins, losses and ties; flag counts), counting only raters in good standing. For its owner and staff.',
        security: bearerSecurity,
        params: ImageIdParams,
        response: { 200: ImageAnnotationStats, ...problems },
      },
    },
    async (req) => {
      const user = userOf(req);
      return annotations.imageStats({ userId: user.userId, staff: isStaff(user) }, req.params.imageId);
    },
  );
};
