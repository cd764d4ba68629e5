// The web app in a real browser (Debian's Chromium through playwright-core) against a real coordinator
// (SQLite, a real SMTP server in-process) and a real worker process: apply → confirm by the mailed link →
// a moderator (who set their password through the reset mail) approves → donate a worker with the command
// shown on the page and run it → generate and watch the progress → the image → rate with the keyboard →
// credits change → report an image → a moderator hides it and it leaves the gallery. Also: accessibility
// (axe-core, WCAG A/AA), keyboard focus order, phone width, layout stability, and no CSP violations or
// uncaught errors. Screenshots of the main pages at desktop and phone width go to test-artifacts/web/.
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import {
  startTestCoordinator,
  startTestSmtpServer,
  type TestCoordinator,
  type TestSmtpServer,
} from '@dreamfold/server/testing';
import {
  createGeneration,
  isFinished,
  startTestWorker,
  waitForGeneration,
  type TestProcess,
} from '@dreamfold/worker/testing';
import { buildWebApp } from './support/build.js';
import {
  accessibilityProblems,
  AXE_SOURCE,
  launchBrowser,
  layoutShift,
  openPage,
  overflowsHorizontally,
  PHONE,
  screenshot,
  watchLayoutShifts,
  type WatchedPage,
} from './support/browser.js';

const APPLICANT = { name: 'Ada Lovelace', email: 'ada@example.org', password: 'analytical-engine-1843' };
const MODERATOR_PASSWORD = 'careful-moderator-2026';

/** The web-app link in a mail (verification or password reset). */
function linkIn(text: string): string {
  const match = /(https?:\/\/\S+\/(?:verify-email|reset-password)\?token=\S+)/.exec(text);
  if (!match?.[1]) throw new Error(`no link in the mail:\n${text}`);
  return match[1];
}

async function noAccessibilityProblems(page: Page, where: string): Promise<void> {
  assert.deepEqual(await accessibilityProblems(page), [], `accessibility problems on ${where}`);
}

async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/sign-in');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/generate');
}

// Both suites serve the same build; it goes when the file is done.
after(async () => rmSync(await buildWebApp(), { recursive: true, force: true }));

