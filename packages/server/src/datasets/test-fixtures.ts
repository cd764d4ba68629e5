// A small platform for release tests, built through the real HTTP API wherever one exists: owners
// generate images (a worker uploads them), raters answer rating and pairwise tasks, a moderator hides
// an image, one owner withdraws, one deletes their account with withdrawal. What the tests then expect
// in a release is derived from what happened here, not from the release code.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { auth, type TestCoordinator } from '../test-support/coordinator.js';
import { makeImages } from '../test-support/images.js';

export interface Person {
  id: string;
  key: string;
  email: string;
}

export async function person(
  c: TestCoordinator,
  email: string,
  role: 'user' | 'moderator' | 'admin' = 'user',
) {
  const { user, key } = await c.services.accounts.createUser(email, role);
  return { id: user.id, key, email } satisfies Person;
}

export interface Answer {
  taskId: string;
  raterId: string;
  kind: 'rating' | 'pairwise';
  imageA: string;
  imageB: string | null;
  rating: number | null;
  /** As stored: 'a' = the task's first image. */
  choice: 'a' | 'b' | 'tie' | null;
}

/** The rater asks for up to `tasks` tasks of `kind` and answers each; answers are read back from the database. */
export async function answerTasks(
  c: TestCoordinator,
  rater: Person,
  kind: 'rating' | 'pairwise',
  tasks: number,
  seed: number,
): Promise<Answer[]> {
  const db = c.services.database.db;
  const answers: Answer[] = [];
  for (let i = 0; i < tasks; i++) {
    const next = await c.app.inject({ url: `/v1/annotations/next?kind=${kind}`, headers: auth(rater.key) });
    if (next.statusCode !== 200) throw new Error(`next ${kind}: ${next.statusCode} ${next.body}`);
    const task = next.json().task as { id: string } | null;
    if (!task) break;
    const payload =
      kind === 'rating'
        ? { rating: 1 + ((seed * 7 + i * 3) % 10) }
        : { preference: (['first', 'second', 'tie'] as const)[(seed + i) % 3] };
    const res = await c.app.inject({
      method: 'POST',
      url: `/v1/annotations/${task.id}`,
      headers: auth(rater.key),
      payload,
    });
    if (res.statusCode !== 200) throw new Error(`answer: ${res.statusCode} ${res.body}`);
    const row = await db
      .selectFrom('annotation_tasks')
      .select(['image_a', 'image_b', 'rating', 'choice'])
      .where('id', '=', task.id)
      .executeTakeFirstOrThrow();
    answers.push({
      taskId: task.id,
      raterId: rater.id,
      kind,
      imageA: row.image_a,
      imageB: row.image_b,
      rating: row.rating === null ? null : Number(row.rating),
      choice: row.choice,
    });
  }
  return answers;
}

/** What quality control does to a rater it excludes: the rater and all their answers are marked. */
export async function excludeRater(db: Kysely<Database>, userId: string, now: number): Promise<void> {
  await db.updateTable('annotation_raters').set({ excluded_at: now }).where('user_id', '=', userId).execute();
  await db.updateTable('annotation_tasks').set({ excluded: 1 }).where('user_id', '=', userId).execute();
}

export interface Platform {
  owners: { kept: Person; withdrawing: Person; deleting: Person };
  raters: { good: Person; excluded: Person; withdrawn: Person };
  moderator: Person;
  /** Image ids per owner, sorted. */
  images: { kept: string[]; withdrawing: string[]; deleting: string[] };
  hidden: string;
  answers: Answer[];
}

/**
 * Images: kept owner 4 (one of them hidden by a moderator), withdrawing owner 2, deleting owner 2.
 * Ratings and pairwise answers from three raters: one good, one excluded by quality control, one who
 * withdrew. Scores for two images. Everything before any release is made.
 */
export async function buildPlatform(c: TestCoordinator): Promise<Platform> {
  const owners = {
    kept: await person(c, 'kept.owner@example.org'),
    withdrawing: await person(c, 'withdrawing.owner@example.org'),
    deleting: await person(c, 'deleting.owner@example.org'),
  };
  const raters = {
    good: await person(c, 'good.rater@example.org'),
    excluded: await person(c, 'excluded.rater@example.org'),
    withdrawn: await person(c, 'withdrawn.rater@example.org'),
  };
  const moderator = await person(c, 'moderator@example.org', 'moderator');
  const kept = [
    ...(await makeImages(c, owners.kept.key, { prompt: 'a lighthouse in "fog", at dawn', n: 2, seed: 1 }))
      .imageIds,
    ...(
      await makeImages(c, owners.kept.key, {
        prompt: 'a red fox\nin snow',
        negativePrompt: 'blurry',
        n: 2,
        seed: 2,
      })
    ).imageIds,
  ].sort();
  const withdrawing = (await makeImages(c, owners.withdrawing.key, { prompt: 'a teapot', n: 2, seed: 3 }))
    .imageIds;
  const deleting = (await makeImages(c, owners.deleting.key, { prompt: 'an old map', n: 2, seed: 4 }))
    .imageIds;

  const answers: Answer[] = [];
  for (const [i, rater] of [raters.good, raters.excluded, raters.withdrawn].entries()) {
    // Every task there is (the loop stops when none is left), so each rater meets every image and pair.
    answers.push(...(await answerTasks(c, rater, 'rating', 20, i + 1)));
    answers.push(...(await answerTasks(c, rater, 'pairwise', 20, i + 1)));
  }
  const db = c.services.database.db;
  await excludeRater(db, raters.excluded.id, c.services.clock.now());

  const hidden = kept[1]!;
  const hide = await c.app.inject({
    method: 'POST',
    url: `/v1/moderation/images/${hidden}/hide`,
    headers: auth(moderator.key),
    payload: { reason: 'take-down request' },
  });
  if (hide.statusCode !== 200) throw new Error(`hide: ${hide.body}`);
  for (const who of [owners.withdrawing, raters.withdrawn]) {
    const res = await c.app.inject({
      method: 'PATCH',
      url: '/v1/me',
      headers: auth(who.key),
      payload: { datasetConsent: 'withdrawn' },
    });
    if (res.statusCode !== 200) throw new Error(`withdraw: ${res.body}`);
  }
  const del = await c.app.inject({
    method: 'DELETE',
    url: '/v1/me',
    headers: auth(owners.deleting.key),
    payload: { images: 'withdraw' },
  });
  if (del.statusCode >= 300) throw new Error(`delete: ${del.statusCode} ${del.body}`);

  const now = c.services.clock.now();
  await db
    .insertInto('image_scores')
    .values([
      { image_id: kept[0]!, aesthetic_score: 6.25, model: 'test-predictor', scored_at: now },
      { image_id: kept[2]!, aesthetic_score: 4.5, model: 'test-predictor', scored_at: now },
    ])
    .execute();
  return { owners, raters, moderator, images: { kept, withdrawing, deleting }, hidden, answers };
}
