// A strict codec for the one kind of PNG workers send: 8-bit RGB or RGBA, not interlaced, with nothing
// but text and timestamp chunks beside the pixels. For small images it replaces sharp in validateUpload:
// sharp's fixed cost per call (~0.4 ms of option marshalling on the event loop and ~1 ms of libvips
// pipeline set-up for a 64×64 image) is ten times the work itself, which here is one bounded zlib
// inflate, an unfiltering pass and one zlib deflate. Any other PNG (palette, grey, 16-bit, interlaced,
// colour-profile chunks, anything unknown) is not this codec's business: decodePlainPng answers
// undefined and sharp decodes it.
//
// Strictness matches sharp's `failOn: 'warning'`: every chunk's CRC is checked, IEND must arrive, the
// zlib stream must be complete (its Adler-32 too) and inflate to exactly the size the header declares;
// inflating is capped at that size, so a stream that would expand further stops there.
import { crc32, deflateSync, inflateSync } from 'node:zlib';
import { pngChunk } from '@dreamfold/protocol/png';

/** The upload is a PNG of the plain kind but its data is broken (the message says how). */
export class PngDataError extends Error {}

const PLAIN_COLOUR_TYPES: Record<number, number> = { 2: 3, 6: 4 }; // RGB, RGBA → bytes per pixel
/** Chunks that carry no pixels and change nothing about them; anything else goes to sharp. */
const HARMLESS = new Set(['tEXt', 'zTXt', 'iTXt', 'tIME', 'pHYs']);

/**
 * The pixels of a plain PNG of exactly `width`×`height`, as RGB scanlines each led by filter byte 0 —
 * what encodePlainPng takes. undefined: not a plain PNG (use sharp). Throws PngDataError when it is one
 * but is corrupt or truncated. The caller has checked the signature and the IHDR dimensions.
 */
export function decodePlainPng(png: Buffer, width: number, height: number): Buffer | undefined {
  let channels = 0;
  const idat: Buffer[] = [];
  let idatEnded = false;
  let ended = false;
  for (let at = 8; !ended;) {
    if (at + 12 > png.length) throw new PngDataError('the file ends before its IEND chunk');
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const end = at + 12 + length;
    if (end > png.length) throw new PngDataError(`the ${type} chunk is cut short`);
    if (png.readUInt32BE(end - 4) !== crc32(png.subarray(at + 4, end - 4))) {
      throw new PngDataError(`the ${type} chunk fails its CRC check`);
    }
    const data = png.subarray(at + 8, end - 4);
    if (type === 'IHDR') {
      if (at !== 8 || length !== 13) return undefined;
      if (data.readUInt32BE(0) !== width || data.readUInt32BE(4) !== height) {
        throw new PngDataError(`the header declares ${data.readUInt32BE(0)}×${data.readUInt32BE(4)} pixels`);
      }
      const [depth, colour, compression, filter, interlace] = data.subarray(8);
      channels = PLAIN_COLOUR_TYPES[colour as number] ?? 0;
      if (depth !== 8 || !channels || compression !== 0 || filter !== 0 || interlace !== 0) return undefined;
    } else if (type === 'IDAT') {
      if (idatEnded) return undefined; // split image data: legal only when consecutive
      idat.push(data);
    } else if (type === 'IEND') {
      ended = true;
    } else if (HARMLESS.has(type)) {
      idatEnded = idat.length > 0;
    } else {
      return undefined;
    }
    at = end;
  }
  if (idat.length === 0) throw new PngDataError('the PNG has no image data');
  const stride = width * channels;
  const expected = height * (stride + 1);
  let raw: Buffer;
  try {
    raw = inflateSync(idat.length === 1 ? (idat[0] as Buffer) : Buffer.concat(idat), {
      maxOutputLength: expected,
    });
  } catch (err) {
    const tooLarge = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    throw new PngDataError(tooLarge ? 'more image data than the header declares' : (err as Error).message);
  }
  if (raw.length !== expected) throw new PngDataError('less image data than the header declares');
  return unfilterToRgb(raw, width, height, channels);
}

/** Undoes the per-row PNG filters (spec §9.2) and drops alpha: RGB rows, each led by filter byte 0. */
function unfilterToRgb(raw: Buffer, width: number, height: number, bpp: number): Buffer {
  const stride = width * bpp;
  const out = Buffer.allocUnsafe(height * (width * 3 + 1));
  // Uint8Array stores wrap modulo 256, which is the arithmetic every PNG filter is defined in.
  let prev = new Uint8Array(stride);
  let cur = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const row = y * (stride + 1);
    const filter = raw[row];
    const src = raw.subarray(row + 1, row + 1 + stride);
    switch (filter) {
      case 0:
        cur.set(src);
        break;
      case 1:
        for (let i = 0; i < stride; i++)
          cur[i] = (src[i] as number) + (i >= bpp ? (cur[i - bpp] as number) : 0);
        break;
      case 2:
        for (let i = 0; i < stride; i++) cur[i] = (src[i] as number) + (prev[i] as number);
        break;
      case 3:
        for (let i = 0; i < stride; i++) {
          const left = i >= bpp ? (cur[i - bpp] as number) : 0;
          cur[i] = (src[i] as number) + ((left + (prev[i] as number)) >> 1);
        }
        break;
      case 4:
        for (let i = 0; i < stride; i++) {
          const a = i >= bpp ? (cur[i - bpp] as number) : 0;
          const b = prev[i] as number;
          const c = i >= bpp ? (prev[i - bpp] as number) : 0;
          const pa = Math.abs(b - c);
          const pb = Math.abs(a - c);
          const pc = Math.abs(a + b - 2 * c);
          cur[i] = (src[i] as number) + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
        }
        break;
      default:
        throw new PngDataError(`row ${y} has filter type ${filter}, which PNG does not define`);
    }
    const o = y * (width * 3 + 1);
    out[o] = 0;
    if (bpp === 3) {
      out.set(cur, o + 1);
    } else {
      for (let x = 0, s = 0, d = o + 1; x < width; x++, s += 4, d += 3) {
        out[d] = cur[s] as number;
        out[d + 1] = cur[s + 1] as number;
        out[d + 2] = cur[s + 2] as number;
      }
    }
    [prev, cur] = [cur, prev];
  }
  return out;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * A fresh 8-bit RGB PNG from decodePlainPng's scanlines: unfiltered rows at zlib `level` (deflate-level.ts
 * chooses 1, or 0 for pixels deflate cannot shrink), as the sharp re-encode does.
 */
export function encodePlainPng(scanlines: Buffer, width: number, height: number, level: 0 | 1 = 1): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    SIGNATURE,
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(scanlines, { level })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}
