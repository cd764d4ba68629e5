/**
 * image_encoder/preprocessor_config.json: the fields of Hugging Face's CLIPImageProcessor that decide what
 * the vision tower sees. Both spellings transformers has written are read: `size: 224` / `crop_size: 224`
 * (older feature extractors) and `size: { shortest_edge: 224 }` / `crop_size: { height, width }`.
 */
import { DiffusionError } from '../errors.js';

export const PREPROCESSOR_FILE = 'image_encoder/preprocessor_config.json';

/** PIL's resampling filter numbers, as CLIPImageProcessor stores them, and sharp's kernels for them. */
const RESAMPLE_KERNELS = {
  0: 'nearest',
  1: 'lanczos3',
  2: 'linear',
  3: 'cubic',
  4: 'nearest',
  5: 'linear',
} as const;
export type ResizeKernel = (typeof RESAMPLE_KERNELS)[keyof typeof RESAMPLE_KERNELS];

export interface ImagePreprocessorConfig {
  /** Resize so the shorter side is this long (aspect kept), or to exactly height × width. */
  resize: { shortestEdge: number } | { height: number; width: number } | undefined;
  kernel: ResizeKernel;
  crop: { height: number; width: number } | undefined;
  /** Multiplier from 0..255 values (1/255 in CLIP); undefined: no rescaling. */
  rescaleFactor: number | undefined;
  /** Per-channel mean and std (RGB); undefined: no normalisation. */
  normalize: { mean: [number, number, number]; std: [number, number, number] } | undefined;
}

/** OpenAI CLIP's values, which every CLIP ViT export ships. */
export const CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

export function parsePreprocessorConfig(json: Record<string, unknown>): ImagePreprocessorConfig {
  const bad = (message: string): never => {
    throw new DiffusionError('model_file_malformed', `${PREPROCESSOR_FILE}: ${message}`, {
      file: PREPROCESSOR_FILE,
    });
  };
  const positive = (value: unknown, key: string): number =>
    typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= 4096
      ? value
      : bad(`"${key}" must be a positive integer up to 4096`);
  const flag = (key: string, fallback: boolean): boolean => {
    const value = json[key];
    if (value === undefined || value === null) return fallback;
    return typeof value === 'boolean' ? value : bad(`"${key}" must be true or false`);
  };
  const triple = (key: string, fallback: [number, number, number]): [number, number, number] => {
    const value = json[key] ?? fallback;
    if (typeof value === 'number' && Number.isFinite(value)) return [value, value, value];
    if (
      Array.isArray(value) &&
      value.length === 3 &&
      value.every((v) => typeof v === 'number' && Number.isFinite(v))
    ) {
      return value as [number, number, number];
    }
    return bad(`"${key}" must be a number or three numbers`);
  };
  const box = (value: unknown, key: string) => {
    if (typeof value === 'number') return { height: positive(value, key), width: positive(value, key) };
    if (typeof value !== 'object' || value === null) return bad(`"${key}" must be a number or an object`);
    const v = value as Record<string, unknown>;
    if (v.shortest_edge !== undefined)
      return { shortestEdge: positive(v.shortest_edge, `${key}.shortest_edge`) };
    return { height: positive(v.height, `${key}.height`), width: positive(v.width, `${key}.width`) };
  };

  let resize: ImagePreprocessorConfig['resize'];
  if (flag('do_resize', true)) {
    const size = box(json.size ?? { shortest_edge: 224 }, 'size');
    // A bare number meant "shortest edge" for CLIPFeatureExtractor.
    resize = typeof json.size === 'number' ? { shortestEdge: size.height as number } : size;
  }
  let crop: ImagePreprocessorConfig['crop'];
  if (flag('do_center_crop', true)) {
    const size = box(json.crop_size ?? 224, 'crop_size');
    if ('shortestEdge' in size) bad('"crop_size" must give height and width');
    crop = size as { height: number; width: number };
  }
  const resample = json.resample ?? 3;
  if (typeof resample !== 'number' || !(resample in RESAMPLE_KERNELS)) {
    bad(`"resample" must be one of PIL's filters 0–5 (got ${JSON.stringify(resample)})`);
  }
  const factor = json.rescale_factor ?? 1 / 255;
  if (typeof factor !== 'number' || !Number.isFinite(factor)) bad('"rescale_factor" must be a number');
  const std = triple('image_std', CLIP_STD);
  if (std.some((s) => s <= 0)) bad('"image_std" must be positive');
  return {
    resize,
    kernel: RESAMPLE_KERNELS[resample as keyof typeof RESAMPLE_KERNELS],
    crop,
    rescaleFactor: flag('do_rescale', true) ? (factor as number) : undefined,
    normalize: flag('do_normalize', true) ? { mean: triple('image_mean', CLIP_MEAN), std } : undefined,
  };
}

/** The size after resizing, as transformers computes it (the long side truncated, not rounded). */
export function resizedSize(
  config: ImagePreprocessorConfig,
  width: number,
  height: number,
): { width: number; height: number } {
  const resize = config.resize;
  if (!resize) return { width, height };
  if (!('shortestEdge' in resize)) return resize;
  const edge = resize.shortestEdge;
  if (width <= height) return { width: edge, height: Math.trunc((edge * height) / width) };
  return { width: Math.trunc((edge * width) / height), height: edge };
}