describe('the web app in a real browser', { timeout: 300_000 }, () => {
  let smtp: TestSmtpServer;
  let c: TestCoordinator;
  let browser: Browser;
  let applicant: WatchedPage;
  let moderator: WatchedPage;
  let worker: TestProcess | undefined;
  let moderatorEmail = '';
  let otherUser: { key: string };
  let otherPrompt = '';

  before(async () => {
    const webRoot = await buildWebApp();
    smtp = await startTestSmtpServer();
    c = await startTestCoordinator({
      dialect: 'sqlite',
      listen: true,
      build: { webRoot },
      env: { SMTP_URL: smtp.url, ACCESS_STAGE: 'research', SIGN_IN_RATE_PER_MINUTE: '0' },
    });
    browser = await launchBrowser();
    applicant = await openPage(browser, c.url);
    moderator = await openPage(browser, c.url);
    moderatorEmail = (await c.createUser('moderator')).email;
    otherUser = await c.createUser('user');
  });

  after(async () => {
    worker?.kill('SIGKILL');
    await browser?.close();
    await c?.shutdown();
    await smtp?.close();
  });

  it('shows the home page, takes an application and confirms the email from the mailed link', async () => {
    const { page } = applicant;
    await page.goto('/');
    await page.getByRole('heading', { level: 1 }).waitFor();
    assert.match(await page.locator('.hero').innerText(), /Research access: apply/);
    await page.getByText('images generated').waitFor();
    await noAccessibilityProblems(page, 'the home page');
    await screenshot(page, 'desktop-home');

    await page.getByRole('link', { name: 'Apply for access' }).click();
    await page.getByRole('heading', { name: 'Apply for research access' }).waitFor();
    await page.getByLabel('Full name').fill(APPLICANT.name);
    await page.getByLabel('Email').fill(APPLICANT.email);
    await page.getByLabel('Password').fill(APPLICANT.password);
    await page.getByLabel('Affiliation').fill('University of London');
    await page.getByLabel('Occupation').selectOption('researcher');
    await page
      .getByLabel('Intended use')
      .fill('Studying how prompts shape composition, for a paper on diffusion models.');
    await noAccessibilityProblems(page, 'the sign-up page');
    await screenshot(page, 'desktop-sign-up');
    await page.getByRole('button', { name: 'Send application' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();

    const mail = await smtp.waitFor(APPLICANT.email, undefined, 20_000);
    await page.goto(linkIn(mail.text));
    await page.getByRole('heading', { name: 'Email confirmed' }).waitFor();
    assert.match(await page.locator('main').innerText(), /with our moderators/);
  });

  it('lets a moderator set a password through the reset mail, sign in and approve the application', async () => {
    const { page } = moderator;
    await page.goto('/sign-in');
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Email').fill(moderatorEmail);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await page.getByText('a mail with a reset link is on its way').waitFor();
    const mail = await smtp.waitFor(moderatorEmail, undefined, 20_000);
    await page.goto(linkIn(mail.text));
    await page.getByLabel('New password', { exact: true }).fill(MODERATOR_PASSWORD);
    await page.getByLabel('Repeat the new password').fill(MODERATOR_PASSWORD);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByRole('heading', { name: 'Password changed' }).waitFor();

    await signIn(page, moderatorEmail, MODERATOR_PASSWORD);
    await page.getByRole('button', { name: 'Account' }).click();
    await page.getByRole('link', { name: 'Moderation' }).click();
    const card = page.locator('li.card', { hasText: APPLICANT.name });
    await card.waitFor();
    assert.match(await card.innerText(), /University of London/);
    await noAccessibilityProblems(page, 'the moderation page');
    await screenshot(page, 'desktop-moderation');
    await card.getByRole('button', { name: 'Approve' }).click();
    await card.waitFor({ state: 'detached' });
    await page.getByText('No applications waiting').waitFor();
  });

  it('shows a fresh worker key command on the donate page; the worker started with it comes online', async () => {
    const { page } = applicant;
    await signIn(page, APPLICANT.email, APPLICANT.password);
    // Approved: the generate page no longer asks to wait for a moderator.
    assert.equal(await page.getByText('waiting for a moderator').count(), 0);

    await page.getByRole('link', { name: 'Donate', exact: true }).click();
    await page.getByLabel('Name this machine').fill('ada-gpu');
    await page.getByRole('button', { name: 'Create a worker key' }).click();
    const command = await page.locator('#worker-command').innerText();
    const key = /DREAMFOLD_WORKER_KEY=(dfw_\S+)/.exec(command)?.[1];
    assert.ok(key, `no worker key in the command:\n${command}`);
    assert.match(command, new RegExp(`--server ${c.url.replace(/[.]/g, '\\.')}`));

    worker = startTestWorker({ url: c.url, key, args: ['--step-delay-ms', '150', '--name', 'ada-gpu'] });
    await worker.waitForLog((l) => l.msg === 'worker started', 30_000);
    const row = page.locator('tr', { hasText: 'ada-gpu' });
    await row.getByText('online').waitFor({ timeout: 30_000 });
    await noAccessibilityProblems(page, 'the donate page');
    await screenshot(page, 'desktop-donate');
  });

  it('generates: queue, live step progress, the image, and "again with this seed" — without layout jumps', async () => {
    const { page } = applicant;
    await page.goto('/generate');
    await page.getByLabel('Prompt', { exact: true }).waitFor();
    await noAccessibilityProblems(page, 'the generate page');
    await watchLayoutShifts(page);
    await page.getByLabel('Model').fill('test-model');
    // GET /v1/models: the model field says who serves it.
    await page.getByText('1 worker serves test-model now.').waitFor();
    await page.getByText('More options').click();
    await page.getByLabel('Steps').fill('12');
    await page.getByLabel('Prompt', { exact: true }).fill('a lighthouse on a cliff at dusk, oil painting');
    // The research stage is free; the quote says so before submitting.
    await page.getByText('Free during the research stage').waitFor();
    await page.getByLabel('Prompt', { exact: true }).press('Control+Enter');

    await page.getByText(/Step \d+ of 12/).waitFor();
    const image = page.getByRole('img', { name: /^Image 1 of 1: a lighthouse/ });
    await image.waitFor();
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('.result img');
      return !!img && img.complete && img.naturalWidth === 512;
    });
    await page.getByRole('status').filter({ hasText: 'Done.' }).waitFor();
    const shift = await layoutShift(page);
    assert.ok(shift < 0.1, `cumulative layout shift while generating: ${shift}`);
    await screenshot(page, 'desktop-generate');

    const seedText = await page.locator('.result figcaption .muted').first().innerText();
    const seed = /Seed (\d+)/.exec(seedText)?.[1];
    assert.ok(seed);
    await page.getByRole('link', { name: 'Again with this seed' }).click();
    await page.waitForURL(/seed=/);
    assert.equal(await page.getByLabel('Seed').inputValue(), seed);
    assert.equal(
      await page.getByLabel('Prompt', { exact: true }).inputValue(),
      'a lighthouse on a cliff at dusk, oil painting',
    );

    await page.getByRole('link', { name: 'My images' }).click();
    await page.locator('.thumb', { hasText: 'a lighthouse' }).first().waitFor();
    await screenshot(page, 'desktop-my-images');
  });

  it('rates someone else’s image with the keyboard and the credits change', async () => {
    otherPrompt = 'a red bicycle leaning on a yellow wall';
    const g = await createGeneration(c.url, otherUser.key, {
      prompt: otherPrompt,
      model: 'test-model',
      steps: 2,
      width: 256,
      height: 256,
    });
    await waitForGeneration(c.url, otherUser.key, g.id, isFinished);

    const { page, context } = applicant;
    const credits = async () =>
      (
        (await (await context.request.get(`${c.url}/v1/me/credits`)).json()) as {
          earnedFromAnnotations: number;
        }
      ).earnedFromAnnotations;
    const before = await credits();
    await page.goto('/rate');
    await page.getByRole('img', { name: 'Image to rate' }).waitFor();
    await noAccessibilityProblems(page, 'the rate page');
    await screenshot(page, 'desktop-rate');
    await page.keyboard.press('8');
    await page
      .locator('.earned')
      .filter({ hasText: /credit|saved/ })
      .waitFor();
    assert.ok((await credits()) > before, 'rating earned nothing');
    await page.goto('/credits');
    await page.getByRole('cell', { name: 'Earned by rating' }).first().waitFor();
    await screenshot(page, 'desktop-credits');
  });

  it('takes a report; a moderator hides the image and it leaves the gallery', async () => {
    const { page } = applicant;
    await page.goto('/gallery');
    const tile = page.locator('.thumb', { hasText: otherPrompt });
    await tile.waitFor();
    await noAccessibilityProblems(page, 'the gallery');
    await screenshot(page, 'desktop-gallery');
    await tile.click();
    await page.getByRole('heading', { name: 'Image' }).waitFor();
    await page.getByRole('button', { name: 'Report this image' }).click();
    await page.getByLabel('What is wrong?').selectOption('offensive');
    await page.getByLabel('Details (optional)').fill('Not what a gallery should show.');
    await noAccessibilityProblems(page, 'the image page');
    await screenshot(page, 'desktop-image');
    await page.getByRole('button', { name: 'Send report' }).click();
    await page.getByText('A moderator will look at this image').waitFor();

    const mod = moderator.page;
    await mod.goto('/moderation?tab=reports');
    const card = mod.locator('li.card', { hasText: otherPrompt });
    await card.waitFor();
    await card.getByLabel(/Reason/).fill('Offensive, reported by a user.');
    await card.getByRole('button', { name: 'Hide image' }).click();
    await card.waitFor({ state: 'detached' });

    await page.goto('/gallery');
    await page.locator('.thumb', { hasText: 'a lighthouse' }).first().waitFor();
    assert.equal(await page.locator('.thumb', { hasText: otherPrompt }).count(), 0);
  });

  it('shows what a worker earned and why it would idle, on the donate page', async () => {
    const { page } = applicant;
    await page.goto('/donate');
    await page.getByText('Details for ada-gpu').click();
    await page.getByRole('heading', { name: 'Earnings' }).waitFor();
    await page.getByText(/credits? earned in all/).waitFor();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    await page.getByRole('heading', { name: 'Standing' }).waitFor();
    await noAccessibilityProblems(page, 'the donate page with details');
    await screenshot(page, 'desktop-donate-details');
  });

  it('lists open dataset releases with their files', async () => {
    const release = await c.services.datasets.release();
    const { page, context } = applicant;
    await page.goto('/datasets');
    await page.getByRole('heading', { name: release.name }).waitFor();
    const manifest = page.getByRole('link', { name: 'manifest.json' }).first();
    const href = await manifest.getAttribute('href');
    assert.ok(href);
    const answer = await context.request.get(`${c.url}${href}`);
    assert.equal(answer.status(), 200);
    assert.ok(((await answer.json()) as { files: unknown[] }).files.length > 0);
    await noAccessibilityProblems(page, 'the datasets page');
    await screenshot(page, 'desktop-datasets');
  });

  it('works at phone width (in the dark colour scheme): menu, no sideways scrolling, contrast', async () => {
    const phoneContext = await browser.newContext({
      baseURL: c.url,
      viewport: PHONE,
      colorScheme: 'dark',
      isMobile: true,
      hasTouch: true,
      storageState: await applicant.context.storageState(),
    });
    await phoneContext.addInitScript({ content: AXE_SOURCE });
    const page = await phoneContext.newPage();
    for (const [path, name] of [
      ['/', 'home'],
      ['/generate', 'generate'],
      ['/gallery', 'gallery'],
      ['/rate', 'rate'],
      ['/donate', 'donate'],
      ['/my-images', 'my-images'],
      ['/account', 'account'],
      ['/datasets', 'datasets'],
    ] as const) {
      await page.goto(path);
      await page.getByRole('heading', { level: 1 }).waitFor();
      await page.waitForLoadState('networkidle');
      assert.equal(await overflowsHorizontally(page), false, `${path} scrolls sideways at phone width`);
      await noAccessibilityProblems(page, `${path} at phone width, dark`);
      await screenshot(page, `phone-${name}`);
    }
    const nav = page.getByRole('navigation', { name: 'Main' });
    assert.equal(await nav.isVisible(), false);
    await page.getByRole('button', { name: 'Menu' }).click();
    await nav.getByRole('link', { name: 'Gallery' }).click();
    await page.getByRole('heading', { name: 'Gallery' }).waitFor();
    assert.equal(await nav.isVisible(), false, 'the menu stays open after navigating');
    await phoneContext.close();
  });

  it('is usable with the keyboard: skip link first, then the form in reading order', async () => {
    const { page, context } = await openPage(browser, c.url);
    await page.goto('/sign-in');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await page.keyboard.press('Enter');
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      order.push(
        await page.evaluate(() => {
          const el = document.activeElement as HTMLInputElement | null;
          return el?.labels?.[0]?.textContent ?? el?.textContent ?? '';
        }),
      );
    }
    assert.deepEqual(order, ['Email', 'Password', 'Sign in', 'Forgot your password?']);
    await context.close();
  });

  it('raised no uncaught errors, console errors or CSP violations', () => {
    assert.deepEqual(applicant.problems, []);
    assert.deepEqual(moderator.problems, []);
  });
});

