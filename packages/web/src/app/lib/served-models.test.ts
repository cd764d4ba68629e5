import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelHint } from './served-models.js';

const models = [
  { model: 'sd-1.5', maxPixels: 512 * 512, workers: 3 },
  { model: 'sd-2.1', maxPixels: 768 * 768, workers: 1 },
];

test('the model hint says who serves the model, or why the images would wait', () => {
  assert.deepEqual(modelHint(models, 'sd-1.5', 512 * 512), {
    text: '3 workers serve sd-1.5 now.',
    warning: false,
  });
  assert.equal(modelHint(models, 'sd-2.1', 512 * 512).text, '1 worker serves sd-2.1 now.');
  assert.equal(modelHint(models, 'sd-1.5', 768 * 768).warning, true);
  assert.match(modelHint(models, 'sdxl', 512 * 512).text, /Served now: sd-1.5, sd-2.1/);
  assert.match(modelHint([], 'sd-1.5', 1).text, /No worker is online/);
  assert.equal(modelHint(undefined, 'x', 1).warning, false);
});
