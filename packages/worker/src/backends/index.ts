// The backends a donor can choose with `--backend`. Test backends live in test-support/ and are not here.
import type { BackendFactory } from '../backend.js';
import type { BackendChoice } from './choice.js';
import { onnxBackend } from './onnx.js';

export type { BackendChoice } from './choice.js';

export const BACKENDS: readonly BackendFactory<BackendChoice>[] = [onnxBackend];

export function findBackend(name: string): BackendFactory<BackendChoice> | undefined {
  return BACKENDS.find((b) => b.name === name);
}

export function backendNames(): string[] {
  return BACKENDS.map((b) => b.name);
}
