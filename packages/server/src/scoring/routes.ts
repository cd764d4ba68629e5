// HTTP for aesthetic scoring: the worker's embedding of the image it delivers (fenced by its lease), and
// the admin's predictor install and progress view.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AestheticPredictorInfo,
  IdParams,
  ImageEmbeddingAccepted,
  ImageEmbeddingBody,
  Problem,
  ScoringStatus,
} from '@dreamfold/protocol';
import { Type } from 'typebox';
import type { Services } from '../services.js';
import { AppError } from '../errors.js';
import { userOf, workerOf } from '../http/auth.js';
import { bearerSecurity, problems } from '../http/schemas.js';

/** A 768-d predictor is ~3.7 MB of float32; 64 MB leaves room for wider embeddings and float64 files. */
export const MAX_PREDICTOR_BYTES = 64 * 1024 * 1024;

export const scoringRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { scoring } = services;

  app.put(
    '/v1/jobs/:id/embedding',
    {
      config: { auth: 'worker' },
      schema: {
        tags: ['worker protocol'],
        summary:
          'The CLIP image embedding of the result delivered under this lease. Optional; images with one are ' +
          'scored by the aesthetic predictor and ship it in dataset releases. Send it before the PNG: only ' +
          'then is it compared with another worker’s when the result is verified, and after the PNG it ' +
          'cannot be replaced by a different one (409).',
        security: bearerSecurity,
        params: IdParams,
        body: ImageEmbeddingBody,
        response: { 200: ImageEmbeddingAccepted, ...problems, 409: Problem },
      },
    },
    async (req) => scoring.storeEmbedding(workerOf(req), req.params.id, req.body),
  );

  // The safetensors bytes as the raw body; only this plugin's routes see this parser.
  app.addContentTypeParser(
    'application/octet-stream',
    { parseAs: 'buffer', bodyLimit: MAX_PREDICTOR_BYTES },
    (_req, body, done) => done(null, body),
  );

  app.put(
    '/v1/admin/aesthetics/predictor',
    {
      config: { auth: 'admin' },
      bodyLimit: MAX_PREDICTOR_BYTES,
      schema: {
        tags: ['admin'],
        summary:
          'Install an aesthetic predictor (the safetensors file `dreamfold aesthetics train` writes, ' +
          'Content-Type: application/octet-stream). It becomes current and every image is scored again.',
        security: bearerSecurity,
        consumes: ['application/octet-stream'],
        body: Type.Unsafe<Buffer>({ description: 'The model file, as the raw request body.' }),
        response: { 200: AestheticPredictorInfo, ...problems, 413: Problem, 415: Problem },
      },
    },
    async (req) => {
      if (!Buffer.isBuffer(req.body)) {
        throw new AppError(
          'unsupported_media_type',
          'Send the model file with Content-Type: application/octet-stream.',
        );
      }
      return scoring.install(req.body, userOf(req).userId);
    },
  );

  app.get(
    '/v1/admin/aesthetics/scoring',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'The current predictor and how far scoring and re-scoring have come.',
        security: bearerSecurity,
        response: { 200: ScoringStatus, ...problems },
      },
    },
    async () => scoring.status(),
  );
};
