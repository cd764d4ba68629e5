// GenerationPublisher's promise to its callers: it never fails the state change it follows. An upload's
// reply comes after `finishIfDone`; were its read of the generation to throw, a worker would be told its
// committed result failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { GenerationEvent } from '@dreamfold/protocol';
import { openDatabase } from '../db/connect.js';
import { MemoryBus } from '../events/memory-bus.js';
import { createTestDatabase } from '../test-support/databases.js';
import { GenerationPublisher } from './publisher.js';

test('a generation read that fails is logged, and finishIfDone and cancelled still resolve', async () => {
  const database = await createTestDatabase('sqlite');
  const handle = await openDatabase(database.url);
  await handle.close();
  const lines: { msg: string; generationId?: string; err?: string }[] = [];
  const log = pino(
    { level: 'warn' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    }),
  );
  const bus = new MemoryBus();
  const heard: GenerationEvent[] = [];
  bus.onGeneration('g-1', (event) => heard.push(event));
  const publisher = new GenerationPublisher(handle.db, bus, log);

  await publisher.finishIfDone('g-1');
  await publisher.cancelled('g-1', 'Cancelled by its requester.');
  // A one-image generation needs no read: finished at once.
  await publisher.finishIfDone('g-1', { n: 1, state: 'done' });
  await new Promise((resolve) => setImmediate(resolve));

  assert.deepEqual(
    lines.map((l) => [l.msg, l.generationId]),
    [
      ['could not read whether a generation finished', 'g-1'],
      ['could not read whether a generation finished', 'g-1'],
    ],
  );
  assert.ok(
    lines.every((l) => typeof l.err === 'string' && !l.err.includes('\n    at ')),
    'no stack traces',
  );
  assert.deepEqual(heard, [
    { type: 'cancelled', reason: 'Cancelled by its requester.' },
    { type: 'finished', status: 'done' },
  ]);
});
