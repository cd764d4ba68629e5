// The worker protocol over HTTP (Node's global fetch), one method per endpoint. Every request has a
// deadline; answers are sorted into three kinds the daemon acts on: success, TransientError (unreachable,
// 5xx, 429: back off and retry) and ProblemError (4xx with a stable `type`: lease_lost, job_cancelled, …).
import type {
  FailBody,
  HeartbeatBody,
  HeartbeatResponse,
  JobAssignment,
  JobResult,
  PauseState,
  PopBody,
  PopResponse,
  WhyIdle,
} from '@dreamfold/protocol';
import { float32ToHalf } from '@dreamfold/diffusion';
import type { ImageEmbedding } from './backend.js';
import { ProblemError, TransientError, isAbortError } from './errors.js';
import { parseRetryAfter } from './backoff.js';

export interface ClientOptions {
  /** Base URL of the coordinator, e.g. https://dreamfold.example.org */
  serverUrl: string;
  /** The worker key (dfw_…). Sent only to the coordinator's own origin, never to a presigned URL. */
  key: string;
  userAgent: string;
  /** Deadline of ordinary calls (heartbeat, fail, release, complete). */
  requestTimeoutMs?: number;
  /** Deadline of an image upload. */
  uploadTimeoutMs?: number;
}

interface RequestOptions {
  json?: unknown;
  body?: Buffer;
  headers?: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
  /** false for presigned object-storage URLs. */
  withKey?: boolean;
}

/** A long-poll answer may take waitSeconds; allow this much on top for the network and the queue query. */
const POP_GRACE_MS = 15_000;

export class CoordinatorClient {
  private readonly base: string;
  private readonly origin: string;

  constructor(private readonly options: ClientOptions) {
    const url = new URL(options.serverUrl);
    this.base = url.toString().replace(/\/+$/, '');
    this.origin = url.origin;
  }

  async pop(body: PopBody, signal?: AbortSignal): Promise<JobAssignment | null> {
    return (await this.poll(body, signal)).job;
  }

  /** pop with the whole answer: `paused: true` when the worker's owner paused it. */
  poll(body: PopBody, signal?: AbortSignal): Promise<PopResponse> {
    const timeoutMs = (body.waitSeconds ?? 30) * 1000 + POP_GRACE_MS;
    return this.request<PopResponse>('POST', `${this.base}/v1/workers/pop`, {
      json: body,
      timeoutMs,
      signal,
    });
  }

  /** Why this worker gets no jobs: its state, its filters and what is queued (fairness on the coordinator). */
  whyIdle(signal?: AbortSignal): Promise<WhyIdle> {
    return this.request('GET', `${this.base}/v1/workers/me/why-idle`, { timeoutMs: this.timeout(), signal });
  }

  /** Pauses (takes no jobs, no penalty) or resumes this worker, wherever its daemon runs. */
  setPaused(paused: boolean): Promise<PauseState> {
    return this.request('POST', `${this.base}/v1/workers/me/${paused ? 'pause' : 'resume'}`, {
      timeoutMs: this.timeout(),
    });
  }

  heartbeat(jobId: string, body: HeartbeatBody, signal?: AbortSignal): Promise<HeartbeatResponse> {
    return this.request('POST', this.jobUrl(jobId, 'heartbeat'), {
      json: body,
      timeoutMs: this.timeout(),
      signal,
    });
  }

  /** Delivers the PNG the way the assignment says: through the coordinator, or to object storage + complete. */
  async upload(job: JobAssignment, png: Buffer, signal?: AbortSignal): Promise<JobResult> {
    const timeoutMs = this.options.uploadTimeoutMs ?? 120_000;
    const { upload } = job;
    if (upload.kind === 'direct') {
      return this.request('PUT', this.directUploadUrl(job), {
        body: png,
        headers: { 'content-type': 'image/png' },
        timeoutMs,
        signal,
      });
    }
    await this.request('PUT', upload.url, {
      body: png,
      headers: { 'content-type': 'image/png', ...upload.headers },
      timeoutMs,
      signal,
      withKey: false,
    });
    return this.request('POST', this.jobUrl(job.id, 'complete'), {
      json: { leaseId: job.leaseId, key: upload.key },
      timeoutMs: this.timeout(),
      signal,
    });
  }

