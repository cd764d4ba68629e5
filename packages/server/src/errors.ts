// Errors are values with stable codes. Route handlers throw AppError; the error handler turns every error
// into application/problem+json and never leaks a stack trace or an internal message.
export type ErrorCode =
  | 'validation_failed'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'idempotency_conflict'
  | 'lease_lost'
  | 'job_cancelled'
  | 'invalid_image'
  | 'image_too_large'
  | 'wrong_image_size'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'limit_exceeded'
  | 'rate_limited'
  | 'insufficient_credits'
  | 'invalid_credentials'
  | 'account_locked'
  | 'account_suspended'
  | 'invalid_token'
  | 'csrf_failed'
  | 'access_required'
  | 'prompt_rejected'
  | 'annotation_expired'
  | 'annotation_answered'
  | 'too_many_open_tasks'
  | 'unservable'
  | 'worker_suspended'
  | 'fingerprint_refused'
  | 'result_rejected'
  | 'unavailable'
  | 'internal';

const TITLES: Record<ErrorCode, string> = {
  validation_failed: 'The request is not valid',
  unauthorized: 'Authentication required',
  forbidden: 'Not allowed',
  not_found: 'Not found',
  conflict: 'Conflict',
  idempotency_conflict: 'Idempotency key reused with a different request',
  lease_lost: 'The lease on this job is no longer yours',
  job_cancelled: 'The job was cancelled',
  invalid_image: 'The upload is not a valid PNG image',
  image_too_large: 'The image has more pixels than allowed',
  wrong_image_size: 'The image does not have the requested size',
  payload_too_large: 'The request body is too large',
  unsupported_media_type: 'Unsupported media type',
  limit_exceeded: 'A configured limit was exceeded',
  rate_limited: 'Too many requests',
  insufficient_credits: 'Not enough credits',
  invalid_credentials: 'The email or password is wrong',
  account_locked: 'The account is locked for a while after too many failed sign-ins',
  account_suspended: 'The account is suspended',
  invalid_token: 'The link is invalid or has expired',
  csrf_failed: 'The CSRF token is missing or wrong',
  access_required: 'This account may not generate yet',
  prompt_rejected: 'The prompt breaks a content rule of this platform',
  annotation_expired: 'The annotation task has expired',
  annotation_answered: 'The annotation task was already answered',
  too_many_open_tasks: 'Too many unanswered annotation tasks',
  unservable: 'No online worker can serve this request',
  worker_suspended: 'This worker is suspended',
  fingerprint_refused: 'The model weights this worker reported are not accepted',
  result_rejected: 'The result failed a verification check',
  unavailable: 'Service unavailable',
  internal: 'Internal error',
};

const STATUS: Record<ErrorCode, number> = {
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  idempotency_conflict: 422,
  lease_lost: 409,
  job_cancelled: 409,
  invalid_image: 422,
  image_too_large: 422,
  wrong_image_size: 422,
  payload_too_large: 413,
  unsupported_media_type: 415,
  limit_exceeded: 422,
  rate_limited: 429,
  insufficient_credits: 402,
  invalid_credentials: 401,
  account_locked: 429,
  account_suspended: 403,
  invalid_token: 400,
  csrf_failed: 403,
  access_required: 403,
  prompt_rejected: 422,
  annotation_expired: 410,
  annotation_answered: 409,
  too_many_open_tasks: 409,
  unservable: 422,
  worker_suspended: 403,
  fingerprint_refused: 422,
  result_rejected: 422,
  unavailable: 503,
  internal: 500,
};

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly fieldErrors?: { path: string; message: string }[],
  ) {
    super(detail ?? TITLES[code]);
    this.status = STATUS[code];
  }
  get title(): string {
    return TITLES[this.code];
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} does not exist.`);
