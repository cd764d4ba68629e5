// Every error leaves as application/problem+json with a stable `type` code. 4xx for the caller's
// mistakes with what to fix; 5xx only for ours, with no internal detail (that goes to the log).
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { AppError, type ErrorCode } from '../errors.js';

export function sendProblem(reply: FastifyReply, err: AppError, instance?: string): FastifyReply {
  return reply.code(err.status).type('application/problem+json').send({
    type: err.code,
    title: err.title,
    status: err.status,
    detail: err.detail,
    instance,
    errors: err.fieldErrors,
  });
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'validation_failed',
  FST_ERR_CTP_INVALID_JSON_BODY: 'validation_failed',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_failed',
};

function toAppError(err: FastifyError): AppError | undefined {
  if (err instanceof AppError) return err;
  if (err.validation) {
    const fieldErrors = err.validation.map((v) => ({
      path: `${err.validationContext ?? 'body'}${v.instancePath || ''}`,
      message: v.message ?? 'is invalid',
    }));
    const summary = fieldErrors.map((f) => `${f.path}: ${f.message}`).join('; ');
    return new AppError('validation_failed', summary, fieldErrors);
  }
  if (err.statusCode === 429)
    return new AppError('rate_limited', 'Slow down and retry after the Retry-After delay.');
  const code = err.code ? FASTIFY_CODES[err.code] : undefined;
  if (code) return new AppError(code, err.message);
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return new AppError('validation_failed', err.message);
  }
  return undefined;
}

export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const known = toAppError(err);
    if (known) return sendProblem(reply, known, request.url);
    request.log.error({ err }, 'unhandled error');
    return sendProblem(
      reply,
      new AppError('internal', 'Something went wrong on our side; it has been logged.'),
    );
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, new AppError('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`)),
  );
}
