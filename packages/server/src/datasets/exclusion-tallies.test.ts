// The dataset card's exclusion counts (datasets/source-queries.ts: two one-pass statements) against what
// happened on a small platform: images hidden by a moderator and by the safety classifier, owners who
// withdrew or deleted their account, answers of an excluded and of a withdrawn rater.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../test-support/databases.js';
import { startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { hideForSafety } from '../safety/reevaluation-queries.js';
import { markHiddenByClassifier } from '../safety/queries.js';
import { classifierReason } from '../safety/scanner.js';
import { buildPlatform, type Platform } from './test-fixtures.js';
import { exclusionTallyQueries, tallyFrom } from './source-queries.js';

for (const dialect of testDialects()) {
  describe(`exclusion counts for the dataset card (${dialect})`, () => {
    let c: TestCoordinator;
    let p: Platform;
    before(async () => {
      c = await startTestCoordinator({ dialect });
      p = await buildPlatform(c);
    });
    after(() => c.shutdown());

    test('each image and answer left out is counted once, under its reason', async () => {
      const { db, arrayRows } = c.services.database;
      // Hidden the way the classifier's scanner hides (safety/scanner.ts), in one transaction.
      const flagged = p.images.kept[3]!;
      await db.transaction().execute(async (trx) => {
        const now = c.services.clock.now();
        assert.ok(await hideForSafety(trx, { imageId: flagged, reason: classifierReason(0.99, 0.8), now }));
        await markHiddenByClassifier(trx, flagged);
      });
      const answers = await Promise.all(exclusionTallyQueries(db).map((q) => arrayRows(q)));
      const by = (raterId: string) => p.answers.filter((a) => a.raterId === raterId).length;
      assert.deepEqual(tallyFrom(answers, 2), {
        finishedImages: p.images.kept.length + p.images.withdrawing.length + p.images.deleting.length,
        publicImages: 2,
        hiddenByClassifier: 1,
        hiddenByModerators: 1,
        ownerWithdrew: p.images.withdrawing.length,
        ownerDeletedWithWithdrawal: p.images.deleting.length,
        annotationsOfExcludedRaters: by(p.raters.excluded.id),
        annotationsOfReplacedImages: 0,
        annotationsOfWithdrawnRaters: by(p.raters.withdrawn.id),
      });
      assert.ok(by(p.raters.excluded.id) > 0 && by(p.raters.withdrawn.id) > 0);
    });
  });
}
