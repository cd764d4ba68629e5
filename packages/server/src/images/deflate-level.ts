// How hard zlib works on an upload's re-encode, for both codecs (plain-png.ts and sharp-reencode.ts).
// Unfiltered rows at zlib level 1 is the ingest default (2.3× faster than level 6 on a photo-like
// 512×512 image for 15 % more bytes). But on pixels deflate cannot shrink (fine noise, grain, dense
// detail) level 1 is pure cost: on a 512×512 noisy image sharp took 13.7 ms of CPU against 6.8 ms for
// level 0 and wrote 827,420 bytes against 788,300 (stored blocks are the raw rows plus 5 bytes per 64 KB;
// level 1 without filtering expands such data); on 64×64 noise node's zlib took 75 µs against 19. So
// such pixels are stored.
//
// Which pixels are those is decided from the pixels, not from the upload: a worker may upload
// uncompressed PNGs of a compressible picture. The upload's size only says when the question is worth
// asking: an upload the worker's encoder shrank below INCOMPRESSIBLE_RATIO of the raw size proves that
// the pixels compress. Otherwise a sample of rows is deflated at level 1 (~25 µs for 8 rows of 64 pixels,
// ~0.1 ms for 8 of 512) and the level chosen from that ratio.
import { deflateSync } from 'node:zlib';

/** Compressed ÷ raw size at or above which deflate is not worth its CPU (noise samples read 0.99+). */
export const INCOMPRESSIBLE_RATIO = 0.9;
/** Rows sampled, evenly spread, to estimate what deflate would save on the whole picture. */
const SAMPLE_ROWS = 8;

/** zlib level for a re-encode: 1 for pixels that compress, 0 (stored) otherwise. */
export type DeflateLevel = 0 | 1;

/** Whether an upload of `bytes` for `pixels` RGB pixels proves its pixels compress (then level 1, no sampling). */
export function uploadShowsCompressible(bytes: number, pixels: number): boolean {
  return bytes < INCOMPRESSIBLE_RATIO * pixels * 3;
}

/**
 * The level for an upload of `uploadBytes` bytes of `pixels` RGB pixels, decoded into `rows`: 1 without
 * sampling when the upload's own size proves the pixels compress, otherwise levelFor's sample.
 */
export function levelForUpload(
  uploadBytes: number,
  pixels: number,
  rows: Buffer,
  rowBytes: number,
  filterByte: boolean,
): DeflateLevel {
  return uploadShowsCompressible(uploadBytes, pixels) ? 1 : levelFor(rows, rowBytes, filterByte);
}

/**
 * The level for `rows` rows of `rowBytes` bytes each, as they will be deflated: PNG scanlines with their
 * filter byte (`filterByte: true`), or bare pixel rows, which are sampled with a filter byte 0 in front.
 */
export function levelFor(rows: Buffer, rowBytes: number, filterByte: boolean): DeflateLevel {
  const height = Math.floor(rows.length / rowBytes);
  const sampled = Math.min(SAMPLE_ROWS, height);
  const line = filterByte ? rowBytes : rowBytes + 1;
  const sample = Buffer.allocUnsafe(sampled * line);
  for (let k = 0; k < sampled; k++) {
    const y = Math.floor(((k + 0.5) * height) / sampled);
    let o = k * line;
    if (!filterByte) sample[o++] = 0; // filter type None, as the encoders are asked for
    rows.copy(sample, o, y * rowBytes, (y + 1) * rowBytes);
  }
  return deflateSync(sample, { level: 1 }).length / sample.length >= INCOMPRESSIBLE_RATIO ? 0 : 1;
}
