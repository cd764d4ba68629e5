/**
 * CLIPImageProcessor's steps on a PNG or JPEG: convert to RGB → resize (shortest side, with the configured
 * filter) → center crop → rescale (× 1/255) → normalise per channel → CHW float32. sharp decodes and resizes
 * (its "cubic" kernel is Catmull-Rom, the a = −0.5 cubic of PIL's BICUBIC); cropping and the arithmetic are
 * done here, in one pass over the resized pixels.
 */
import sharp from 'sharp';
import { DiffusionError, messageOf } from '../errors.js';
import { resizedSize, type ImagePreprocessorConfig } from './config.js';

/** Largest image the encoder decodes: 4096 × 4096, well above any generated image. */
export const MAX_ENCODER_INPUT_PIXELS = 4096 * 4096;

export interface PreprocessedImage {
  /** [3, height, width], channel-major. */
  pixels: Float32Array;
  width: number;
  height: number;
}

export async function preprocessImage(
  image: Uint8Array,
  config: ImagePreprocessorConfig,
): Promise<PreprocessedImage> {
  let resized: { data: Buffer; width: number; height: number };
  try {
    const decoder = sharp(image, { limitInputPixels: MAX_ENCODER_INPUT_PIXELS, failOn: 'error' });
    const meta = await decoder.metadata();
    const size = resizedSize(config, meta.width ?? 0, meta.height ?? 0);
    const { data, info } = await decoder
      .flatten({ background: '#000000' })
      .toColourspace('srgb')
      .resize(size.width, size.height, { kernel: config.kernel, fit: 'fill', fastShrinkOnLoad: false })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    resized = { data, width: info.width, height: info.height };
  } catch (error) {
    throw new DiffusionError(
      'invalid_params',
      `the image cannot be prepared for the image encoder: ${messageOf(error)}`,
      { cause: error },
    );
  }
  const crop = config.crop ?? { width: resized.width, height: resized.height };
  const pixels = cropAndNormalise(resized.data, resized.width, resized.height, crop, config);
  return { pixels, width: crop.width, height: crop.height };
}

/**
 * Interleaved 8-bit RGB (width × height) → the centered crop as CHW float32, rescaled and normalised. As in
 * transformers, the crop's top-left is ⌊(size − crop) / 2⌋ and pixels outside the image are 0 (before
 * rescaling), which happens only when the crop is larger than the image.
 */
export function cropAndNormalise(
  rgb: Uint8Array,
  width: number,
  height: number,
  crop: { width: number; height: number },
  config: Pick<ImagePreprocessorConfig, 'rescaleFactor' | 'normalize'>,
): Float32Array {
  const plane = crop.width * crop.height;
  const out = new Float32Array(3 * plane);
  const left = Math.floor((width - crop.width) / 2);
  const top = Math.floor((height - crop.height) / 2);
  const factor = config.rescaleFactor ?? 1;
  for (let c = 0; c < 3; c++) {
    // (v · factor − mean) / std, as one multiply-add per value.
    const std = config.normalize?.std[c] ?? 1;
    const scale = factor / std;
    const shift = -(config.normalize?.mean[c] ?? 0) / std;
    const base = c * plane;
    for (let y = 0; y < crop.height; y++) {
      const sy = top + y;
      for (let x = 0; x < crop.width; x++) {
        const sx = left + x;
        const inside = sy >= 0 && sy < height && sx >= 0 && sx < width;
        const v = inside ? rgb[(sy * width + sx) * 3 + c]! : 0;
        out[base + y * crop.width + x] = v * scale + shift;
      }
    }
  }
  return out;
}
