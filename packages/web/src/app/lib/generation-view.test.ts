import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Generation } from '@dreamfold/protocol';
import { applyEvent, secondsLeft, statusLine, viewOf } from './generation-view.js';

function generation(n = 2): Generation {
  return {
    id: 'g1',
    status: 'queued',
    params: {
      prompt: 'p',
      negativePrompt: '',
      model: 'm',
      width: 64,
      height: 64,
      steps: 10,
      guidanceScale: 7,
      sampler: 'euler',
    },
    seed: 5,
    n,
    createdAt: '2026-01-01T00:00:00.000Z',
    queuePosition: 3,
    images: Array.from({ length: n }, (_, index) => ({
      index,
      jobId: `j${index}`,
      state: 'queued' as const,
      seed: 5 + index,
      step: 0,
      attempts: 0,
    })),
  };
}

test('events move a generation from queued through progress to done', () => {
  let view = applyEvent(undefined, { type: 'snapshot', generation: generation() }, 0);
  assert.equal(view && statusLine(view), 'Queued: 3 jobs ahead.');
  view = applyEvent(view, { type: 'queued', position: 1 }, 0);
  assert.equal(view && statusLine(view), 'Queued: 1 job ahead.');
  view = applyEvent(view, { type: 'started', index: 0, workerId: 'w' }, 0);
  assert.equal(view?.generation.status, 'running');
  view = applyEvent(view, { type: 'progress', index: 0, step: 2, totalSteps: 10 }, 1000);
  view = applyEvent(view, { type: 'progress', index: 0, step: 4, totalSteps: 10 }, 3000);
  // 2 steps took 2 s, 6 steps remain.
  assert.equal(secondsLeft(view?.progress[0]), 6);
  view = applyEvent(view, { type: 'image', index: 0, url: '/v1/generations/g1/images/0', sha256: 'x' }, 4000);
  assert.equal(view?.generation.images[0]?.state, 'done');
  assert.equal(view?.progress[0], undefined);
  assert.equal(view && statusLine(view), 'Generating: 1 of 2 images done.');
  view = applyEvent(view, { type: 'failed', index: 1, reason: 'out of memory' }, 5000);
  view = applyEvent(view, { type: 'finished', status: 'partial' }, 5000);
  assert.equal(view?.finished, true);
  assert.equal(view?.notes[1], 'out of memory');
  assert.equal(view && statusLine(view), 'Finished: 1 of 2 images; 1 could not be made.');
});

test('a requeued image goes back to waiting and says why', () => {
  let view = applyEvent(undefined, { type: 'snapshot', generation: generation(1) }, 0);
  view = applyEvent(view, { type: 'started', index: 0, workerId: 'w' }, 0);
  view = applyEvent(view, { type: 'requeued', index: 0, reason: 'the worker went away' }, 0);
  assert.equal(view?.generation.images[0]?.state, 'queued');
  assert.equal(view?.generation.status, 'queued');
  assert.equal(view?.notes[0], 'the worker went away');
});

test('cancelling marks unfinished images cancelled', () => {
  let view = applyEvent(undefined, { type: 'snapshot', generation: generation(2) }, 0);
  view = applyEvent(view, { type: 'image', index: 0, url: 'u', sha256: 's' }, 0);
  view = applyEvent(view, { type: 'cancelled', reason: 'Cancelled by the requester.' }, 0);
  assert.deepEqual(
    view?.generation.images.map((i) => [i.state, i.cancelReason]),
    [
      ['done', undefined],
      ['cancelled', 'Cancelled by the requester.'],
    ],
  );
  assert.equal(view?.generation.status, 'partial');
});

test('a snapshot after a reconnect replaces the state; events before any snapshot are ignored', () => {
  assert.equal(applyEvent(undefined, { type: 'queued', position: 1 }, 0), undefined);
  const running = { ...generation(1), status: 'running' as const, queuePosition: undefined };
  running.images[0] = { ...running.images[0]!, state: 'leased', step: 7 };
  const view = viewOf(running);
  assert.deepEqual(view.progress[0], { step: 7, totalSteps: 10 });
  assert.equal(view.finished, false);
});

test('events the snapshot already reflects do not take an image back', () => {
  const running = { ...generation(2), status: 'running' as const, queuePosition: undefined };
  running.images[0] = { ...running.images[0]!, state: 'done', url: 'u', sha256: 's' };
  running.images[1] = { ...running.images[1]!, state: 'leased', step: 6 };
  let view = applyEvent(undefined, { type: 'snapshot', generation: running }, 0);
  // Sent before the snapshot was read, delivered after it.
  view = applyEvent(view, { type: 'started', index: 0, workerId: 'w' }, 0);
  view = applyEvent(view, { type: 'progress', index: 0, step: 3, totalSteps: 10 }, 0);
  view = applyEvent(view, { type: 'started', index: 1, workerId: 'w' }, 0);
  view = applyEvent(view, { type: 'progress', index: 1, step: 4, totalSteps: 10 }, 0);
  assert.deepEqual(
    view?.generation.images.map((i) => [i.state, i.step]),
    [
      ['done', 0],
      ['leased', 6],
    ],
  );
  assert.equal(view?.progress[0], undefined);
  assert.equal(view?.progress[1]?.step, 6);
  // Later steps still move it on; a requeued image runs again from step 0.
  view = applyEvent(view, { type: 'progress', index: 1, step: 8, totalSteps: 10 }, 1000);
  assert.equal(view?.generation.images[1]?.step, 8);
  view = applyEvent(view, { type: 'requeued', index: 1, reason: 'the worker went away' }, 0);
  view = applyEvent(view, { type: 'started', index: 1, workerId: 'w2' }, 0);
  view = applyEvent(view, { type: 'progress', index: 1, step: 1, totalSteps: 10 }, 0);
  assert.deepEqual(
    view?.generation.images[1] && [view.generation.images[1].state, view.generation.images[1].step],
    ['leased', 1],
  );
});