describe('the open stage in a real browser', { timeout: 180_000 }, () => {
  let smtp: TestSmtpServer;
  let c: TestCoordinator;
  let browser: Browser;
  const adminPassword = 'admin-password-for-tests';
  const newcomer = { email: 'grace@example.org', password: 'compiler-pioneer-1952' };

  before(async () => {
    const webRoot = await buildWebApp();
    smtp = await startTestSmtpServer();
    c = await startTestCoordinator({
      dialect: 'sqlite',
      listen: true,
      build: { webRoot },
      env: { SMTP_URL: smtp.url, ACCESS_STAGE: 'research', SIGN_IN_RATE_PER_MINUTE: '0' },
    });
    browser = await launchBrowser();
    // The first admin gets a password the way `dreamfold admin create-user` users do: a reset link.
    await fetch(`${c.url}/v1/auth/password-reset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@example.org' }),
    });
    const token = smtp.tokenIn(await smtp.waitFor('admin@example.org', undefined, 20_000));
    const confirmed = await fetch(`${c.url}/v1/auth/password-reset/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, password: adminPassword }),
    });
    assert.equal(confirmed.status, 204);
  });

  after(async () => {
    await browser?.close();
    await c?.shutdown();
    await smtp?.close();
  });

  it('an admin opens Dreamfold; a newcomer signs up with just an email and is told how to earn credits', async () => {
    const admin = await openPage(browser, c.url);
    await signIn(admin.page, 'admin@example.org', adminPassword);
    await admin.page.getByRole('button', { name: 'Account' }).click();
    await admin.page.getByRole('link', { name: 'Admin' }).click();
    await admin.page.getByLabel(/^Open: anyone/).check();
    await admin.page.getByRole('button', { name: 'Save the stage' }).click();
    await admin.page.getByText('The stage is now open').waitFor();
    await noAccessibilityProblems(admin.page, 'the admin page');
    await screenshot(admin.page, 'desktop-admin');

    const { page, problems } = await openPage(browser, c.url);
    await page.goto('/');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByRole('heading', { name: 'Create an account' }).waitFor();
    assert.equal(
      await page.getByLabel('Affiliation').count(),
      0,
      'the open stage asks no research questions',
    );
    await page.getByLabel('Email').fill(newcomer.email);
    await page.getByLabel('Password').fill(newcomer.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    await page.goto(linkIn((await smtp.waitFor(newcomer.email, undefined, 20_000)).text));
    await page.getByRole('heading', { name: 'Email confirmed' }).waitFor();

    await signIn(page, newcomer.email, newcomer.password);
    await page.getByLabel('Prompt', { exact: true }).fill('a paper boat on a puddle');
    await page.getByLabel('Model').fill('test-model');
    await page.getByText(/Costs \d+ credits?\. You have 0\./).waitFor();
    await page.getByRole('link', { name: 'Rate images to earn more' }).waitFor();
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /costs \d+ credits.*balance is 0/s);
    await screenshot(page, 'desktop-generate-no-credits');
    assert.deepEqual([...admin.problems, ...problems], []);
  });
});
