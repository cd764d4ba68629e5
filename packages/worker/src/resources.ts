// Donor autopilot, part one: what this machine has (RAM, free disk, and VRAM where nvidia-smi can tell),
// and which models fit in it. A model's memory need is estimated from its folder: the weight files are
// loaded whole, plus working memory for activations at the largest image this worker accepts. A model
// that will not fit is refused at start with a message that says what is missing — better than an
// out-of-memory crash in the middle of someone's job.
import { execFile } from 'node:child_process';
import { readdir, stat, statfs } from 'node:fs/promises';
import { freemem, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FatalWorkerError } from './errors.js';

export interface GpuInfo {
  name: string;
  totalMb: number;
  usedMb: number;
  /** Percent of the last sample period the GPU was busy. */
  utilization: number;
}

export interface Resources {
  ramTotalMb: number;
  ramFreeMb: number;
  /** Free space on the filesystem holding the models (or the temp folder). */
  diskFreeMb: number;
  /** undefined: no nvidia-smi here, so VRAM cannot be read (AMD, Apple, Intel, or no driver tools). */
  gpus: GpuInfo[] | undefined;
}

const MB = 1024 * 1024;

/** Reads nvidia-smi's CSV (one line per GPU), or undefined when it is not installed or fails. */
export async function readNvidiaSmi(command = 'nvidia-smi'): Promise<GpuInfo[] | undefined> {
  const out = await new Promise<string | undefined>((resolve) => {
    execFile(
      command,
      ['--query-gpu=name,memory.total,memory.used,utilization.gpu', '--format=csv,noheader,nounits'],
      { timeout: 5000 },
      (err, stdout) => resolve(err ? undefined : stdout),
    );
  });
  if (out === undefined) return undefined;
  return parseNvidiaSmi(out);
}

export function parseNvidiaSmi(csv: string): GpuInfo[] | undefined {
  const gpus: GpuInfo[] = [];
  for (const line of csv
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    const parts = line.split(',').map((p) => p.trim());
    const [name, total, used, util] = parts;
    const n = (s: string | undefined) => (s === undefined || !/^\d+(\.\d+)?$/.test(s) ? NaN : Number(s));
    if (parts.length !== 4 || !name || [total, used, util].some((v) => Number.isNaN(n(v)))) return undefined;
    gpus.push({ name, totalMb: n(total), usedMb: n(used), utilization: n(util) });
  }
  return gpus.length > 0 ? gpus : undefined;
}

export async function probeResources(diskPath = tmpdir(), nvidiaSmi = 'nvidia-smi'): Promise<Resources> {
  const fs = await statfs(diskPath);
  return {
    ramTotalMb: Math.round(totalmem() / MB),
    ramFreeMb: Math.round(freemem() / MB),
    diskFreeMb: Math.round((fs.bavail * fs.bsize) / MB),
    gpus: await readNvidiaSmi(nvidiaSmi),
  };
}

/** Total size of the files under a folder (the model's weights, tokenizer and configs). */
export async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await folderBytes(path);
    else if (entry.isFile()) total += (await stat(path)).size;
  }
  return total;
}

/** How classifier-free guidance runs the UNet: one batch of 2 per step, or two batch-1 runs (less memory). */
export type GuidanceChoice = 'batched' | 'sequential';
export const GUIDANCE_CHOICES: readonly GuidanceChoice[] = ['batched', 'sequential'];
export const isGuidanceChoice = (value: unknown): value is GuidanceChoice =>
  (GUIDANCE_CHOICES as readonly unknown[]).includes(value);

/**
 * Memory one generation needs: the weights as loaded, plus activations. SD 1.x UNet activations at
 * 512×512 with classifier-free guidance batched (batch 2) take roughly 1.5 GB and grow with the pixel
 * count; sequential guidance runs batch 1, about half. We scale from there and add a fixed 512 MB for
 * the runtime itself. An estimate, deliberately on the safe side.
 */
