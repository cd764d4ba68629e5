// Errors in words, with what to do next. The coordinator's `detail` is written for people; the advice
// below adds the next step for the codes where the detail alone leaves the reader stuck.
import { ApiError } from './client.js';

const ADVICE: Record<string, string> = {
  network: 'Check your connection, then try again. If it keeps failing, the server may be down.',
  unauthorized: 'Sign in again, then retry.',
  forbidden: 'Your account cannot do this. If you think it should, ask a moderator.',
  not_found: 'It may have been deleted, or the link is wrong.',
  rate_limited: 'Wait a minute, then try again.',
  internal: 'This is our fault and it has been logged. Try again in a minute.',
  unavailable: 'The server is restarting or overloaded. Try again in a minute.',
  insufficient_credits: 'Or make fewer or smaller images.',
  idempotency_conflict: 'Reload the page and submit again.',
  payload_too_large: 'Send less text.',
  csrf_failed: 'Reload the page, then try again.',
};

export interface ErrorText {
  message: string;
  advice?: string;
}

export function describeError(error: unknown): ErrorText {
  if (error instanceof ApiError) {
    const advice =
      error.code === 'rate_limited' && error.retryAfter
        ? `Wait ${error.retryAfter} seconds, then try again.`
        : ADVICE[error.code];
    const message =
      error.code === 'network'
        ? 'Dreamfold could not be reached.'
        : error.code === 'internal'
          ? 'Something went wrong on our side.'
          : error.message;
    return advice ? { message, advice } : { message };
  }
  if (error instanceof Error && error.name === 'AbortError') return { message: 'Cancelled.' };
  return {
    message: 'Something unexpected went wrong in the page.',
    advice: 'Reload the page and try again.',
  };
}
