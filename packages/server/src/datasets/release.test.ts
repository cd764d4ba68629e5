// A release made from a real coordinator database (SQLite and PostgreSQL): what it contains is exactly
// what may be published — no hidden, withdrawn or deleted-with-withdrawal images, no answers of excluded
// or withdrawn raters — under pseudonyms only, and a second release says what changed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { IMAGE_FLAGS } from '@dreamfold/protocol';
import { FLAG_NAMES, Pseudonymizer } from '@dreamfold/datasets';
import { ManualClock } from '../clock.js';
import { testDialects } from '../test-support/databases.js';
import { startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { makeImages } from '../test-support/images.js';
import { auth } from '../test-support/coordinator.js';
import { buildPlatform, type Platform } from './test-fixtures.js';
import { DatasetService } from './release-service.js';

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
const parquet = (path: string, sql = 'SELECT *') => query(`${sql} FROM read_parquet('${path}')`);

test('the release columns use the platform flag vocabulary', () => {
  assert.deepEqual([...FLAG_NAMES], [...IMAGE_FLAGS]);
});

for (const dialect of testDialects()) {
  describe(`dataset releases from the coordinator (${dialect})`, () => {
    let c: TestCoordinator;
    let clock: ManualClock;
    let p: Platform;

    before(async () => {
      clock = new ManualClock(Date.UTC(2026, 2, 1, 12));
      c = await startTestCoordinator({ dialect, clock });
      p = await buildPlatform(c);
    });
    after(() => c.shutdown());

    test('a release holds exactly the public images and the answers that may be published', async () => {
      const r = await c.services.datasets.release({ name: 'first' });
      assert.equal(r.path, join(c.config.dataDir, 'datasets', 'first'));
      const salt = await c.services.datasets.salt('first');
      const pseudo = new Pseudonymizer(salt);

      const published = p.images.kept.filter((id) => id !== p.hidden);
      const meta = await parquet(join(r.path, 'metadata.parquet'));
      assert.deepEqual(
        meta.map((m) => m.id),
        published,
      );
      for (const m of meta) {
        assert.equal(m.creator, pseudo.pseudonym('user', p.owners.kept.id));
        assert.match(String(m.worker), /^[0-9a-f]{16}$/);
        assert.equal(m.width, 64);
        assert.deepEqual(m.created_day, new Date(Date.UTC(2026, 2, 1)));
      }
      assert.deepEqual(
        meta.map((m) => m.aesthetic_score),
        published.map((id) => (id === p.images.kept[0] ? 6.25 : id === p.images.kept[2] ? 4.5 : null)),
      );
      assert.ok(meta.some((m) => m.prompt === 'a red fox\nin snow' && m.negative_prompt === 'blurry'));

      // Ratings: only the good rater's, only of published images, under the rater's pseudonym.
      const expectedRatings = p.answers
        .filter((a) => a.kind === 'rating' && a.raterId === p.raters.good.id && published.includes(a.imageA))
        .map((a) => `${a.imageA} ${a.rating}`)
        .sort();
      assert.ok(
        expectedRatings.length >= 2,
        `the good rater rated published images: ${expectedRatings.length}`,
      );
      const ratings = await parquet(join(r.path, 'ratings.parquet'));
      assert.deepEqual(ratings.map((x) => `${x.image_id} ${x.score}`).sort(), expectedRatings);
      assert.ok(
        ratings.every(
          (x) => x.rater === pseudo.pseudonym('user', p.raters.good.id) && x.kind === 'aesthetic',
        ),
      );
      assert.ok(
        p.answers.some((a) => a.raterId !== p.raters.good.id),
        'the other raters answered too, and were left out',
      );
      const expectedPairs = p.answers
        .filter(
          (a) =>
            a.kind === 'pairwise' &&
            a.raterId === p.raters.good.id &&
            published.includes(a.imageA) &&
            published.includes(a.imageB!),
        )
        .map((a) => `${a.imageA} ${a.imageB} ${a.choice}`)
        .sort();
      assert.ok(expectedPairs.length >= 1, 'the good rater compared published images');
      const prefs = await parquet(join(r.path, 'preferences.parquet'));
      assert.deepEqual(prefs.map((x) => `${x.image_a} ${x.image_b} ${x.choice}`).sort(), expectedPairs);

      // Aggregates agree with the published rows.
      for (const m of meta) {
        const mine = ratings.filter((x) => x.image_id === m.id).map((x) => x.score as number);
        assert.equal(m.rating_count, mine.length);
        if (mine.length) assert.equal(m.rating_mean, mine.reduce((a, b) => a + b, 0) / mine.length);
      }

      // The card counts what was left out and why.
      const card = await readFile(join(r.path, 'README.md'), 'utf8');
      assert.match(card, /\| `hidden_by_moderators` \| 1 \|/);
      assert.match(card, /\| `owner_withdrew` \| 2 \|/);
      assert.match(card, /\| `owner_deleted_account` \| 2 \|/);
      // Every finished image neither hidden nor withdrawn was published (counted as the rows were read).
      assert.deepEqual(
        r.manifest.exclusions.find((e) => e.reason === 'not_yet_public'),
        { reason: 'not_yet_public', count: 0 },
      );
      const excludedAnswers = p.answers.filter((a) => a.raterId === p.raters.excluded.id).length;
      const withdrawnAnswers = p.answers.filter((a) => a.raterId === p.raters.withdrawn.id).length;
      assert.ok(excludedAnswers > 0 && withdrawnAnswers > 0);
      assert.match(card, new RegExp(`\\| \`annotations_of_excluded_raters\` \\| ${excludedAnswers} \\|`));
      assert.match(card, new RegExp(`\\| \`annotations_of_withdrawn_raters\` \\| ${withdrawnAnswers} \\|`));
      assert.equal(r.manifest.counts.images, 3);

      // No email, raw user id or excluded image id anywhere in the release.
      const needles = [...Object.values(p.owners), ...Object.values(p.raters), p.moderator].flatMap((x) => [
        x.id,
        x.email,
      ]);
      needles.push(p.hidden, ...p.images.withdrawing, ...p.images.deleting, 'example.org');
      const files = (await readdir(r.path, { recursive: true, withFileTypes: true })).filter((e) =>
        e.isFile(),
      );
      for (const e of files) {
        const path = join(e.parentPath, e.name);
        const text = path.endsWith('.parquet')
          ? JSON.stringify(await parquet(path), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))
          : (await readFile(path)).toString('latin1');
        for (const needle of needles) assert.ok(!text.includes(needle), `${e.name} contains ${needle}`);
      }
    });

    test('the next release finds the previous one and lists what was added and removed', async () => {
      clock.advance(7 * 24 * 3_600_000);
      const fresh = (await makeImages(c, p.owners.kept.key, { prompt: 'a new moon', n: 1, seed: 9 }))
        .imageIds;
      const gone = p.images.kept[2]!;
      const hide = await c.app.inject({
        method: 'POST',
        url: `/v1/moderation/images/${gone}/hide`,
        headers: auth(p.moderator.key),
        payload: { reason: 'upheld report' },
      });
      assert.equal(hide.statusCode, 200);
      const r = await c.services.datasets.release({ name: 'second' });
      assert.equal(r.previous, 'first');
      const changes = await parquet(join(r.path, 'changes.parquet'));
      assert.deepEqual(
        changes,
        [
          { id: fresh[0], change: 'added' },
          { id: gone, change: 'removed' },
        ].sort((a, b) => (a.id! < b.id! ? -1 : 1)),
      );
      // Same person, other release: another pseudonym.
      const [a] = await parquet(
        join(c.config.dataDir, 'datasets', 'first', 'metadata.parquet'),
        'SELECT creator',
      );
      const [b] = await parquet(join(r.path, 'metadata.parquet'), 'SELECT creator');
      assert.notEqual(a!.creator, b!.creator);
      await assert.rejects(c.services.datasets.release({ name: 'second' }), /exists or is being built/);

      // Keyset paging with pages of 2 rows reads exactly the same rows.
      const paged = new DatasetService(c.services.database, c.services.blobs, clock, {
        dir: join(c.config.dataDir, 'paged'),
        pageRows: 2,
      });
      const pr = await paged.release({ name: 'paged', previous: null });
      assert.deepEqual(
        (await parquet(join(pr.path, 'metadata.parquet'), 'SELECT id')).map((m) => m.id),
        (await parquet(join(r.path, 'metadata.parquet'), 'SELECT id')).map((m) => m.id),
      );
      assert.deepEqual(
        [pr.manifest.counts.ratings, pr.manifest.counts.preferences],
        [r.manifest.counts.ratings, r.manifest.counts.preferences],
      );
    });
  });
}
