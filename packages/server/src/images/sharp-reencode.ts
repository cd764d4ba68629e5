// The re-encode of uploads above the plain codec's size (validate-upload.ts), with sharp, choosing zlib's
// effort by what the pixels allow. Unfiltered rows at zlib level 1 is the ingest default (2.3× faster
// than level 6 on a photo-like 512×512 image for 15 % more bytes). But on pixels deflate cannot shrink
// (fine noise, grain, dense detail) level 1 is pure cost: on a 512×512 noisy image it took 13.7 ms of
// CPU against 6.8 ms for level 0 and wrote 827,420 bytes against 788,300 (stored blocks are raw size
// plus 5 bytes per 64 KB; level 1 without filtering expands such data). So such pixels are stored.
//
// Which pixels are those is decided from the pixels, not from the upload: a worker may upload
// uncompressed PNGs of a compressible picture. The upload's size only says when the question is worth
// asking — an upload the worker's encoder shrank below INCOMPRESSIBLE_RATIO of the raw size proves the
// pixels compress, and goes straight through one sharp pipeline as before. Otherwise the pixels are
// decoded once, a sample of rows is deflated at level 1 (~0.1 ms for 8 rows of 512), and the level
// chosen from that ratio.
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';

/** Compressed ÷ raw size at or above which deflate is not worth its CPU (noise samples read 0.99+). */
export const INCOMPRESSIBLE_RATIO = 0.9;
/** Rows sampled, evenly spread, to estimate what deflate would save on the whole picture. */
const SAMPLE_ROWS = 8;

/** zlib levels sharp's PNG encoder is given: level 1 for pixels that compress, 0 (stored) otherwise. */
export type ChosenLevel = 0 | 1;

const decodeOptions = (pixels: number) => ({ limitInputPixels: pixels, failOn: 'warning' as const });

export async function reencodeWithSharp(
  upload: Buffer,
  width: number,
  height: number,
): Promise<{ png: Buffer; level: ChosenLevel }> {
  const pixels = width * height;
  // failOn 'warning' (the strictest level) rejects truncated data and bad CRCs instead of returning a
  // partly grey image; limitInputPixels bounds the decode to the job's pixel count.
  if (upload.length < INCOMPRESSIBLE_RATIO * pixels * 3) {
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
  const level: ChosenLevel =
    sampledDeflateRatio(data, info.width * info.channels) >= INCOMPRESSIBLE_RATIO ? 0 : 1;
  const png = await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
    .png({ compressionLevel: level, adaptiveFiltering: false })
    .toBuffer();
  return { png, level };
}

/** What zlib level 1 makes of SAMPLE_ROWS rows spread over the picture, as unfiltered PNG rows would be. */
function sampledDeflateRatio(raw: Buffer, stride: number): number {
  const height = raw.length / stride;
  const rows = Math.min(SAMPLE_ROWS, height);
  const sample = Buffer.allocUnsafe(rows * (stride + 1));
  for (let k = 0; k < rows; k++) {
    const y = Math.floor(((k + 0.5) * height) / rows);
    sample[k * (stride + 1)] = 0; // filter type None, as the encoder is asked for
    raw.copy(sample, k * (stride + 1) + 1, y * stride, (y + 1) * stride);
  }
  return deflateSync(sample, { level: 1 }).length / sample.length;
}
