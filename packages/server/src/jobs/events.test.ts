import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../test-support/databases.js';
import { auth, solidPng, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { heartbeat, pop, registerWorker, submit, upload } from '../test-support/worker-client.js';

interface SseEvent {
  type: string;
  [k: string]: unknown;
}

/** Reads an SSE stream into events until it ends; `seen` lets the test act at the right moment. */
function readEvents(url: string, key: string, onEvent: (e: SseEvent) => void): Promise<SseEvent[]> {
  return (async () => {
    const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const events: SseEvent[] = [];
    let buffer = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let sep: number;
      while ((sep = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, sep);
        buffer = buffer.slice(sep + 2);
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (!data) continue;
        const event = JSON.parse(data.slice(6)) as SseEvent;
        events.push(event);
        onEvent(event);
      }
    }
    return events;
  })();
}

for (const dialect of testDialects()) {
  describe(`generation events over SSE (${dialect})`, () => {
    let c: TestCoordinator;
    before(async () => {
      c = await startTestCoordinator({ dialect, listen: true });
    });
    after(() => c.shutdown());

    test('snapshot, queue position, started, progress, image, finished — then the stream ends', async () => {
      const worker = await registerWorker(c, c.userKey);
      const g = (await submit(c, c.userKey, { model: 'sse', n: 2 })).json();
      let resolveSnapshot!: () => void;
      const snapshotSeen = new Promise<void>((r) => (resolveSnapshot = r));
      const stream = readEvents(`${c.url}/v1/generations/${g.id}/events`, c.userKey, (e) => {
        if (e.type === 'snapshot') resolveSnapshot();
      });
      await snapshotSeen;
      for (let i = 0; i < 2; i++) {
        const job = (await pop(c, worker, { models: ['sse'] })).json().job;
        assert.equal((await heartbeat(c, worker, job.id, job.leaseId, 3)).statusCode, 200);
        assert.equal(
          (await upload(c, worker, job.id, job.leaseId, await solidPng(64, 64, i))).statusCode,
          200,
        );
      }
      const events = await stream;
      const types = events.map((e) => e.type);
      assert.equal(types[0], 'snapshot');
      assert.deepEqual(events[1], { type: 'queued', position: 0 });
      assert.deepEqual(
        types.filter((t) => t !== 'queued'),
        ['snapshot', 'started', 'progress', 'image', 'started', 'progress', 'image', 'finished'],
      );
      assert.deepEqual(events.at(-1), { type: 'finished', status: 'done' });
      // On PostgreSQL the claim statement itself announces `started` (jobs/sql/claim-job.ts): same fields.
      const started = events.filter((e) => e.type === 'started');
      assert.deepEqual(
        started.map((e) => e.index),
        [0, 1],
      );
      const workers = (await c.app.inject({ url: '/v1/workers', headers: auth(c.userKey) })).json();
      assert.deepEqual(
        started.map((e) => e.workerId),
        [workers.items[0].id, workers.items[0].id],
      );
      const progress = events.find((e) => e.type === 'progress');
      assert.deepEqual(progress, { type: 'progress', index: 0, step: 3, totalSteps: 10 });
    });

    test('a finished generation streams its snapshot and finished, then closes', async () => {
      const g = (await submit(c, c.userKey, { model: 'sse-done' })).json();
      await c.app.inject({
        method: 'DELETE',
        url: `/v1/generations/${g.id}`,
        headers: { authorization: `Bearer ${c.userKey}` },
      });
      const events = await readEvents(`${c.url}/v1/generations/${g.id}/events`, c.userKey, () => {});
      assert.deepEqual(
        events.map((e) => e.type),
        ['snapshot', 'finished'],
      );
      assert.equal(events[1]?.status, 'cancelled');
    });
  });
}
