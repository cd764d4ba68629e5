// A coordinator for browser tests (serving the built app, listening on a port), its accounts (made without
// a password, so they get one through their single-use link, as the CLI's users do, then sign in through
// the page), and the worker protocol spoken from the test so a job stays where the test leaves it.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startTestCoordinator, type TestCoordinator } from '@dreamfold/server/testing';
import { buildWebApp } from './build.js';

/** A SQLite coordinator serving the built app, free generations, no sign-in rate limit. */
export async function startWebCoordinator(env: Record<string, string>): Promise<TestCoordinator> {
  const webRoot = await buildWebApp();
  return startTestCoordinator({
    dialect: 'sqlite',
    listen: true,
    build: { webRoot },
    env: { CREDITS_IMAGE_COST: '0', SIGN_IN_RATE_PER_MINUTE: '0', ...env },
  });
}

export const PASSWORD = 'donated-gpu-hours-2026';

/** Gives an account made without a password one, through its single-use link. */
export async function setPassword(c: TestCoordinator, userId: string): Promise<void> {
  const link = await c.services.accounts.passwordLink(userId, c.url);
  const token = new URL(link).searchParams.get('token');
  const res = await fetch(`${c.url}/v1/auth/password-reset/confirm`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, password: PASSWORD }),
  });
  assert.equal(res.status, 204);
}

/** Signs in through the sign-in page and waits for the page it leads to. */
export async function signIn(page: Page, email: string): Promise<void> {
  await page.goto('/sign-in');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/generate');
}

/** A JSON call with a bearer key that must succeed; answers the parsed body. */
export async function call(
  c: TestCoordinator,
  method: string,
  path: string,
  key: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${c.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
  return res.json() as Promise<Record<string, unknown>>;
}

export interface PoppedJob {
  id: string;
  leaseId: string;
}

/** Pops a job of test-model for the worker, without waiting; undefined when nothing is queued. */
export async function popJob(c: TestCoordinator, workerKey: string): Promise<PoppedJob | undefined> {
  const res = await call(c, 'POST', '/v1/workers/pop', workerKey, {
    backend: 'test-pattern',
    models: ['test-model'],
    maxPixels: 1024 * 1024,
    waitSeconds: 0,
  });
  return (res.job ?? undefined) as PoppedJob | undefined;
}

/** Uploads a PNG as the job's result; answers the coordinator's response, whatever its status. */
export function putResult(
  c: TestCoordinator,
  workerKey: string,
  job: PoppedJob,
  png: Buffer,
): Promise<Response> {
  return fetch(`${c.url}/v1/jobs/${job.id}/result?leaseId=${job.leaseId}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${workerKey}`, 'content-type': 'image/png' },
    body: new Uint8Array(png),
  });
}
