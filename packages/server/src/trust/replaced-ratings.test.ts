// Raters' answers about a picture verification withdrew, through HTTP and a real release on both databases:
// when the job is re-run, its new picture takes the same image id, and nothing said about the old picture
// may count for it — not in the image's aggregates, not in those of the images it was compared with, not
// in a release, and not after its rater is excluded and reinstated. Open tasks about it expire.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import type { ManualClock } from '../clock.js';
import { testDialects } from '../test-support/databases.js';
import { auth, type TestCoordinator } from '../test-support/coordinator.js';
import { answerTasks, type Answer } from '../datasets/test-fixtures.js';
import { client, ratingGold } from '../annotations/test-fixtures.js';
import { Donor, makeTrusted, startTrustCoordinator, submitJobs, suspendWithBlanks } from './testing.js';

const PROMPT = 'two boats at dusk';

async function parquet(path: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(`SELECT * FROM read_parquet('${path}')`);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** What an image's aggregates must be when exactly `counted` answers count. */
function expectedStats(imageId: string, counted: readonly Answer[]) {
  const ratings = counted.filter((a) => a.kind === 'rating' && a.imageA === imageId).map((a) => a.rating!);
  const pairs = counted.filter(
    (a) => a.kind === 'pairwise' && (a.imageA === imageId || a.imageB === imageId),
  );
  const won = (a: Answer) => (a.choice === 'a' ? a.imageA : a.choice === 'b' ? a.imageB : null);
  return {
    count: ratings.length,
    sum: ratings.reduce((s, r) => s + r, 0),
    wins: pairs.filter((a) => won(a) === imageId).length,
    losses: pairs.filter((a) => a.choice !== 'tie' && won(a) !== imageId).length,
    ties: pairs.filter((a) => a.choice === 'tie').length,
  };
}

for (const dialect of testDialects()) {
  describe(`answers about a withdrawn picture (${dialect})`, () => {
    let c: TestCoordinator;
    let clock: ManualClock;
    before(async () => {
      ({ c, clock } = await startTrustCoordinator(dialect, {
        // Checks first while there are any, so a rater is excluded after two wrong ones.
        ANNOTATION_GOLD_PERCENT: '100',
        ANNOTATION_MIN_GOLD_ANSWERS: '2',
        ANNOTATION_MIN_AGREEMENT_PERCENT: '60',
        ANNOTATION_HOURLY_CREDIT_CAP: '100000',
      }));
    });
    after(() => c.shutdown());

    const statsOf = async (imageId: string) => {
      const res = await c.app.inject({ url: `/v1/annotations/images/${imageId}`, headers: auth(c.adminKey) });
      assert.equal(res.statusCode, 200, res.body);
      const s = res.json() as {
        rating: { count: number; mean?: number };
        pairwise: { wins: number; losses: number; ties: number };
      };
      return {
        count: s.rating.count,
        sum: Math.round((s.rating.mean ?? 0) * s.rating.count),
        ...s.pairwise,
      };
    };
    /** Pops and delivers the honest picture until the donor gets nothing more for the model. */
    const runAll = async (donor: Donor, model: string) => {
      const ran: string[] = [];
      for (let job = await donor.pop([model]); job; job = await donor.pop([model])) {
        clock.advance(2000);
        assert.equal((await donor.deliver(job)).statusCode, 200);
        ran.push(job.id);
      }
      return ran;
    };
    const generation = async (model: string, seed: number, prompt = PROMPT) => {
      const res = await submitJobs(c, { model, prompt, n: 2, seed, steps: 25 });
      assert.equal(res.statusCode, 201, res.body);
      return (res.json() as { images: { jobId: string }[] }).images.map((i) => i.jobId);
    };

    test('they leave the aggregates of the picture and its pair partners and the release for good, and open tasks about it expire', async () => {
      const bad = await Donor.create(c);
      const honest = await makeTrusted(c, clock, bad, { model: 'record', seedBase: 100 });
      // C and D first (the bad worker, trusted, gives them their second opinions), then A and B.
      const [C, D] = (await generation('m', 310)) as [string, string];
      await runAll(honest, 'm');
      const [A, B] = (await generation('m', 300)) as [string, string];
      const ran = await runAll(bad, 'm');
      assert.ok(ran.includes(A) && ran.includes(B), 'the bad worker made A and B');
      const images = [A, B, C, D];

      const [r1, r2, r3, late] = [
        await c.createUser(),
        await c.createUser(),
        await c.createUser(),
        await c.createUser(),
      ];
      const answers: Answer[] = [];
      for (const [i, rater] of [r1, r2].entries()) {
        answers.push(...(await answerTasks(c, rater, 'rating', 40, i + 1)));
        answers.push(...(await answerTasks(c, rater, 'pairwise', 40, i + 1)));
      }
      const about = (ids: string[]) => (a: Answer) => ids.includes(a.imageA) || ids.includes(a.imageB ?? '');
      assert.ok(answers.filter(about([A])).length >= 4, 'A was rated and compared');
      assert.ok(answers.some((a) => a.kind === 'pairwise' && about([C])(a) && about([D])(a)));
      for (const id of images) assert.deepEqual(await statsOf(id), expectedStats(id, answers), id);

      // A rater holding an open task about A when the picture is withdrawn.
      const db = c.services.database.db;
      const lateClient = client(c, late.key);
      let open: string | undefined;
      for (let task = await lateClient.next('rating'); task; task = await lateClient.next('rating')) {
        const row = await db
          .selectFrom('annotation_tasks')
          .select('image_a')
          .where('id', '=', task.id)
          .executeTakeFirstOrThrow();
        if (row.image_a === A) {
          open = task.id;
          break;
        }
        assert.equal((await lateClient.answer(task.id, { rating: 5 })).statusCode, 200);
        answers.push({
          taskId: task.id,
          raterId: late.id,
          kind: 'rating',
          imageA: row.image_a,
          imageB: null,
          rating: 5,
          choice: null,
        });
      }
      assert.ok(open, 'a task about A');

      // The bad worker is found out: A and B are withdrawn and queued again.
      await suspendWithBlanks(c, clock, bad, 'blanks');
      const counted = answers.filter((a) => !about([A, B])(a));
      for (const id of images) assert.deepEqual(await statsOf(id), expectedStats(id, counted), id);
      const expired = await lateClient.answer(open, { rating: 9 });
      assert.equal(expired.statusCode, 410, expired.body);
      assert.equal(expired.json().type, 'annotation_expired');

      // r1 fails two checks and is excluded, then a moderator reinstates them: the flips of an exclusion
      // never bring back an answer about the withdrawn picture.
      const goldImages = await generation('gold', 320, 'a lighthouse');
      await runAll(honest, 'gold');
      const moderator = await c.createUser('moderator');
      for (const imageId of goldImages) await ratingGold(c, moderator.key, imageId);
      const r1Client = client(c, r1.key);
      for (let i = 0; i < 2; i++) {
        const task = await r1Client.next('rating');
        assert.ok(task);
        assert.equal((await r1Client.answer(task.id, { rating: 1 })).statusCode, 200);
      }
      const notR1 = counted.filter((a) => a.raterId !== r1.id);
      for (const id of images) assert.deepEqual(await statsOf(id), expectedStats(id, notR1), id);
      const reinstated = await c.app.inject({
        method: 'POST',
        url: `/v1/admin/annotations/raters/${r1.id}/reinstate`,
        headers: auth(moderator.key),
        payload: { reason: 'the checks were ambiguous' },
      });
      assert.equal(reinstated.statusCode, 200, reinstated.body);
      for (const id of images) assert.deepEqual(await statsOf(id), expectedStats(id, counted), id);

      // Another worker draws A and B again; a new rater rates the new pictures afresh.
      assert.deepEqual((await runAll(honest, 'm')).sort(), [A, B].sort());
      const r3Client = client(c, r3.key);
      for (let i = 0; i < 2; i++) {
        const check = await r3Client.next('rating'); // the checks first; r3 passes them
        assert.ok(check);
        assert.equal((await r3Client.answer(check.id, { rating: 9 })).statusCode, 200);
      }
      const fresh = (await answerTasks(c, r3, 'rating', 40, 3)).filter((a) => [A, B].includes(a.imageA));
      assert.equal(fresh.length, 2, 'r3 rated the new A and B');
      for (const id of [A, B]) assert.deepEqual(await statsOf(id), expectedStats(id, fresh), id);

      const release = await c.services.datasets.release({ name: 'after-rerun' });
      const ratings = await parquet(join(release.path, 'ratings.parquet'));
      const meta = await parquet(join(release.path, 'metadata.parquet'));
      for (const id of [A, B]) {
        assert.deepEqual(
          ratings.filter((r) => r.image_id === id).map((r) => r.score),
          fresh.filter((a) => a.imageA === id).map((a) => a.rating),
          `only the new picture's rating of ${id} is released`,
        );
        assert.equal(meta.find((m) => m.id === id)?.rating_count, 1);
      }
      const prefs = await parquet(join(release.path, 'preferences.parquet'));
      assert.deepEqual(
        prefs.filter((p) => [A, B].includes(String(p.image_a)) || [A, B].includes(String(p.image_b))),
        [],
      );
      assert.equal(
        prefs.length,
        counted.filter((a) => a.kind === 'pairwise').length,
        'the comparisons of C and D with each other (and others) stay',
      );
      const card = await readFile(join(release.path, 'README.md'), 'utf8');
      const replaced = answers.filter(about([A, B])).length;
      assert.match(card, new RegExp(`\\| \`annotations_of_replaced_images\` \\| ${replaced} \\|`));
    });
  });
}
