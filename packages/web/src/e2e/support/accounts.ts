// Accounts for browser tests: accounts made by the test coordinator have no password, so they get one
// through their single-use link (as the CLI's users do), then sign in through the page.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { TestCoordinator } from '@dreamfold/server/testing';

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
