// The resume state of a filtering run: which pairs are finished, for which thresholds and model.
// Written after a pair's outputs are all in place (temp + rename), so a crash at any point leaves
// either a finished pair recorded or an unrecorded pair that the next run redoes, overwriting its
// own output files: nothing is ever appended twice.

import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AestheticsError } from '../errors.js';

export const STATE_FILE = '.aesthetics-filter-state.json';

export interface FilterState {
  version: 1;
  /** SHA-256 of the model file bytes: a different model means different scores. */
  model: string;
  thresholds: number[];
  pairs: Record<string, { rows: number; kept: Record<string, number> }>;
}

export async function loadState(output: string, expected: Omit<FilterState, 'pairs'>): Promise<FilterState> {
  const path = join(output, STATE_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return { ...expected, pairs: {} };
  }
  let state: FilterState;
  try {
    state = JSON.parse(text) as FilterState;
  } catch {
    throw new AestheticsError('state_mismatch', 'resume state is not JSON; delete it to start over', path);
  }
  if (
    state.version !== 1 ||
    state.model !== expected.model ||
    JSON.stringify(state.thresholds) !== JSON.stringify(expected.thresholds)
  ) {
    throw new AestheticsError(
      'state_mismatch',
      'this output folder was filled with another model or other thresholds; use a new folder or restart',
      path,
    );
  }
  return state;
}

export async function saveState(output: string, state: FilterState): Promise<void> {
  const path = join(output, STATE_FILE);
  const temp = `${path}.tmp-${process.pid}`;
  await writeFile(temp, JSON.stringify(state, null, 2) + '\n');
  await rename(temp, path);
}
