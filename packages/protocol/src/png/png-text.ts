/**
 * PNG text chunks. sharp writes no tEXt chunks, so we splice one in after IHDR ourselves:
 * length (4, big-endian) + type + data + CRC-32 over type and data (PNG spec §5.3).
 *
 * A keyword's text is written as tEXt when it is Latin-1 (what A1111/PIL do), otherwise as an uncompressed iTXt
 * chunk in UTF-8 — again as PIL does — so prompts in any script survive.
 */
import { crc32, inflateSync } from 'node:zlib';

/** A PNG that cannot carry text chunks, or a keyword the PNG format does not allow. */
export class PngTextError extends Error {
  readonly code = 'invalid_params';
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** One PNG chunk: length, type, data and the CRC-32 over type and data. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function isLatin1(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\u0000-\u00ff]*$/.test(text);
}

function checkKeyword(keyword: string): void {
  if (!/^[\x20-\x7e\xa1-\xff]{1,79}$/.test(keyword) || keyword.startsWith(' ') || keyword.endsWith(' ')) {
    throw new PngTextError(`invalid PNG text keyword "${keyword}"`);
  }
}

function assertPng(png: Buffer): void {
  if (png.length < 33 || !png.subarray(0, 8).equals(SIGNATURE) || png.toString('latin1', 12, 16) !== 'IHDR') {
    throw new PngTextError('not a PNG (signature or IHDR missing)');
  }
}

/** A copy of `png` with a text chunk inserted right after IHDR. */
export function insertPngText(png: Buffer, keyword: string, text: string): Buffer {
  assertPng(png);
  checkKeyword(keyword);
  const data = isLatin1(text)
    ? Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0]), Buffer.from(text, 'latin1')])
    : Buffer.concat([
        Buffer.from(keyword, 'latin1'),
        // null, compression flag 0, method 0, empty language tag + null, empty translated keyword + null
        Buffer.from([0, 0, 0, 0, 0]),
        Buffer.from(text, 'utf8'),
      ]);
  const ihdrEnd = 8 + 12 + png.readUInt32BE(8);
  return Buffer.concat([
    png.subarray(0, ihdrEnd),
    pngChunk(isLatin1(text) ? 'tEXt' : 'iTXt', data),
    png.subarray(ihdrEnd),
  ]);
}

/** Every tEXt/iTXt/zTXt keyword → text in a PNG (first occurrence wins). Chunks with a bad CRC are skipped. */
export function readPngTexts(png: Buffer): Map<string, string> {
  assertPng(png);
  const texts = new Map<string, string>();
  for (let offset = 8; offset + 12 <= png.length;) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const end = offset + 12 + length;
    if (end > png.length) break;
    const data = png.subarray(offset + 8, offset + 8 + length);
    const crcOk =
      png.readUInt32BE(offset + 8 + length) === crc32(png.subarray(offset + 4, offset + 8 + length));
    if (crcOk) {
      const entry = decodeTextChunk(type, data);
      if (entry && !texts.has(entry[0])) texts.set(entry[0], entry[1]);
    }
    if (type === 'IEND') break;
    offset = end;
  }
  return texts;
}

function decodeTextChunk(type: string, data: Buffer): [string, string] | undefined {
  const nul = data.indexOf(0);
  if (nul < 1) return undefined;
  const keyword = data.toString('latin1', 0, nul);
  if (type === 'tEXt') return [keyword, data.toString('latin1', nul + 1)];
  if (type === 'zTXt') return [keyword, inflateSync(data.subarray(nul + 2)).toString('latin1')];
  if (type === 'iTXt') {
    const compressed = data[nul + 1] === 1;
    const languageEnd = data.indexOf(0, nul + 3);
    const translatedEnd = languageEnd < 0 ? -1 : data.indexOf(0, languageEnd + 1);
    if (translatedEnd < 0) return undefined;
    const body = data.subarray(translatedEnd + 1);
    return [keyword, (compressed ? inflateSync(body) : body).toString('utf8')];
  }
  return undefined;
}
