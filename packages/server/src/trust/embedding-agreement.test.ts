// Replication with CLIP embeddings, through HTTP on both databases: two honest runs with embeddings agree
// on both measures; a picture pHash cannot tell from the original (same luminance, other colours), or an
// honest picture sent with another picture's embedding, goes to a third worker who settles it; results
// without embeddings are compared by pHash alone, as before; only an embedding sent before the PNG, under
// the lease that delivered it, is compared, and it cannot be swapped afterwards.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ManualClock } from '../clock.js';
import { testDialects } from '../test-support/databases.js';
import type { TestCoordinator } from '../test-support/coordinator.js';
import { analyseImage, hammingDistance } from './image-analysis.js';
import { THRESHOLDS } from './thresholds.js';
import {
  complementaryColours,
  Donor,
  texturedPng,
  makeTrusted,
  PICTURE_EMBEDDING_DIM,
  pictureEmbedding,
  startCreditedTrustCoordinator,
  submitJobs,
  take as takeJob,
  verificationOf,
  type Assignment,
} from './testing.js';

for (const dialect of testDialects()) {
  describe(`replication with CLIP embeddings (${dialect})`, () => {
    let c: TestCoordinator;
    let clock: ManualClock;
    let model = 'm0';
    let seedBase = 0;
    before(async () => {
      ({ c, clock } = await startCreditedTrustCoordinator(dialect, {
        EMBEDDING_DIM: String(PICTURE_EMBEDDING_DIM),
      }));
    });
    after(() => c.shutdown());
    beforeEach(() => {
      model = `m-${randomBytes(4).toString('hex')}`;
    });

    const submit = async (seed: number) => {
      const res = await submitJobs(c, { model, seed, steps: 25 });
      assert.equal(res.statusCode, 201, res.body);
    };
    const take = (donor: Donor): Promise<Assignment> => takeJob(clock, donor, model);
    /** Sends the embedding of `png` (or of `embeddingOf`), then the PNG: the daemon's order. */
    const deliverWith = async (donor: Donor, job: Assignment, png: Buffer, embeddingOf = png) => {
      const sent = await donor.sendEmbedding(job, await pictureEmbedding(embeddingOf));
      assert.equal(sent.statusCode, 200, sent.body);
      const res = await donor.upload(job, png);
      assert.equal(res.statusCode, 200, res.body);
    };
    const verification = async (jobId: string) => {
      const v = await verificationOf(c, jobId);
      assert.ok(v, `a verification case for ${jobId}`);
      return v;
    };
    const results = (jobId: string) =>
      c.services.database.db
        .selectFrom('trust_results')
        .select(['kind', 'worker_id', 'status', 'embedding'])
        .where('job_id', '=', jobId)
        .execute();
    const trustedDonor = async () => {
      const d = await Donor.create(c);
      seedBase += 100;
      await makeTrusted(c, clock, d, { model: `own-${randomBytes(4).toString('hex')}`, seedBase });
      return d;
    };

    test('two honest runs with embeddings agree on both measures', async () => {
      const a = await Donor.create(c);
      const b = await Donor.create(c);
      await submit(11);
      const job = await take(a);
      await deliverWith(a, job, await texturedPng(job.params));
      const replica = await take(b);
      assert.match(replica.id, /^rep_/);
      const sent = await b.sendEmbedding(replica, await pictureEmbedding(await texturedPng(replica.params)));
      assert.equal(sent.json().stored, false, 'a replica’s embedding is only compared, never released');
      assert.equal((await b.upload(replica, await texturedPng(replica.params))).statusCode, 200);

      const v = await verification(job.id);
      assert.equal(v.state, 'verified');
      assert.match(v.detail ?? '', /0 of 64 perceptual-hash bits differ; CLIP-embedding cosine 1\.0000/);
      const both = await results(job.id);
      assert.equal(both.length, 2);
      assert.ok(both.every((r) => r.status === 'verified' && r.embedding !== null));
      for (const d of [a, b]) assert.equal((await d.reputation()).json().results.verified, 1);
    });

    test('a picture pHash cannot tell from the original, with other content, goes to a third worker', async () => {
      const a = await Donor.create(c);
      const cheat = await Donor.create(c);
      const d = await trustedDonor();
      await submit(21);
      const job = await take(a);
      const honest = await texturedPng(job.params);
      await deliverWith(a, job, honest);

      const fake = await complementaryColours(honest);
      const bits = hammingDistance((await analyseImage(honest)).phash, (await analyseImage(fake)).phash);
      assert.ok(bits <= THRESHOLDS.agreeDistance, `pHash alone would agree (${bits} bits)`);
      const replica = await take(cheat);
      await deliverWith(cheat, replica, fake);
      const pending = await verification(job.id);
      assert.equal(pending.state, 'pending');
      assert.match(pending.detail ?? '', /Round 1 disagreed \(\d+ of 64 .*CLIP-embedding cosine -?0\.\d+\)/);

      const third = await take(d);
      assert.match(third.id, /^rep_/);
      assert.notEqual(third.id, replica.id);
      await deliverWith(d, third, await texturedPng(third.params));
      assert.equal((await verification(job.id)).state, 'verified');
      const rep = (await cheat.reputation()).json();
      assert.deepEqual([rep.state, rep.strikes, rep.results.overturned], ['probation', 2, 1]);
      assert.equal((await a.reputation()).json().results.verified, 1);
    });

    test('an honest picture sent with another picture’s embedding is outvoted too', async () => {
      const a = await Donor.create(c);
      const liar = await Donor.create(c);
      const d = await trustedDonor();
      await submit(31);
      const job = await take(a);
      await deliverWith(a, job, await texturedPng(job.params));
      const replica = await take(liar);
      const other = await texturedPng({ ...replica.params, seed: replica.params.seed + 1000 });
      await deliverWith(liar, replica, await texturedPng(replica.params), other);
      assert.equal((await verification(job.id)).state, 'pending');
      const third = await take(d);
      await deliverWith(d, third, await texturedPng(third.params));
      assert.equal((await verification(job.id)).state, 'verified');
      assert.equal((await liar.reputation()).json().results.overturned, 1);
    });

    test('results without embeddings are compared by pHash alone, as before', async () => {
      const a = await Donor.create(c);
      const b = await Donor.create(c);
      const e = await Donor.create(c);
      const f = await Donor.create(c);
      // One side without: pHash decides.
      await submit(41);
      const job = await take(a);
      await deliverWith(a, job, await texturedPng(job.params));
      const replica = await take(b);
      assert.equal((await b.upload(replica, await texturedPng(replica.params))).statusCode, 200);
      const v = await verification(job.id);
      assert.equal(v.state, 'verified');
      assert.doesNotMatch(v.detail ?? '', /cosine/);
      // Neither side: the same-layout picture passes, as it did before embeddings were compared.
      await submit(42);
      const second = await take(e);
      const honest = await texturedPng(second.params);
      assert.equal((await e.upload(second, honest)).statusCode, 200);
      const blind = await take(f);
      assert.equal((await f.upload(blind, await complementaryColours(honest))).statusCode, 200);
      assert.equal((await verification(second.id)).state, 'verified');
    });

    test('only an embedding sent before the PNG is compared, and it cannot be swapped afterwards', async () => {
      const a = await Donor.create(c);
      const b = await Donor.create(c);
      const e = await Donor.create(c);
      await submit(51);
      const job = await take(a);
      const picture = await texturedPng(job.params);
      const embedding = await pictureEmbedding(picture);
      assert.equal((await a.sendEmbedding(job, embedding)).statusCode, 200);
      assert.equal((await a.upload(job, picture)).statusCode, 200);
      // A retry of the same one is fine; another one would ship unchecked in releases.
      assert.equal((await a.sendEmbedding(job, embedding)).statusCode, 200);
      const swapped = await a.sendEmbedding(job, await pictureEmbedding(await complementaryColours(picture)));
      assert.equal(swapped.statusCode, 409, swapped.body);
      assert.equal(swapped.json().type, 'conflict');
      const replica = await take(b);
      await deliverWith(b, replica, await texturedPng(replica.params));
      assert.match((await verification(job.id)).detail ?? '', /cosine 1\.0000/);

      // An embedding after the PNG is stored for scoring but never compared: the verdict does not
      // depend on which of the two reached the coordinator first.
      await submit(52);
      const late = await take(e);
      const latePicture = await texturedPng(late.params);
      assert.equal((await e.upload(late, latePicture)).statusCode, 200);
      const afterPng = await e.sendEmbedding(late, await pictureEmbedding(latePicture));
      assert.deepEqual([afterPng.statusCode, afterPng.json().stored], [200, true]);
      const lateReplica = await take(b);
      assert.equal(lateReplica.params.seed, 52);
      await deliverWith(b, lateReplica, await texturedPng(lateReplica.params));
      const v = await verification(late.id);
      assert.equal(v.state, 'verified');
      assert.doesNotMatch(v.detail ?? '', /cosine/);
      const original = (await results(late.id)).find((r) => r.kind === 'canonical');
      assert.equal(original?.embedding, null);
    });

    test('a replica’s embedding counts only for the lease it was sent under', async () => {
      const a = await Donor.create(c);
      const b = await Donor.create(c);
      const e = await Donor.create(c);
      await submit(61);
      const job = await take(a);
      await deliverWith(a, job, await texturedPng(job.params));
      const replica = await take(b);
      assert.equal(
        (await b.sendEmbedding(replica, await pictureEmbedding(await texturedPng(job.params)))).statusCode,
        200,
      );
      clock.advance(61_000);
      await c.services.leases.expire();
      const lost = await b.sendEmbedding(replica, await pictureEmbedding(await texturedPng(job.params)));
      assert.deepEqual([lost.statusCode, lost.json().type], [409, 'lease_lost']);
      const again = await take(e);
      assert.equal(again.id, replica.id);
      assert.equal((await e.upload(again, await texturedPng(again.params))).statusCode, 200);
      const mine = (await results(job.id)).find((r) => r.kind === 'replica');
      assert.equal(mine?.embedding, null, 'the first worker’s embedding is not the second one’s');
      assert.doesNotMatch((await verification(job.id)).detail ?? '', /cosine/);
    });
  });
}
