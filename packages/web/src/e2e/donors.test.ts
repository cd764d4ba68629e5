// The donor pages in a real browser against a real coordinator: the leaderboard (public, pseudonyms by
// default, a donor's chosen name once saved), each worker's current job with its progress and the
// hourly throughput charts (uPlot), the home page's live figures, and an admin changing the generation
// limits. The worker here speaks the HTTP worker protocol from the test, so the job it holds stays at a
// known step while the page is checked.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { solidPng, type TestCoordinator } from '@dreamfold/server/testing';
import {
  accessibilityProblems,
  launchBrowser,
  openPage,
  overflowsHorizontally,
  PHONE,
  screenshot,
} from './support/browser.js';
import {
  call as callAs,
  popJob,
  putResult,
  setPassword as setPasswordOf,
  signIn,
  startWebCoordinator,
} from './support/coordinator.js';

describe('donors and limits in a real browser', { timeout: 180_000 }, () => {
  let c: TestCoordinator;
  let browser: Browser;
  let donor: { id: string; key: string; email: string };
  let admin: { id: string; key: string; email: string };
  let workerKey = '';
  const problems: string[] = [];

  const call = (method: string, path: string, key: string, body?: unknown) =>
    callAs(c, method, path, key, body);
  const setPassword = (userId: string) => setPasswordOf(c, userId);

  const pop = async () => {
    const job = await popJob(c, workerKey);
    assert.ok(job, 'a job to pop');
    return job;
  };

  before(async () => {
    c = await startWebCoordinator({ TRUST_VERIFY: 'off' });
    browser = await launchBrowser();
    donor = await c.createUser();
    admin = await c.createUser('admin');
    await setPassword(donor.id);
    await setPassword(admin.id);
    workerKey = String((await call('POST', '/v1/workers', donor.key, { name: 'lab-gpu' })).key);
    // Two finished images, then one held at step 4 of 10.
    for (const steps of [10, 10, 10]) {
      await call('POST', '/v1/generations', c.userKey, {
        prompt: 'a lantern',
        model: 'test-model',
        width: 128,
        height: 128,
        steps,
      });
    }
    for (let i = 0; i < 2; i++) {
      const res = await putResult(c, workerKey, await pop(), await solidPng(128, 128, i));
      assert.equal(res.status, 200, await res.text());
    }
    const held = await pop();
    await call('POST', `/v1/jobs/${held.id}/heartbeat`, workerKey, {
      leaseId: held.leaseId,
      step: 4,
      totalSteps: 10,
    });
  });

  after(async () => {
    await browser?.close();
    await c?.shutdown();
  });

  it('shows the leaderboard to everyone, under pseudonyms, and the live figures on the home page', async () => {
    const { page, problems: seen } = await openPage(browser, c.url);
    await page.goto('/');
    const ratings = page.locator('.figure', { hasText: 'ratings collected' });
    await ratings.locator('.figure-value', { hasText: '0' }).waitFor();
    await page
      .locator('.figure', { hasText: 'datasets released' })
      .locator('.figure-value', { hasText: '0' })
      .waitFor();
    await page
      .locator('.figure', { hasText: 'images generated' })
      .locator('.figure-value', { hasText: '2' })
      .waitFor();

    await page.goto('/donate');
    const board = page.getByRole('table', { name: /Donors by verified work/ });
    const row = board.getByRole('row').nth(1);
    await row.waitFor();
    assert.match(await row.innerText(), /^1\s+Donor [A-Z2-9]{8}\s+2\s+0\.3\s+\d+$/);
    assert.equal(await page.getByText(donor.email).count(), 0);
    await page.getByRole('button', { name: 'All time' }).click();
    await board.getByText(/Donor [A-Z2-9]{8}/).waitFor();
    assert.equal(await page.getByRole('button', { name: 'All time' }).getAttribute('aria-pressed'), 'true');
    assert.deepEqual(await accessibilityProblems(page), []);
    problems.push(...seen);
  });

  it('shows each worker’s current job, the throughput charts, and lets the donor choose a public name', async () => {
    const { page, problems: seen } = await openPage(browser, c.url);
    await signIn(page, donor.email);
    await page.goto('/donate');
    const row = page.locator('tr', { hasText: 'lab-gpu' });
    await row.getByText('test-model 128×128, step 4 of 10').waitFor();
    assert.equal(await row.getByRole('progressbar').getAttribute('value'), '4');
    await page.getByText('lab-gpu: 2 jobs, 0.3 megapixel-steps').waitFor();
    // uPlot draws both charts (canvas) once loaded.
    await page.waitForFunction(() => document.querySelectorAll('.chart canvas').length === 2);
    await page.getByRole('img', { name: /Jobs finished per hour/ }).waitFor();

    await page.getByLabel('Under a public name I choose').check();
    await page.getByLabel('Public name', { exact: true }).fill('x');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    // The browser's own check (minLength) stops it; a name the server refuses gets its words beside it.
    await page.getByLabel('Public name', { exact: true }).fill('Lab <GPU>');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.locator('.field-error').waitFor();
    await page.getByLabel('Public name', { exact: true }).fill('Lovelace Lab');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved. The leaderboard shows it now.').waitFor();
    await page
      .getByRole('table', { name: /Donors by verified work/ })
      .getByText('Lovelace Lab')
      .waitFor();
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'desktop-donate-leaderboard');

    await page.setViewportSize(PHONE);
    await page.goto('/donate');
    await page.getByText('Lovelace Lab').waitFor();
    assert.equal(await overflowsHorizontally(page), false);
    await screenshot(page, 'phone-donate-leaderboard');
    problems.push(...seen);
  });

  it('lets an admin tighten the generation limits; the generate form follows and the server refuses beyond', async () => {
    const { page, problems: seen } = await openPage(browser, c.url);
    await signIn(page, admin.email);
    await page.goto('/admin');
    const section = page.locator('section.card', {
      has: page.getByRole('heading', { name: 'Generation limits' }),
    });
    await section.getByLabel('Most sampling steps').fill('40');
    await section.getByLabel('Most images per request').fill('2');
    await section.getByRole('button', { name: 'Save limits' }).click();
    await section.getByText('Saved for every coordinator.').waitFor();
    await section.getByText(/Changed just now/).waitFor();
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'desktop-admin-limits');

    await page.goto('/generate');
    await page.getByLabel('Images').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('select[name="n"] option').length === 2);
    const refused = await fetch(`${c.url}/v1/generations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${c.userKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a lantern', model: 'test-model', width: 128, height: 128, steps: 41 }),
    });
    assert.equal(refused.status, 422);

    await page.goto('/admin');
    await section.getByRole('button', { name: 'Reset to defaults' }).click();
    await section.getByText('Back to the defaults from the environment.').waitFor();
    assert.equal(await section.getByLabel('Most sampling steps').inputValue(), '150');
    problems.push(...seen);
  });

  it('raised no uncaught errors, console errors or CSP violations', () => {
    assert.deepEqual(problems, []);
  });
});
