/** Tiny models for tests, written once per option set and process into a temp folder. */
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { createTinyModel } from '../index.js';
import type { TinyModelOptions } from '../index.js';
import { tempDir } from './temp.js';

const cache = new Map<string, Promise<string>>();

export function tinyModel(options: TinyModelOptions = {}): Promise<string> {
  const key = JSON.stringify(options);
  let dir = cache.get(key);
  if (!dir) {
    dir = createTinyModel(join(tempDir(), 'tiny-sd'), options).then((m) => m.dir);
    cache.set(key, dir);
  }
  return dir;
}

/** A private copy of a tiny model, for tests that break files. */
export async function tinyModelCopy(options: TinyModelOptions = {}): Promise<string> {
  const copy = join(tempDir(), 'tiny-sd-copy');
  await cp(await tinyModel(options), copy, { recursive: true });
  return copy;
}
