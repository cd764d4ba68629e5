// What the main thread and the classifier thread say to each other.
import type { NsfwClasses } from '@dreamfold/protocol';

export interface ClassifyRequest {
  id: number;
  /** 224 × 224 × 3 bytes, RGB, row-major. */
  rgb: Uint8Array;
}

export type ClassifyResponse =
  { id: number; classes: NsfwClasses } | { id: number; error: string } | { id: -1; ready: string };

export interface ThreadOptions {
  /** 'wasm' (the default and what the coordinator uses) or 'cpu' (pure JS; the benchmark's baseline). */
  backend: 'wasm' | 'cpu';
}

export const INPUT_SIZE = 224;
