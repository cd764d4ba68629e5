import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JobRow } from '../jobs/sql/read-generations.js';
import { HandedOutLeases } from './handed-out-leases.js';

const job = (id: string, leaseId: string | null, workerId = 'w1') =>
  ({ id, lease_id: leaseId, worker_id: workerId, state: 'leased' }) as JobRow;

test('a remembered lease is found only for its own job and worker', () => {
  const leases = new HandedOutLeases();
  const j = job('job1', 'lease1');
  leases.remember(j);
  assert.equal(leases.find('job1', 'lease1', 'w1'), j);
  assert.equal(leases.find('job2', 'lease1', 'w1'), undefined, 'another job named with this lease');
  assert.equal(leases.find('job1', 'lease1', 'w2'), undefined, 'another worker');
  assert.equal(leases.find('job1', 'lease2', 'w1'), undefined, 'another lease of the same job');
  leases.forget('lease1', 'w2');
  assert.equal(leases.find('job1', 'lease1', 'w1'), j, "another worker's call ends nothing");
  leases.forget('lease1', 'w1');
  assert.equal(leases.find('job1', 'lease1', 'w1'), undefined);
});

test('memory is bounded: past the limit the oldest handout is forgotten first', () => {
  const leases = new HandedOutLeases(3);
  for (let i = 1; i <= 4; i++) leases.remember(job(`job${i}`, `lease${i}`));
  assert.equal(leases.size, 3);
  assert.equal(leases.find('job1', 'lease1', 'w1'), undefined);
  assert.ok(leases.find('job4', 'lease4', 'w1'));
  assert.ok(leases.find('job2', 'lease2', 'w1'));
});

test('a row without a lease is not remembered', () => {
  const leases = new HandedOutLeases();
  leases.remember(job('job1', null));
  assert.equal(leases.size, 0);
});
