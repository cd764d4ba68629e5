// The generate form's values: read from the query string ("generate again with this seed"), checked
// against the protocol's bounds, and turned into the request body.
import type { CreateGenerationBody, Sampler } from '@dreamfold/protocol';
import { GENERATION_DEFAULTS, LIMITS, SAMPLERS } from './protocol-constants.js';

export interface GenerateForm {
  prompt: string;
  negativePrompt: string;
  model: string;
  width: number;
  height: number;
  steps: number;
  guidanceScale: number;
  sampler: Sampler;
  /** Empty: a random seed. */
  seed: string;
  n: number;
  /** Empty: any worker; else the slowest accepted, in seconds per image. */
  maxSecondsPerImage: string;
}

export const SIZE_PRESETS: { width: number; height: number; label: string }[] = [
  { width: 512, height: 512, label: 'Square 512 × 512' },
  { width: 768, height: 512, label: 'Landscape 768 × 512' },
  { width: 512, height: 768, label: 'Portrait 512 × 768' },
  { width: 768, height: 768, label: 'Square 768 × 768' },
  { width: 1024, height: 576, label: 'Wide 1024 × 576' },
  { width: 1024, height: 1024, label: 'Square 1024 × 1024' },
];

function clampInt(raw: string | null, min: number, max: number, fallback: number, multipleOf = 1): number {
  const n = Number(raw);
  if (raw === null || raw === '' || !Number.isFinite(n)) return fallback;
  const rounded = Math.round(n / multipleOf) * multipleOf;
  return Math.min(max, Math.max(min, rounded));
}

export function formFromQuery(search: string, rememberedModel: string): GenerateForm {
  const q = new URLSearchParams(search);
  const sampler = q.get('sampler');
  const seed = q.get('seed');
  const guidance = Number(q.get('guidance'));
  return {
    prompt: (q.get('prompt') ?? '').slice(0, LIMITS.promptChars),
    negativePrompt: (q.get('negative') ?? '').slice(0, LIMITS.promptChars),
    model: q.get('model') ?? rememberedModel,
    width: clampInt(q.get('width'), LIMITS.minSide, LIMITS.maxSide, GENERATION_DEFAULTS.width, 8),
    height: clampInt(q.get('height'), LIMITS.minSide, LIMITS.maxSide, GENERATION_DEFAULTS.height, 8),
    steps: clampInt(q.get('steps'), 1, LIMITS.maxSteps, GENERATION_DEFAULTS.steps),
    guidanceScale:
      q.get('guidance') !== null && Number.isFinite(guidance)
        ? Math.min(LIMITS.maxGuidance, Math.max(0, guidance))
        : GENERATION_DEFAULTS.guidanceScale,
    sampler: SAMPLERS.includes(sampler as Sampler) ? (sampler as Sampler) : GENERATION_DEFAULTS.sampler,
    seed: seed !== null && /^\d+$/.test(seed) && Number(seed) <= LIMITS.maxSeed ? seed : '',
    n: clampInt(q.get('n'), 1, LIMITS.maxImagesPerRequest, GENERATION_DEFAULTS.n),
    maxSecondsPerImage: '',
  };
}

export function requestBody(form: GenerateForm): CreateGenerationBody {
  return {
    prompt: form.prompt.trim(),
    negativePrompt: form.negativePrompt.trim() || undefined,
    model: form.model.trim(),
    width: form.width,
    height: form.height,
    steps: form.steps,
    guidanceScale: form.guidanceScale,
    sampler: form.sampler,
    seed: form.seed === '' ? undefined : Number(form.seed),
    n: form.n,
    maxSecondsPerImage: form.maxSecondsPerImage === '' ? undefined : Number(form.maxSecondsPerImage),
  };
}

/** Problems the browser can tell before asking the server, by field. */
export function checkForm(form: GenerateForm): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!form.prompt.trim()) errors.prompt = 'Describe the image you want.';
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(form.model.trim()))
    errors.model = 'A model id: lowercase letters, digits, dots, dashes, e.g. sd-1.5.';
  if (form.seed !== '' && (!/^\d+$/.test(form.seed) || Number(form.seed) > LIMITS.maxSeed))
    errors.seed = `A whole number from 0 to ${LIMITS.maxSeed}, or empty for a random one.`;
  if (
    form.maxSecondsPerImage !== '' &&
    !(Number(form.maxSecondsPerImage) >= 1 && Number(form.maxSecondsPerImage) <= 3600)
  )
    errors.maxSecondsPerImage = 'Seconds from 1 to 3600, or empty to accept any worker.';
  return errors;
}
