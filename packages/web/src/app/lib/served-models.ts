// What the model field says about the model typed into it, from GET /v1/models.
import type { ServedModel } from '@dreamfold/protocol';

export function modelHint(
  models: ServedModel[] | undefined,
  model: string,
  pixels: number,
): { text: string; warning: boolean } {
  if (!models) return { text: 'The model id workers serve, e.g. sd-1.5.', warning: false };
  if (models.length === 0)
    return {
      text: 'No worker is online right now: your images wait in the queue until one connects.',
      warning: true,
    };
  const served = models.find((m) => m.model === model.trim());
  if (!served) {
    const names = models.map((m) => m.model).join(', ');
    return { text: `No online worker serves this model. Served now: ${names}.`, warning: true };
  }
  if (pixels > served.maxPixels)
    return {
      text: `Workers serving ${served.model} take at most ${served.maxPixels.toLocaleString('en')} pixels; choose a smaller size.`,
      warning: true,
    };
  return {
    text: `${served.workers} ${served.workers === 1 ? 'worker serves' : 'workers serve'} ${served.model} now.`,
    warning: false,
  };
}
