// Small HTTP helpers for tests that talk to a coordinator the way a client would (fetch, 127.0.0.1 only).
import type { Generation } from '@dreamfold/protocol';

export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

export async function call<T>(url: string, key: string, method = 'GET', body?: unknown): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: { ...bearer(key), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} → ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Registers a worker with a user key; answers its dfw_ key. */
export async function registerWorker(server: string, userKey: string, name: string): Promise<string> {
  const answer = await call<{ key: string }>(`${server}/v1/workers`, userKey, 'POST', { name });
  return answer.key;
}

export function createGeneration(server: string, userKey: string, body: object): Promise<Generation> {
  return call<Generation>(`${server}/v1/generations`, userKey, 'POST', body);
}

export function getGeneration(server: string, userKey: string, id: string): Promise<Generation> {
  return call<Generation>(`${server}/v1/generations/${id}`, userKey);
}

/** Polls (every 100 ms, bounded) until the generation satisfies `done`. */
export async function waitForGeneration(
  server: string,
  userKey: string,
  id: string,
  done: (g: Generation) => boolean,
  timeoutMs = 20_000,
): Promise<Generation> {
  const deadline = Date.now() + timeoutMs;
  let last: Generation | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await getGeneration(server, userKey, id);
      if (done(last)) return last;
    } catch (err) {
      // The coordinator may be restarting; keep polling until the deadline.
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `Generation ${id} did not reach the expected state in ${timeoutMs} ms; last seen: ${JSON.stringify(last)} ${String(lastError ?? '')}`,
  );
}

export const isFinished = (g: Generation): boolean =>
  g.status === 'done' || g.status === 'failed' || g.status === 'cancelled' || g.status === 'partial';

export async function downloadImage(
  server: string,
  userKey: string,
  id: string,
  index: number,
): Promise<Buffer> {
  const res = await fetch(`${server}/v1/generations/${id}/images/${index}`, { headers: bearer(userKey) });
  if (!res.ok) throw new Error(`image ${index} of ${id} → ${res.status}: ${await res.text()}`);
  return Buffer.from(await res.arrayBuffer());
}
