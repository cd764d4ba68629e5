// Uploaded images are untrusted. Before anything is stored: PNG magic bytes, the header's dimensions
// against the job, a decode bounded to exactly the job's pixel count (so a 24 KB "decompression bomb"
// cannot expand to gigabytes), then a fresh re-encode: whatever else the upload carried (chunks, trailing
// bytes, polyglot payloads) is dropped, and the stored bytes are ones we produced. Small plain PNGs are
// decoded and re-encoded by plain-png.ts (same checks, a tenth of sharp's fixed cost per call); every
// other PNG by sharp (sharp-reencode.ts). Both re-encode at the zlib level deflate-level.ts chooses.
import { AppError } from '../errors.js';
import { sha256Hex } from '../ids.js';
import type { ImageFeatures } from '../trust/image-analysis.js';
import { formatParameters, writePngParameters } from '@dreamfold/protocol/png';
import type { GenerationsTable } from '../db/schema.js';
import { decodePlainPng, encodePlainPng } from './plain-png.js';
import { reencodeWithSharp, type RawPixels } from './sharp-reencode.js';
import { levelForUpload } from './deflate-level.js';

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/**
 * Up to this many pixels plain-png.ts does the work, on the event loop (~0.1 ms for a 64×64 image, ~1 ms
 * for 128×128 noise); above it sharp's per-pixel speed wins and its work runs off the event loop.
 */
export const PLAIN_CODEC_MAX_PIXELS = 128 * 128;

export interface ValidatedImage {
  png: Buffer;
  sha256: string;
  width: number;
  height: number;
  /** What trust/ checks look at, when the validator was asked for them (upload-validator.ts). */
  features?: ImageFeatures;
}

/** Reads width and height from the IHDR chunk, which the PNG format requires to come first. */
function headerDimensions(buf: Buffer): { width: number; height: number } | undefined {
  if (buf.length < 33 || buf.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

/**
 * The PNG `parameters` text (AUTOMATIC1111's format) for an image, written from the job as the
 * coordinator knows it — never copied from the upload, whose chunks are untrusted and dropped.
 */
export function imageParameters(
  g: Pick<
    GenerationsTable,
    'prompt' | 'negative_prompt' | 'steps' | 'sampler' | 'guidance_scale' | 'width' | 'height' | 'model'
  >,
  seed: number,
): string {
  return formatParameters(g.prompt, g.negative_prompt, [
    ['Steps', g.steps],
    ['Sampler', g.sampler],
    ['CFG scale', g.guidance_scale],
    ['Seed', seed],
    ['Size', `${g.width}x${g.height}`],
    ['Model', g.model],
  ]);
}

export async function validateUpload(
  buf: Buffer,
  expected: { width: number; height: number },
  parameters?: string,
  /** Also answer the decoded pixels (trust/ analyses them; upload-analysis.ts). */
  options: { keepPixels?: boolean } = {},
): Promise<ValidatedImage & { pixels?: RawPixels }> {
  if (buf.length < PNG_MAGIC.length || !buf.subarray(0, PNG_MAGIC.length).equals(PNG_MAGIC)) {
    throw new AppError('invalid_image', 'The upload does not start with the PNG signature.');
  }
  const header = headerDimensions(buf);
  if (!header) throw new AppError('invalid_image', 'The PNG has no IHDR header.');
  if (header.width * header.height > expected.width * expected.height) {
    throw new AppError(
      'image_too_large',
      `The PNG declares ${header.width}×${header.height} pixels; the job allows ${expected.width}×${expected.height}.`,
    );
  }
  if (header.width !== expected.width || header.height !== expected.height) {
    throw new AppError(
      'wrong_image_size',
      `The image is ${header.width}×${header.height}; the job asked for ${expected.width}×${expected.height}.`,
    );
  }
  let png: Buffer;
  let pixels: RawPixels | undefined;
  try {
    const { width, height } = header;
    const plain = width * height <= PLAIN_CODEC_MAX_PIXELS ? decodePlainPng(buf, width, height) : undefined;
    if (plain) {
      const level = levelForUpload(buf.length, width * height, plain, width * 3 + 1, true);
      png = encodePlainPng(plain, width, height, level);
      if (options.keepPixels) pixels = { data: packedRows(plain, width * 3, height), channels: 3 };
    } else {
      ({ png, pixels } = await reencodeWithSharp(buf, width, height, options.keepPixels));
    }
    if (parameters !== undefined) png = writePngParameters(png, parameters);
  } catch (err) {
    throw new AppError('invalid_image', `The PNG could not be decoded: ${(err as Error).message}`);
  }
  return { png, sha256: sha256Hex(png), width: expected.width, height: expected.height, pixels };
}

/** PNG scanlines (a filter byte before each row) as packed rows. */
function packedRows(scanlines: Buffer, rowBytes: number, height: number): Buffer {
  const out = Buffer.allocUnsafe(rowBytes * height);
  for (let y = 0; y < height; y++)
    scanlines.copy(out, y * rowBytes, y * (rowBytes + 1) + 1, (y + 1) * (rowBytes + 1));
  return out;
}
