/**
 * The img2img init image: untrusted bytes, so magic bytes are checked and sharp decodes under a pixel limit
 * (sharp's default would let a small PNG expand to hundreds of MB). Output: NCHW float32 in [-1, 1].
 */
import sharp from 'sharp';
import { DiffusionError, messageOf } from '../errors.js';

/** Decoded-size limit for init images unless the pipeline is told otherwise: 4096×4096. */
export const DEFAULT_MAX_INIT_IMAGE_PIXELS = 4096 * 4096;

function kind(bytes: Uint8Array): 'png' | 'jpeg' | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    return 'png';
  }
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

export async function decodeInitImage(
  bytes: Uint8Array,
  width: number,
  height: number,
  maxPixels: number,
): Promise<Float32Array> {
  if (!kind(bytes)) throw new DiffusionError('invalid_init_image', 'initImage must be a PNG or JPEG');
  let raw: Buffer;
  try {
    raw = await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error' })
      .rotate() // honour EXIF orientation, as a viewer would show the image
      .flatten({ background: '#ffffff' })
      .resize(width, height, { fit: 'cover' })
      .removeAlpha()
      .raw()
      .toBuffer();
  } catch (error) {
    throw new DiffusionError('invalid_init_image', `initImage cannot be decoded: ${messageOf(error)}`, {
      cause: error,
    });
  }
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) out[c * plane + p] = raw[p * 3 + c]! / 127.5 - 1;
  }
  return out;
}
