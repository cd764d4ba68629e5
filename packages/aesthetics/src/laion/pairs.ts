// LAION's "parquet_npy" layout (what img2dataset + clip-retrieval write and embedding-reader reads):
//   <root>/img_emb/img_emb_0000.npy  +  <root>/metadata/metadata_0000.parquet
// Files pair up by their number; row i of the .npy is row i of the Parquet file.

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AestheticsError } from '../errors.js';

export interface EmbeddingPair {
  /** The shared number as written in the file names, e.g. "0000". */
  id: string;
  embeddings: string;
  metadata: string;
}

async function numbered(dir: string, pattern: RegExp): Promise<Map<string, string>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return new Map();
  }
  const found = new Map<string, string>();
  for (const name of names) {
    const match = pattern.exec(name);
    if (match) found.set(match[1]!, join(dir, name));
  }
  return found;
}

/** Lists the pairs under `root`, in numeric order; every file must have its partner. */
export async function findEmbeddingPairs(root: string): Promise<EmbeddingPair[]> {
  const embeddings = await numbered(join(root, 'img_emb'), /^img_emb_(\d+)\.npy$/);
  const metadata = await numbered(join(root, 'metadata'), /^metadata_(\d+)\.parquet$/);
  for (const [id, path] of embeddings) {
    if (!metadata.has(id)) {
      throw new AestheticsError(
        'missing_pair',
        `no metadata/metadata_${id}.parquet for this embeddings file`,
        path,
      );
    }
  }
  for (const [id, path] of metadata) {
    if (!embeddings.has(id)) {
      throw new AestheticsError('missing_pair', `no img_emb/img_emb_${id}.npy for this metadata file`, path);
    }
  }
  if (embeddings.size === 0) {
    throw new AestheticsError(
      'no_pairs',
      'no img_emb/img_emb_N.npy + metadata/metadata_N.parquet pairs found',
      root,
    );
  }
  return [...embeddings.keys()]
    .sort((a, b) => Number(a) - Number(b) || a.localeCompare(b))
    .map((id) => ({ id, embeddings: embeddings.get(id)!, metadata: metadata.get(id)! }));
}
