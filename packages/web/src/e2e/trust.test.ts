// A worker's standing in a real browser against a real coordinator with verification on: a worker that
// sends blank pictures is suspended by the coordinator's own checks; its owner reads the history of its
// states on the Donate page; a moderator looks it up, is told in words when the reason is missing, and
// reinstates it with a reason the owner then reads; an admin sees the re-evaluation that follows a
// threshold change. The worker speaks the HTTP worker protocol from the test.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { solidPng, type TestCoordinator } from '@dreamfold/server/testing';
import { accessibilityProblems, launchBrowser, openPage, screenshot } from './support/browser.js';
import { call, popJob, putResult, setPassword, signIn, startWebCoordinator } from './support/coordinator.js';

describe('worker standing and reinstatement in a real browser', { timeout: 180_000 }, () => {
  let c: TestCoordinator;
  let browser: Browser;
  let donor: { id: string; key: string; email: string };
  let moderator: { id: string; key: string; email: string };
  let admin: { id: string; key: string; email: string };
  let workerId = '';
  const problems: string[] = [];

  before(async () => {
    c = await startWebCoordinator({ TRUST_VERIFY: 'full' });
    browser = await launchBrowser();
    donor = await c.createUser();
    moderator = await c.createUser('moderator');
    admin = await c.createUser('admin');
    for (const user of [donor, moderator, admin]) await setPassword(c, user.id);
    const registered = await call(c, 'POST', '/v1/workers', donor.key, { name: 'lab-gpu' });
    const workerKey = String(registered.key);
    workerId = String((registered.worker as { id: string }).id);
    // Four blank pictures in a row: each refused by the cheap checks, a strike each, then suspended.
    for (let i = 0; i < 4; i++) {
      await call(c, 'POST', '/v1/generations', c.userKey, {
        prompt: 'a lantern',
        model: 'test-model',
        width: 128,
        height: 128,
        steps: 10,
        seed: 500 + i,
      });
      const job = await popJob(c, workerKey);
      assert.ok(job, `no job for blank ${i}`);
      const res = await putResult(c, workerKey, job, await solidPng(128, 128, 40 + i));
      assert.equal(res.status, 422, await res.text());
    }
    const rep = await call(c, 'GET', `/v1/workers/${workerId}/reputation`, donor.key);
    assert.equal(rep.state, 'suspended');
  });

  after(async () => {
    await browser?.close();
    await c?.shutdown();
  });

  it('shows the owner the history of the worker’s states, with reasons', async () => {
    const { page, problems: seen } = await openPage(browser, c.url);
    await signIn(page, donor.email);
    await page.goto('/donate');
    await page.getByText('Details for lab-gpu').click();
    const history = page.getByRole('table', { name: 'Changes of state, newest first' });
    const rows = history.getByRole('row');
    await rows.nth(1).getByText('On probation → Suspended').waitFor();
    assert.match(await rows.nth(1).innerText(), /strikes/);
    assert.match(await rows.last().innerText(), /New → On probation/);
    await page.getByText(workerId).waitFor();
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'desktop-donate-state-history');
    problems.push(...seen);
  });

  it('lets a moderator reinstate the suspended worker with a reason the owner then reads', async () => {
    const { page, problems: seen } = await openPage(browser, c.url);
    await signIn(page, moderator.email);
    await page.goto('/moderation?tab=workers');
    await page.getByLabel('Worker ID').fill(workerId);
    await page.getByRole('button', { name: 'Look up' }).click();
    await page.getByRole('heading', { name: /Suspended$/ }).waitFor();

    // Only spaces: the browser's own check lets it through, the coordinator refuses it in words.
    const reason = page.getByLabel('Why reinstate it (its owner reads this)');
    await reason.fill('   ');
    await page.getByRole('button', { name: 'Reinstate' }).click();
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /reason|characters/i);

    await reason.fill('Driver bug, fixed by the donor.');
    await page.getByRole('button', { name: 'Reinstate' }).click();
    await page.getByText('Reinstated: the worker is on probation and gets jobs again.').waitFor();
    await page.getByRole('heading', { name: /On probation$/ }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Reinstate' }).count(), 0);
    const newest = page
      .getByRole('table', { name: 'Changes of state, newest first' })
      .getByRole('row')
      .nth(1);
    await newest.getByText('Suspended → On probation').waitFor();
    assert.match(await newest.innerText(), /Reinstated by a moderator: Driver bug, fixed by the donor\./);
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'desktop-moderation-workers');

    // A second reinstatement is refused by the coordinator with its reason.
    const again = await fetch(`${c.url}/v1/moderation/workers/${workerId}/reinstate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${moderator.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'again' }),
    });
    assert.equal(again.status, 409);

    const owner = await openPage(browser, c.url);
    await signIn(owner.page, donor.email);
    await owner.page.goto('/donate');
    await owner.page.getByText('Details for lab-gpu').click();
    const ownerNewest = owner.page
      .getByRole('table', { name: 'Changes of state, newest first' })
      .getByRole('row')
      .nth(1);
    await ownerNewest.getByText('Suspended → On probation').waitFor();
    assert.match(await ownerNewest.innerText(), /Driver bug, fixed by the donor\./);
    problems.push(...seen, ...owner.problems);
  });

  it('shows an admin the re-evaluation that follows a threshold change', async () => {
    const { page, problems: seen } = await openPage(browser, c.url);
    await signIn(page, admin.email);
    await page.goto('/admin');
    const section = page.locator('section.card', {
      has: page.getByRole('heading', { name: 'Image safety' }),
    });
    await section.getByText('No re-evaluation yet').waitFor();
    await section.getByLabel('Hide from the public at or above').fill('0.5');
    await section.getByRole('button', { name: 'Save thresholds' }).click();
    await section.getByText(/^Saved\./).waitFor();
    await section.getByText(/Images by their stored scores, after a threshold change: finished/).waitFor();
    assert.deepEqual(await accessibilityProblems(page), []);
    problems.push(...seen);
  });

  it('raised no uncaught errors, console errors or CSP violations', () => {
    assert.deepEqual(problems, []);
  });
});
