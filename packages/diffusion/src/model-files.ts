/**
 * Reading the small text files of a model folder. Every failure names the folder-relative file, because the
 * person fixing it is a donor looking at a directory listing.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DiffusionError, messageOf } from './errors.js';

export async function fileExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export async function readModelText(root: string, file: string): Promise<string> {
  try {
    return await readFile(join(root, file), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DiffusionError('model_file_missing', `${file} is missing from the model folder ${root}`, {
        file,
      });
    }
    throw new DiffusionError('model_file_malformed', `${file} cannot be read: ${messageOf(error)}`, {
      file,
      cause: error,
    });
  }
}

/** Parse a JSON file that must hold an object. */
export async function readModelJson(root: string, file: string): Promise<Record<string, unknown>> {
  const text = await readModelText(root, file);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DiffusionError('model_file_malformed', `${file} is not valid JSON: ${messageOf(error)}`, {
      file,
      cause: error,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DiffusionError('model_file_malformed', `${file} must contain a JSON object`, { file });
  }
  return value as Record<string, unknown>;
}

/** A typed field reader that reports the file and key on a wrong type. */
export function optionalNumber(json: Record<string, unknown>, key: string, file: string): number | undefined {
  const value = json[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new DiffusionError('model_file_malformed', `${file}: "${key}" must be a number`, { file });
  }
  return value;
}

export function optionalString(json: Record<string, unknown>, key: string, file: string): string | undefined {
  const value = json[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw new DiffusionError('model_file_malformed', `${file}: "${key}" must be a string`, { file });
  }
  return value;
}
