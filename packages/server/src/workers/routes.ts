import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CompleteUploadBody,
  FailBody,
  HeartbeatBody,
  HeartbeatResponse,
  IdParams,
  JobResult,
  JobStateResponse,
  LeaseQuery,
  PopBody,
  PopResponse,
  Problem,
  RegisteredWorker,
  RegisterWorkerBody,
  ReleaseBody,
  WorkerList,
} from '@dreamfold/protocol';
import { Type } from 'typebox';
import type { Services } from '../services.js';
import { userOf, workerOf } from '../http/auth.js';
import { bearerSecurity, problems } from '../http/schemas.js';
import { AppError } from '../errors.js';
import { popScreened } from '../safety/prompt-gate.js';

const workerProblems = { ...problems, 409: Problem, 413: Problem, 415: Problem, 422: Problem };

export const workerRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { workers, leases, config } = services;

  // --- donors manage their workers (user keys) ---
  app.post(
    '/v1/workers',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['workers'],
        summary: 'Register a worker; the answer holds its key, shown once.',
        security: bearerSecurity,
        body: RegisterWorkerBody,
        response: { 201: RegisteredWorker, ...problems, 422: Problem },
      },
    },
    async (req, reply) => {
      const { userId } = userOf(req);
      // Workers per new account and per IP, registrations per hour (trust/limits.ts).
      await services.trust.limits.check(userId, req.ip);
      const registered = await workers.register(userId, req.body.name);
      await services.trust.limits.record(registered.worker.id, req.ip);
      return reply.code(201).send(registered);
    },
  );

  app.get(
    '/v1/workers',
    {
      config: { auth: 'user' },
      schema: { tags: ['workers'], security: bearerSecurity, response: { 200: WorkerList, ...problems } },
    },
    async (req) => ({ items: await workers.list(userOf(req).userId) }),
  );

  app.delete(
    '/v1/workers/:id',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['workers'],
        summary: 'Revoke a worker key.',
        security: bearerSecurity,
        params: IdParams,
        response: { 204: Type.Null(), ...problems },
      },
    },
    async (req, reply) => {
      await workers.revoke(userOf(req).userId, req.params.id);
      return reply.code(204).send(null);
    },
  );

  // --- the worker protocol (worker keys) ---
  app.post(
    '/v1/workers/pop',
    {
      config: { auth: 'worker' },
      schema: {
        tags: ['worker protocol'],
        summary: 'Long-poll for the next job this worker can serve; { job: null } when none came in time.',
        security: bearerSecurity,
        body: PopBody,
        response: { 200: PopResponse, ...problems },
      },
    },
    async (req, reply) => {
      // The long-poll ends early when the worker hangs up or the server shuts down.
      // One controller for both ends of a long-poll: the worker hanging up, or the server shutting
      // down. Only aborted when still waiting (creating the abort reason is not free).
      const abort = new AbortController();
      const stop = () => {
        if (!reply.raw.writableFinished) abort.abort();
      };
      reply.raw.once('close', stop);
      leases.shutdownSignal.addEventListener('abort', stop, { once: true });
      try {
        // A paused worker waits out its poll and is told so (fairness/service.ts); a queued job whose
        // prompt a rule added since refuses is withdrawn instead of handed out (safety/prompt-gate.ts).
        const caller = workerOf(req);
        return await services.fairness.pop(caller, req.body, abort.signal, (mayWait) =>
          popScreened(services.promptFilter, leases, caller, req.body, abort.signal, mayWait),
        );
      } finally {
        leases.shutdownSignal.removeEventListener('abort', stop);
      }
    },
  );

  app.post(
    '/v1/jobs/:id/heartbeat',
    {
      config: { auth: 'worker' },
      schema: {
        tags: ['worker protocol'],
        summary: 'Extend the lease and report step progress; `cancelled: true` means stop.',
        security: bearerSecurity,
        params: IdParams,
        body: HeartbeatBody,
        response: { 200: HeartbeatResponse, ...workerProblems },
      },
    },
    async (req) => leases.heartbeat(workerOf(req), req.params.id, req.body),
  );

  // Raw PNG bodies: parsed as a Buffer, bounded by the route's body limit.
  app.addContentTypeParser(
    'image/png',
    { parseAs: 'buffer', bodyLimit: maxUploadBytes(config.maxPixels) },
    (_req, body, done) => done(null, body),
  );

  app.put(
    '/v1/jobs/:id/result',
    {
      config: { auth: 'worker' },
      bodyLimit: maxUploadBytes(config.maxPixels),
      schema: {
        tags: ['worker protocol'],
        summary: 'Upload the PNG result (Content-Type: image/png). It is validated, re-encoded and stored.',
        security: bearerSecurity,
        params: IdParams,
        querystring: LeaseQuery,
        // An empty schema: the bytes are checked by validateUpload, not by JSON Schema.
        consumes: ['image/png'],
        body: Type.Unsafe<Buffer>({ description: 'The PNG, as the raw request body.' }),
        response: { 200: JobResult, ...workerProblems },
      },
    },
    async (req) => {
      if (!Buffer.isBuffer(req.body)) {
        throw new AppError('unsupported_media_type', 'Send the PNG bytes with Content-Type: image/png.');
      }
      const result = await leases.submitResult(workerOf(req), req.params.id, req.query.leaseId, req.body);
      // What the job earned, for the worker's log: as posted with the result, else read (fairness/).
      return { ...result, receipt: result.receipt ?? (await services.fairness.receiptFor(result.jobId)) };
    },
  );

  app.post(
    '/v1/jobs/:id/complete',
    {
      config: { auth: 'worker' },
      schema: {
        tags: ['worker protocol'],
        summary: 'Finish a job whose PNG was uploaded to its presigned URL.',
        security: bearerSecurity,
        params: IdParams,
        body: CompleteUploadBody,
        response: { 200: JobResult, ...workerProblems },
      },
    },
    async (req) => {
      const result = await leases.completeUpload(
        workerOf(req),
        req.params.id,
        req.body.leaseId,
        req.body.key,
      );
      return { ...result, receipt: result.receipt ?? (await services.fairness.receiptFor(result.jobId)) };
    },
  );

  app.post(
    '/v1/jobs/:id/fail',
    {
      config: { auth: 'worker' },
      schema: {
        tags: ['worker protocol'],
        summary: 'Report that the job could not be done; it is retried elsewhere unless not retryable.',
        security: bearerSecurity,
        params: IdParams,
        body: FailBody,
        response: { 200: JobStateResponse, ...workerProblems },
      },
    },
    async (req) => ({ jobId: req.params.id, ...(await leases.fail(workerOf(req), req.params.id, req.body)) }),
  );

  app.post(
    '/v1/jobs/:id/release',
    {
      config: { auth: 'worker' },
      schema: {
        tags: ['worker protocol'],
        summary: 'Hand a job back without penalty (worker shutting down).',
        security: bearerSecurity,
        params: IdParams,
        body: ReleaseBody,
        response: { 200: JobStateResponse, ...workerProblems },
      },
    },
    async (req) => ({
      jobId: req.params.id,
      ...(await leases.release(workerOf(req), req.params.id, req.body.leaseId)),
    }),
  );
};

/** A PNG of n pixels is at most ~3n bytes plus framing; more than that is not a real result. */
export function maxUploadBytes(maxPixels: number): number {
  return maxPixels * 4 + 1024 * 1024;
}
