// A minimal in-test worker speaking the HTTP worker protocol through app.inject.
import type { Coordinator } from '../app.js';
import { auth } from './coordinator.js';

export interface PopOptions {
  models?: string[];
  maxPixels?: number;
  waitSeconds?: number;
}

export async function registerWorker(c: Coordinator, userKey: string, name = 'test-worker'): Promise<string> {
  const res = await c.app.inject({
    method: 'POST',
    url: '/v1/workers',
    headers: auth(userKey),
    payload: { name },
  });
  if (res.statusCode !== 201) throw new Error(`register failed: ${res.body}`);
  return res.json().key as string;
}

export function pop(c: Coordinator, workerKey: string, o: PopOptions = {}) {
  return c.app.inject({
    method: 'POST',
    url: '/v1/workers/pop',
    headers: auth(workerKey),
    payload: {
      backend: 'test-pattern',
      models: o.models ?? ['sd-1.5'],
      maxPixels: o.maxPixels ?? 1024 * 1024,
      waitSeconds: o.waitSeconds ?? 0,
    },
  });
}

export function heartbeat(c: Coordinator, workerKey: string, jobId: string, leaseId: string, step = 1) {
  return c.app.inject({
    method: 'POST',
    url: `/v1/jobs/${jobId}/heartbeat`,
    headers: auth(workerKey),
    payload: { leaseId, step, totalSteps: 10 },
  });
}

export function upload(c: Coordinator, workerKey: string, jobId: string, leaseId: string, png: Buffer) {
  return c.app.inject({
    method: 'PUT',
    url: `/v1/jobs/${jobId}/result?leaseId=${leaseId}`,
    headers: { ...auth(workerKey), 'content-type': 'image/png' },
    payload: png,
  });
}

export function submit(c: Coordinator, userKey: string, body: Record<string, unknown> = {}) {
  return c.app.inject({
    method: 'POST',
    url: '/v1/generations',
    headers: auth(userKey),
    payload: { prompt: 'a test', model: 'sd-1.5', width: 64, height: 64, steps: 10, ...body },
  });
}
