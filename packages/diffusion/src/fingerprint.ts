/**
 * A model's identity by content: SHA-256 of each weight file (streamed: UNet files are gigabytes), and one digest
 * over the `sha256sum`-style listing of them, so two donors with the same weights report the same fingerprint.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { DiffusionError } from './errors.js';

export interface ModelFingerprint {
  /** SHA-256 (hex) over the lines "<sha256>  <path>\n" of `files`, in path order. */
  sha256: string;
  files: Array<{ path: string; sha256: string; bytes: number }>;
}

const WEIGHT_FILE = /\.(onnx|onnx_data|onnx\.data|pb|bin)$/;

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function fingerprintModel(dir: string): Promise<ModelFingerprint> {
  const root = resolve(dir);
  if (!(await stat(root).catch(() => undefined))?.isDirectory()) {
    throw new DiffusionError(
      'model_folder_missing',
      `model folder ${root} does not exist or is not a directory`,
    );
  }
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const paths = entries
    .filter((e) => e.isFile() && WEIGHT_FILE.test(e.name))
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
  if (paths.length === 0) {
    throw new DiffusionError('model_file_missing', `no weight files (*.onnx, *.onnx_data) under ${root}`);
  }
  const files: ModelFingerprint['files'] = [];
  for (const path of paths) {
    const full = join(root, path);
    files.push({ path, sha256: await hashFile(full), bytes: (await stat(full)).size });
  }
  const listing = files.map((f) => `${f.sha256}  ${f.path}\n`).join('');
  return { sha256: createHash('sha256').update(listing).digest('hex'), files };
}
