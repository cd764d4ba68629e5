// The re-encode of uploads above the plain codec's size (validate-upload.ts), with sharp, at the zlib
// level deflate-level.ts chooses: an upload that proves its pixels compress goes through one sharp
// pipeline at level 1; otherwise the pixels are decoded once, sampled, and encoded at the level chosen.
import sharp from 'sharp';
import { levelForUpload, uploadShowsCompressible, type DeflateLevel } from './deflate-level.js';

const decodeOptions = (pixels: number) => ({ limitInputPixels: pixels, failOn: 'warning' as const });

/** Decoded pixels, rows packed, alpha removed (1 channel for a grey picture, 3 for colour). */
export interface RawPixels {
  data: Uint8Array;
  channels: number;
}

export async function reencodeWithSharp(
  upload: Buffer,
  width: number,
  height: number,
  /** Also answer the decoded pixels (then always decode and encode in two steps). */
  keepPixels = false,
): Promise<{ png: Buffer; level: DeflateLevel; pixels?: RawPixels }> {
  const pixels = width * height;
  // failOn 'warning' (the strictest level) rejects truncated data and bad CRCs instead of returning a
  // partly grey image; limitInputPixels bounds the decode to the job's pixel count.
  if (!keepPixels && uploadShowsCompressible(upload.length, pixels)) {
    const png = await sharp(upload, decodeOptions(pixels))
      .removeAlpha()
      .png({ compressionLevel: 1, adaptiveFiltering: false })
      .toBuffer();
    return { png, level: 1 };
  }
  const { data, info } = await sharp(upload, decodeOptions(pixels))
    .removeAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const level = levelForUpload(upload.length, pixels, data, info.width * info.channels, false);
  const png = await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
    .png({ compressionLevel: level, adaptiveFiltering: false })
    .toBuffer();
  return { png, level, pixels: keepPixels ? { data, channels: info.channels } : undefined };
}
