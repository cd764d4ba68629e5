// The backends a donor can choose with `--backend`. Test backends live in test-support/ and are not here.
import type { BackendFactory } from '../backend.js';

export interface BackendChoice {
  /** `--model-dir`, repeatable: one model per folder, its id is the folder name. */
  modelDirs: string[];
  /** Execution provider (cpu, cuda, coreml, dml, webgpu) for backends that have one. */
  provider?: string;
}

export const BACKENDS: readonly BackendFactory<BackendChoice>[] = [];

export function findBackend(name: string): BackendFactory<BackendChoice> | undefined {
  return BACKENDS.find((b) => b.name === name);
}

export function backendNames(): string[] {
  return BACKENDS.map((b) => b.name);
}
