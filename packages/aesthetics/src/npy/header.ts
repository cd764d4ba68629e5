// The .npy header: magic "\x93NUMPY", version byte pair, header length (u16 in 1.0, u32 in 2.0/3.0),
// then a Python dict literal such as {'descr': '<f2', 'fortran_order': False, 'shape': (1000, 768), }
// padded with spaces and a final newline so the data starts on a 64-byte boundary.
// Spec: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html

import { AestheticsError } from '../errors.js';

export type NpyDtype = '<f2' | '<f4';

export interface NpyHeader {
  version: 1 | 2 | 3;
  dtype: NpyDtype;
  rows: number;
  dim: number;
  /** Byte offset of the first element. */
  dataOffset: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** Enough bytes to hold any header we accept (NumPy itself caps headers at 10,000 bytes by default). */
export const MAX_HEADER_BYTES = 65536;

export function itemSize(dtype: NpyDtype): 2 | 4 {
  return dtype === '<f2' ? 2 : 4;
}

/** Parses the header at the start of `prefix` (which must hold at least the header bytes). */
export function parseNpyHeader(prefix: Uint8Array, file: string): NpyHeader {
  if (prefix.length < 10 || MAGIC.some((b, i) => prefix[i] !== b)) {
    throw new AestheticsError('npy_magic', 'not a NumPy .npy file (bad magic bytes)', file);
  }
  const major = prefix[6] as number;
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (prefix.length < 12) throw new AestheticsError('truncated', 'file ends inside the .npy header', file);
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new AestheticsError('npy_version', `unsupported .npy format version ${major}.${prefix[7]}`, file);
  }
  const dataOffset = headerStart + headerLength;
  if (dataOffset > MAX_HEADER_BYTES) {
    throw new AestheticsError('npy_header', `header of ${headerLength} bytes is implausibly large`, file);
  }
  if (prefix.length < dataOffset)
    throw new AestheticsError('truncated', 'file ends inside the .npy header', file);
  // 1.0/2.0 headers are latin1, 3.0 is utf8; the keys and values we accept are ASCII in both.
  const text = Buffer.from(prefix.buffer, prefix.byteOffset + headerStart, headerLength).toString(
    major === 3 ? 'utf8' : 'latin1',
  );
  const dict = parseDictLiteral(text, file);

  const descr = dict.get('descr');
  const fortran = dict.get('fortran_order');
  const shape = dict.get('shape');
  if (typeof descr !== 'string')
    throw new AestheticsError('npy_header', "header has no 'descr' string", file);
  if (typeof fortran !== 'boolean')
    throw new AestheticsError('npy_header', "header has no 'fortran_order'", file);
  if (!Array.isArray(shape)) throw new AestheticsError('npy_header', "header has no 'shape' tuple", file);
  // '<f2' and '<f4' are little-endian; NumPy writes '|' only for one-byte types, never for floats.
  if (descr !== '<f2' && descr !== '<f4') {
    throw new AestheticsError(
      'npy_dtype',
      `dtype '${descr}' is not supported (expected '<f2' or '<f4')`,
      file,
    );
  }
  if (fortran) {
    throw new AestheticsError(
      'npy_fortran_order',
      'fortran_order is True; only C-order arrays are read',
      file,
    );
  }
  if (shape.length !== 2) {
    throw new AestheticsError('npy_shape', `shape (${shape.join(', ')}) is not 2-D [rows, dim]`, file);
  }
  const [rows, dim] = shape as [number, number];
  return { version: major as 1 | 2 | 3, dtype: descr, rows, dim, dataOffset };
}

type Literal = string | boolean | number[];

/** A deliberately tiny parser for the one dict shape NumPy writes: string keys; string, bool or int-tuple values. */
function parseDictLiteral(text: string, file: string): Map<string, Literal> {
  const fail = (why: string): never => {
    throw new AestheticsError('npy_header', `unreadable header dict (${why}): ${text.trim()}`, file);
  };
  let i = 0;
  const skipSpace = (): void => {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
  };
  const expect = (ch: string): void => {
    skipSpace();
    if (text[i] !== ch) fail(`expected '${ch}' at ${i}`);
    i++;
  };
  const readString = (): string => {
    skipSpace();
    const quote = text[i];
    if (quote !== "'" && quote !== '"') return fail(`expected a string at ${i}`);
    const end = text.indexOf(quote, i + 1);
    if (end < 0) fail('unterminated string');
    const value = text.slice(i + 1, end);
    i = end + 1;
    return value;
  };
  const readValue = (): Literal => {
    skipSpace();
    const ch = text[i];
    if (ch === "'" || ch === '"') return readString();
    if (text.startsWith('True', i)) return ((i += 4), true);
    if (text.startsWith('False', i)) return ((i += 5), false);
    if (ch === '(') {
      i++;
      const items: number[] = [];
      for (;;) {
        skipSpace();
        if (text[i] === ')') break;
        const match = /^\d+L?/.exec(text.slice(i));
        if (!match) fail(`expected a dimension at ${i}`);
        items.push(Number.parseInt((match as RegExpExecArray)[0], 10));
        i += (match as RegExpExecArray)[0].length;
        skipSpace();
        if (text[i] === ',') i++;
        else if (text[i] !== ')') fail(`expected ',' or ')' at ${i}`);
      }
      i++;
      return items;
    }
    return fail(`unexpected value at ${i}`);
  };

  const dict = new Map<string, Literal>();
  expect('{');
  for (;;) {
    skipSpace();
    if (text[i] === '}') break;
    const key = readString();
    expect(':');
    dict.set(key, readValue());
    skipSpace();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail(`expected ',' or '}' at ${i}`);
  }
  return dict;
}

export interface FormatHeaderOptions {
  /** Force a format version; by default 1.0 while the header fits in a u16 length, as NumPy does. */
  version?: 1 | 2 | 3;
  /** Pad the dict to at least this many characters, so a streaming writer can rewrite `rows` in place. */
  minDictChars?: number;
}

/** Builds a header the way NumPy's `write_array` does: padded with spaces and a newline so data starts at a multiple of 64. */
export function formatNpyHeader(
  dtype: NpyDtype,
  rows: number,
  dim: number,
  options: FormatHeaderOptions = {},
): Uint8Array {
  const dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': (${rows}, ${dim}), }`.padEnd(
    options.minDictChars ?? 0,
    ' ',
  );
  const build = (version: 1 | 2 | 3): Uint8Array | undefined => {
    const prefixLength = version === 1 ? 10 : 12;
    const total = Math.ceil((prefixLength + dict.length + 1) / 64) * 64;
    const headerLength = total - prefixLength;
    if (version === 1 && headerLength > 0xffff) return undefined;
    const out = new Uint8Array(total);
    out.set(MAGIC, 0);
    out[6] = version;
    out[7] = 0;
    const view = new DataView(out.buffer);
    if (version === 1) view.setUint16(8, headerLength, true);
    else view.setUint32(8, headerLength, true);
    out.set(Buffer.from(dict.padEnd(headerLength - 1, ' ') + '\n', 'latin1'), prefixLength);
    return out;
  };
  if (options.version !== undefined) {
    const out = build(options.version);
    if (!out) throw new AestheticsError('invalid_argument', 'header too long for .npy format 1.0');
    return out;
  }
  return build(1) ?? (build(2) as Uint8Array);
}
