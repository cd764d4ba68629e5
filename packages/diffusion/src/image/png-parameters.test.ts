import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import {
  formatParameters,
  insertPngText,
  parseParameters,
  readPngParameters,
  readPngTexts,
  writePngParameters,
} from '../index.js';

const png = () =>
  sharp({ create: { width: 8, height: 8, channels: 3, background: '#336699' } })
    .png()
    .toBuffer();

describe('PNG parameters chunk', () => {
  it('round-trips A1111-style parameters through a tEXt chunk right after IHDR', async () => {
    const text = formatParameters('a photo of a cat', 'blurry, low quality', [
      ['Steps', 20],
      ['Sampler', 'euler'],
      ['CFG scale', 7],
      ['Seed', 1],
      ['Size', '512x512'],
      ['Model', 'name'],
    ]);
    assert.equal(
      text,
      'a photo of a cat\nNegative prompt: blurry, low quality\n' +
        'Steps: 20, Sampler: euler, CFG scale: 7, Seed: 1, Size: 512x512, Model: name',
    );
    const original = await png();
    const out = writePngParameters(original, text);
    assert.equal(out.toString('latin1', 33 + 4, 33 + 8), 'tEXt');
    const parsed = readPngParameters(out);
    assert.deepEqual(
      { ...parsed, settings: undefined },
      {
        prompt: 'a photo of a cat',
        negativePrompt: 'blurry, low quality',
        settings: undefined,
        steps: 20,
        sampler: 'euler',
        cfgScale: 7,
        seed: 1,
        width: 512,
        height: 512,
        model: 'name',
      },
    );
    // Still a valid PNG with the same pixels.
    assert.deepEqual(await sharp(out).raw().toBuffer(), await sharp(original).raw().toBuffer());
  });

  it('uses iTXt (UTF-8) for text outside Latin-1, and quotes values with commas', async () => {
    const text = formatParameters('一只猫 🐱\nsecond line', '', [
      ['Steps', 4],
      ['Model', 'my, model'],
    ]);
    assert.equal(text, '一只猫 🐱\nsecond line\nSteps: 4, Model: "my, model"');
    const out = writePngParameters(await png(), text);
    assert.equal(out.toString('latin1', 37, 41), 'iTXt');
    const parsed = readPngParameters(out);
    assert.equal(parsed?.prompt, '一只猫 🐱\nsecond line');
    assert.equal(parsed?.negativePrompt, '');
    assert.equal(parsed?.model, 'my, model');
    assert.equal(parsed?.steps, 4);
  });

  it('reads other keywords, skips chunks with a bad CRC, and returns undefined without parameters', async () => {
    const base = await png();
    assert.equal(readPngParameters(base), undefined);
    const tagged = insertPngText(base, 'Comment', 'hello');
    assert.equal(readPngTexts(tagged).get('Comment'), 'hello');
    const corrupt = Buffer.from(tagged);
    corrupt[33 + 8 + 2] = corrupt[33 + 8 + 2]! ^ 0xff; // flip a byte of the chunk data
    assert.equal(readPngTexts(corrupt).has('Comment'), false);
  });

  it('parses text written by other tools without a settings line', () => {
    assert.deepEqual(parseParameters('just a prompt').prompt, 'just a prompt');
    assert.equal(
      parseParameters('p\nSteps: 30, Sampler: DPM++ 2M Karras, Seed: 99').sampler,
      'DPM++ 2M Karras',
    );
  });
});