export function estimateNeedMb(
  weightBytes: number,
  maxPixels: number,
  guidance: GuidanceChoice = 'batched',
): number {
  const at512 = guidance === 'sequential' ? 768 : 1536;
  const activationsMb = at512 * Math.max(1, maxPixels / (512 * 512));
  return Math.ceil(weightBytes / MB + activationsMb + 512);
}

export type MemoryKind = 'vram' | 'ram';

export interface FitVerdict {
  fits: boolean;
  needMb: number;
  /** What was compared with, in words. */
  against: string;
  /** Set when the memory could not be read (VRAM without nvidia-smi): the model is allowed, with a warning. */
  unknown?: true;
}

/**
 * Does a model of this size fit? GPU providers compare with the largest GPU's total VRAM (what the
 * driver lets one process have, leaving what other programs use now aside); CPU and Apple's unified
 * memory compare with total RAM, keeping a quarter for the system.
 */
export function fits(needMb: number, memory: MemoryKind, r: Resources): FitVerdict {
  if (memory === 'ram') {
    const usable = Math.floor(r.ramTotalMb * 0.75);
    return { fits: needMb <= usable, needMb, against: `${usable} MB of ${r.ramTotalMb} MB RAM usable` };
  }
  if (!r.gpus) return { fits: true, needMb, against: 'VRAM unknown (no nvidia-smi)', unknown: true };
  const best = r.gpus.reduce((a, g) => (g.totalMb > a.totalMb ? g : a));
  return { fits: needMb <= best.totalMb, needMb, against: `${best.totalMb} MB VRAM on ${best.name}` };
}

/**
 * The platform's minimum for a donor: 5.1 GiB of VRAM (or an Apple M1's unified memory) holds SD 1.5 in
 * fp16 with sequential guidance. `dreamfold worker doctor` compares the machine with it.
 */
export const DONOR_MIN_MEMORY_MB = Math.round(5.1 * 1024);

/** Below this, the worker cannot even write its temporary files: it refuses to start. */
export const MIN_FREE_DISK_MB = 256;

/** GPU execution providers hold the model in VRAM; CPU and Apple's CoreML (unified memory) in RAM. */
export function memoryOf(provider: string): MemoryKind {
  return provider === 'cpu' || provider === 'coreml' ? 'ram' : 'vram';
}

/**
 * Keeps the models that fit, says why each other one was refused, and refuses to start when none fits
 * or the disk is full. `dir` is each model's folder; its size estimates the model's memory.
 */
export async function selectFitting<T extends { id: string; dir: string }>(
  models: readonly T[],
  o: {
    memory: MemoryKind;
    maxPixels: number;
    resources: Resources;
    guidance?: GuidanceChoice;
    warn?: (message: string) => void;
  },
): Promise<T[]> {
  const r = o.resources;
  if (r.diskFreeMb < MIN_FREE_DISK_MB) {
    throw new FatalWorkerError(
      'disk_full',
      `Only ${r.diskFreeMb} MB of disk is free where the models are; the worker needs at least ${MIN_FREE_DISK_MB} MB. Free some space and start again.`,
    );
  }
  const fitting: T[] = [];
  const refused: string[] = [];
  for (const m of models) {
    const verdict = fits(estimateNeedMb(await folderBytes(m.dir), o.maxPixels, o.guidance), o.memory, r);
    if (verdict.fits) {
      fitting.push(m);
      if (verdict.unknown)
        o.warn?.(`${m.id} needs about ${verdict.needMb} MB; ${verdict.against}, so it is not checked.`);
    } else {
      refused.push(`${m.id} needs about ${verdict.needMb} MB (${verdict.against})`);
    }
  }
  if (fitting.length === 0) {
    throw new FatalWorkerError(
      'no_model_fits',
      `No model fits this machine: ${refused.join('; ')}. Lower --max-pixels, use an fp16 copy of the model${o.guidance === 'sequential' ? '' : ', add --guidance sequential'}, or use a machine with more memory.`,
    );
  }
  for (const r of refused) o.warn?.(`Not serving ${r}.`);
  return fitting;
}
