import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkForm, formFromQuery, requestBody } from './generate-form.js';
import { generateAgainHref } from './generation-links.js';

test('"again with this seed" links round-trip through the form', () => {
  const params = {
    prompt: 'a lighthouse at dusk, oil painting',
    negativePrompt: 'blurry',
    model: 'sd-1.5',
    width: 768,
    height: 512,
    steps: 30,
    guidanceScale: 6.5,
    sampler: 'ddim' as const,
  };
  const href = generateAgainHref(params, 12345);
  const form = formFromQuery(href.split('?')[1] ?? '', 'other-model');
  assert.deepEqual(requestBody(form), { ...params, seed: 12345, n: 1, maxSecondsPerImage: undefined });
});

test('values from the address bar are clamped to the protocol bounds', () => {
  const form = formFromQuery('width=99999&height=13&steps=0&guidance=99&sampler=nope&seed=-1&n=9', 'sd');
  assert.equal(form.width, 2048);
  assert.equal(form.height, 64);
  assert.equal(form.steps, 1);
  assert.equal(form.guidanceScale, 30);
  assert.equal(form.sampler, 'euler_a');
  assert.equal(form.seed, '');
  assert.equal(form.model, 'sd');
});

test('the form explains what is wrong before sending', () => {
  const form = formFromQuery('', '');
  assert.deepEqual(Object.keys(checkForm(form)).sort(), ['model', 'prompt']);
  assert.deepEqual(checkForm({ ...form, prompt: 'x', model: 'sd-1.5', seed: '4294967296' }), {
    seed: 'A whole number from 0 to 4294967295, or empty for a random one.',
  });
});
