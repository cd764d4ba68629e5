import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { indexDigits, sampleKey, shardName } from './keys.js';
import { Pseudonymizer } from './pseudonym.js';

test('shard names and sample keys follow img2dataset', () => {
  // img2dataset: key = 10^d·shard + index, zero-padded to 5 + d digits, d = ceil(log10(samples per shard)).
  assert.equal(indexDigits(10_000), 4);
  assert.equal(sampleKey(0, 12, indexDigits(10_000)), '000000012');
  assert.equal(sampleKey(1, 5, indexDigits(10_000)), '000010005');
  assert.equal(indexDigits(1000), 3);
  assert.equal(sampleKey(0, 12, 3), '00000012');
  assert.equal(sampleKey(42, 999, 3), '00042999');
  assert.equal(indexDigits(1500), 4);
  assert.equal(indexDigits(1), 0);
  assert.equal(sampleKey(7, 0, 0), '00007');
  // Past 99,999 shards the number grows, as Python's "{:0{w}d}" does.
  assert.equal(sampleKey(123_456, 1, 3), '123456001');
  assert.equal(shardName(0), '00000.tar');
  assert.equal(shardName(123), '00123.tar');
  assert.equal(shardName(100_000), '100000.tar');
});

test('pseudonyms are HMAC-SHA256(salt, kind:id) cut to 16 hex digits, per salt', () => {
  const salt = 'release-salt-0123456789';
  const p = new Pseudonymizer(salt);
  const expected = createHmac('sha256', salt).update('user:user-42').digest('hex').slice(0, 16);
  assert.equal(p.pseudonym('user', 'user-42'), expected);
  assert.equal(p.pseudonym('user', 'user-42'), expected, 'cached value is the same');
  assert.notEqual(p.pseudonym('worker', 'user-42'), expected, 'workers have their own namespace');
  assert.notEqual(new Pseudonymizer(`${salt}!`).pseudonym('user', 'user-42'), expected);
  assert.equal(new Pseudonymizer(Buffer.from(salt)).pseudonym('user', 'user-42'), expected);
  assert.match(expected, /^[0-9a-f]{16}$/);
  // The cache restarts past its limit without changing any answer.
  const many = new Pseudonymizer(salt);
  for (let i = 0; i < 70_000; i++) many.pseudonym('user', `u${i}`);
  assert.equal(many.pseudonym('user', 'user-42'), expected);
});