  /** The result's CLIP embedding, as float16 (half the bytes; releases store float16 anyway). */
  sendEmbedding(job: JobAssignment, embedding: ImageEmbedding, signal?: AbortSignal): Promise<unknown> {
    const half = float32ToHalf(embedding.values);
    return this.request('PUT', this.jobUrl(job.id, 'embedding'), {
      json: {
        leaseId: job.leaseId,
        dtype: 'float16',
        dim: embedding.values.length,
        data: Buffer.from(half.buffer, half.byteOffset, half.byteLength).toString('base64'),
        ...(embedding.model ? { model: embedding.model } : {}),
      },
      timeoutMs: this.timeout(),
      signal,
    });
  }

  fail(jobId: string, body: FailBody, signal?: AbortSignal): Promise<{ state: string; attempts: number }> {
    return this.request('POST', this.jobUrl(jobId, 'fail'), {
      json: body,
      timeoutMs: this.timeout(),
      signal,
    });
  }

  release(jobId: string, leaseId: string, timeoutMs?: number): Promise<{ state: string; attempts: number }> {
    return this.request('POST', this.jobUrl(jobId, 'release'), {
      json: { leaseId },
      timeoutMs: timeoutMs ?? this.timeout(),
    });
  }

  private timeout(): number {
    return this.options.requestTimeoutMs ?? 30_000;
  }

  private jobUrl(jobId: string, action: string): string {
    return `${this.base}/v1/jobs/${encodeURIComponent(jobId)}/${action}`;
  }

  /**
   * The coordinator names the upload URL from its PUBLIC_URL, which may differ from the address this
   * worker uses (a proxy, localhost vs 127.0.0.1). The key only ever goes to the --server origin, so a
   * URL elsewhere is rebuilt on it.
   */
  private directUploadUrl(job: JobAssignment): string {
    const given = new URL(job.upload.url);
    if (given.origin === this.origin) return given.toString();
    return `${this.jobUrl(job.id, 'result')}?leaseId=${encodeURIComponent(job.leaseId)}`;
  }

  private async request<T>(method: string, url: string, options: RequestOptions): Promise<T> {
    const headers: Record<string, string> = { 'user-agent': this.options.userAgent, ...options.headers };
    if (options.withKey !== false) headers.authorization = `Bearer ${this.options.key}`;
    let body: string | Buffer | undefined = options.body;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body, signal });
    } catch (err) {
      // The caller's own abort (cancellation, shutdown) is not a network problem: let it through as is.
      if (options.signal?.aborted) throw err;
      throw new TransientError(`${method} ${redactUrl(url)} failed: ${describeNetworkError(err)}`);
    }
    if (res.ok) {
      const text = await readBody(res, method, url);
      return (text ? JSON.parse(text) : {}) as T;
    }
    const text = await readBody(res, method, url).catch(() => '');
    if (res.status >= 500 || res.status === 429) {
      throw new TransientError(
        `${method} ${redactUrl(url)} answered ${res.status}`,
        parseRetryAfter(res.headers.get('retry-after')),
      );
    }
    const problem = parseProblem(text);
    throw new ProblemError(
      res.status,
      problem.type ?? `http_${res.status}`,
      problem.detail ?? text.slice(0, 300),
    );
  }
}

async function readBody(res: Response, method: string, url: string): Promise<string> {
  try {
    return await res.text();
  } catch (err) {
    throw new TransientError(
      `${method} ${redactUrl(url)}: the answer broke off (${describeNetworkError(err)})`,
    );
  }
}

function parseProblem(text: string): { type?: string; detail?: string } {
  try {
    const value = JSON.parse(text) as { type?: unknown; detail?: unknown; title?: unknown };
    return {
      type: typeof value.type === 'string' ? value.type : undefined,
      detail:
        typeof value.detail === 'string'
          ? value.detail
          : typeof value.title === 'string'
            ? value.title
            : undefined,
    };
  } catch {
    return {};
  }
}

/** fetch() wraps the useful part (ECONNREFUSED, a timeout) in `cause`. */
function describeNetworkError(err: unknown): string {
  if (isAbortError(err)) return 'timed out';
  if (err instanceof Error) {
    const cause = err.cause as { code?: string; message?: string } | undefined;
    return cause?.code ?? cause?.message ?? err.message;
  }
  return String(err);
}

/** Presigned URLs carry credentials in their query string; logs get the path only. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}
