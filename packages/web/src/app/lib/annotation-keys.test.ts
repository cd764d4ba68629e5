import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTypingTarget, keyAction } from './annotation-keys.js';

test('digits rate 1–10, 0 meaning 10', () => {
  assert.deepEqual(keyAction('rating', '1'), { answer: { rating: 1 } });
  assert.deepEqual(keyAction('rating', '9'), { answer: { rating: 9 } });
  assert.deepEqual(keyAction('rating', '0'), { answer: { rating: 10 } });
  assert.equal(keyAction('rating', 'ArrowLeft'), undefined);
});

test('arrows answer pairwise tasks', () => {
  assert.deepEqual(keyAction('pairwise', 'ArrowLeft'), { answer: { preference: 'first' } });
  assert.deepEqual(keyAction('pairwise', 'ArrowRight'), { answer: { preference: 'second' } });
  assert.deepEqual(keyAction('pairwise', 'ArrowDown'), { answer: { preference: 'tie' } });
  assert.equal(keyAction('pairwise', '5'), undefined);
});

test('flags toggle with 1–4 and send with Enter', () => {
  assert.deepEqual(keyAction('flag', '2'), { toggleFlag: 'broken' });
  assert.deepEqual(keyAction('flag', 'Enter'), { submitFlags: true });
  assert.equal(keyAction('flag', '5'), undefined);
});

test('keys typed into text fields are not answers', () => {
  assert.equal(isTypingTarget({ tagName: 'INPUT', type: 'text' } as unknown as EventTarget), true);
  assert.equal(isTypingTarget({ tagName: 'TEXTAREA' } as unknown as EventTarget), true);
  assert.equal(isTypingTarget({ tagName: 'INPUT', type: 'checkbox' } as unknown as EventTarget), false);
  assert.equal(isTypingTarget({ tagName: 'BUTTON' } as unknown as EventTarget), false);
  assert.equal(isTypingTarget(null), false);
});
