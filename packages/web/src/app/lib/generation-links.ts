// "Generate again with this seed": the generate page reads its form from the query string.
import type { Generation } from '@dreamfold/protocol';

export function generateAgainHref(params: Generation['params'], seed: number): string {
  const query = new URLSearchParams({
    prompt: params.prompt,
    model: params.model,
    width: String(params.width),
    height: String(params.height),
    steps: String(params.steps),
    guidance: String(params.guidanceScale),
    sampler: params.sampler,
    seed: String(seed),
  });
  if (params.negativePrompt) query.set('negative', params.negativePrompt);
  return `/generate?${query.toString()}`;
}
