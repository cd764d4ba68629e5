/**
 * Generation parameters in the AUTOMATIC1111 "parameters" text format, which image viewers, civitai and most SD
 * tooling already parse:
 *
 *   a photo of a cat
 *   Negative prompt: blurry
 *   Steps: 20, Sampler: euler, CFG scale: 7, Seed: 1, Size: 512x512, Model: name
 *
 * Values containing ',', ':' or a newline are written as JSON strings (A1111's `quote`).
 */
import { insertPngText, readPngTexts } from './png-text.js';

export const PARAMETERS_KEYWORD = 'parameters';

export interface PngParameters {
  prompt: string;
  negativePrompt: string;
  /** The last line's "Key: value" pairs, in order, e.g. { Steps: '20', Sampler: 'euler', … }. */
  settings: Record<string, string>;
  /** Typed views of the common settings (undefined when absent or not a number). */
  steps: number | undefined;
  sampler: string | undefined;
  cfgScale: number | undefined;
  seed: number | undefined;
  width: number | undefined;
  height: number | undefined;
  model: string | undefined;
}

function quote(value: string): string {
  return /[,:\n"]/.test(value) ? JSON.stringify(value) : value;
}

/** The text for a `parameters` chunk; settings are written in the given order. */
export function formatParameters(
  prompt: string,
  negativePrompt: string,
  settings: ReadonlyArray<[string, string | number]>,
): string {
  const lines = [prompt];
  if (negativePrompt) lines.push(`Negative prompt: ${negativePrompt}`);
  lines.push(settings.map(([key, value]) => `${key}: ${quote(String(value))}`).join(', '));
  return lines.join('\n');
}

// A1111's re_param: a key, a colon, then a JSON string or anything up to the next comma.
const SETTING = /\s*([\w][\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)/g;

export function parseParameters(text: string): PngParameters {
  const lines = text.split('\n');
  let settingsLine = '';
  const last = lines[lines.length - 1] ?? '';
  if (lines.length > 1 && /^\s*[\w][\w \-/]+:\s*/.test(last) && last.includes('Steps:')) {
    settingsLine = lines.pop()!;
  }
  const promptLines: string[] = [];
  const negativeLines: string[] = [];
  for (const line of lines) {
    if (negativeLines.length === 0 && line.startsWith('Negative prompt:')) {
      negativeLines.push(line.slice('Negative prompt:'.length).trimStart());
    } else (negativeLines.length > 0 ? negativeLines : promptLines).push(line);
  }
  const settings: Record<string, string> = {};
  for (const match of settingsLine.matchAll(SETTING)) {
    const raw = match[2]!.trim();
    let value = raw;
    if (raw.startsWith('"')) {
      try {
        value = JSON.parse(raw) as string;
      } catch {
        value = raw;
      }
    }
    settings[match[1]!.trim()] = value;
  }
  const num = (key: string) => {
    const v = settings[key];
    const n = v === undefined ? NaN : Number(v);
    return Number.isFinite(n) ? n : undefined;
  };
  const size = /^(\d+)x(\d+)$/.exec(settings['Size'] ?? '');
  return {
    prompt: promptLines.join('\n'),
    negativePrompt: negativeLines.join('\n'),
    settings,
    steps: num('Steps'),
    sampler: settings['Sampler'],
    cfgScale: num('CFG scale'),
    seed: num('Seed'),
    width: size ? Number(size[1]) : undefined,
    height: size ? Number(size[2]) : undefined,
    model: settings['Model'],
  };
}

export function writePngParameters(png: Buffer, text: string): Buffer {
  return insertPngText(png, PARAMETERS_KEYWORD, text);
}

/** The parsed `parameters` chunk of a PNG, or undefined when it has none. */
export function readPngParameters(png: Buffer): PngParameters | undefined {
  const text = readPngTexts(png).get(PARAMETERS_KEYWORD);
  return text === undefined ? undefined : parseParameters(text);
}
