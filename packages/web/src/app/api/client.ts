// The one way the app talks to the coordinator: same-origin fetch with the session cookie, the CSRF token
// on every state change, and errors turned into ApiError values that carry the problem's stable code.
import type { Problem } from '@dreamfold/protocol';

export interface FieldError {
  /** The field's name in the request body, e.g. "prompt" (the problem's "body/prompt"). */
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** The problem's stable `type` code, or "network" when the coordinator could not be reached. */
    readonly code: string,
    message: string,
    readonly fields: FieldError[] = [],
    /** Seconds to wait, from Retry-After, when the coordinator sent one. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | undefined;
/** The session's CSRF token, sent as X-CSRF-Token with every request that changes something. */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

const unauthorizedListeners = new Set<() => void>();
/** Called when a request that needed a session got 401: the session ended (expired, signed out elsewhere). */
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  /** Retries with the same key return the first answer and create nothing new. */
  idempotencyKey?: string;
  signal?: AbortSignal;
  /** Do not report a 401 as "the session ended" (sign-in, the session probe). */
  expectUnauthorized?: boolean;
}

export function withQuery(path: string, query: RequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

function fieldErrors(problem: Partial<Problem>): FieldError[] {
  return (problem.errors ?? []).map((e) => ({
    field: e.path.replace(/^(body|querystring|params|headers)\/?/, '').replace(/\//g, '.'),
    message: e.message,
  }));
}

async function toError(response: Response): Promise<ApiError> {
  const retryAfter = Number(response.headers.get('retry-after')) || undefined;
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    try {
      const problem = (await response.json()) as Partial<Problem>;
      const code = problem.type ?? `http_${response.status}`;
      const message = problem.detail ?? problem.title ?? response.statusText;
      return new ApiError(response.status, code, message, fieldErrors(problem), retryAfter);
    } catch {
      // Fall through: a body that is not the JSON it claims to be.
    }
  }
  const code = response.status >= 500 ? 'internal' : `http_${response.status}`;
  return new ApiError(response.status, code, response.statusText || 'Request failed', [], retryAfter);
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['x-csrf-token'] = csrfToken;
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  let response: Response;
  try {
    response = await fetch(withQuery(path, options.query), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (err) {
    if (options.signal?.aborted) throw err;
    throw new ApiError(0, 'network', 'Dreamfold could not be reached.');
  }
  if (!response.ok) {
    const error = await toError(response);
    if (error.status === 401 && !options.expectUnauthorized) {
      for (const listener of unauthorizedListeners) listener();
    }
    throw error;
  }
  if (response.status === 204 || response.status === 202) {
    // 202 answers (password reset) may carry a body; nothing the app needs from them.
    return undefined as T;
  }
  return (await response.json()) as T;
}

export const api = {
  get: <T>(path: string, options?: RequestOptions) => request<T>('GET', path, options),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) =>
    request<T>('POST', path, { ...options, body: body ?? {} }),
  put: <T>(path: string, body: unknown, options?: RequestOptions) =>
    request<T>('PUT', path, { ...options, body }),
  patch: <T>(path: string, body: unknown, options?: RequestOptions) =>
    request<T>('PATCH', path, { ...options, body }),
  delete: <T>(path: string, body?: unknown, options?: RequestOptions) =>
    request<T>('DELETE', path, { ...options, body }),
};

/** A fresh Idempotency-Key for one user action (kept across that action's retries). */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}
