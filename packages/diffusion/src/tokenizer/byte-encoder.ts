/**
 * GPT-2/CLIP "bytes to unicode" table: every byte 0..255 maps to a printable code point, so BPE can work on
 * strings without whitespace/control characters. Printable Latin-1 bytes map to themselves; the other 68 bytes map
 * to U+0100 onwards, in byte order. This is the exact table of the reference `bytes_to_unicode()`.
 */
function buildByteEncoder(): string[] {
  const printable: number[] = [];
  const ranges: Array<[number, number]> = [
    [0x21, 0x7e], // '!'..'~'
    [0xa1, 0xac], // '¡'..'¬'
    [0xae, 0xff], // '®'..'ÿ'
  ];
  for (const [from, to] of ranges) for (let b = from; b <= to; b++) printable.push(b);
  const table = new Array<string>(256);
  const isPrintable = new Set(printable);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = String.fromCodePoint(isPrintable.has(b) ? b : 256 + extra++);
  }
  return table;
}

/** BYTE_ENCODER[byte] is the code point that byte is written as inside the vocabulary. */
export const BYTE_ENCODER: readonly string[] = buildByteEncoder();

/**
 * The 256 byte symbols in the order the reference vocabulary lists them (printable ranges first, then the rest);
 * CLIP's vocab.json starts with these, so "!" is id 0.
 */
export function byteSymbolsInVocabOrder(): string[] {
  const printableFirst: number[] = [];
  const rest: number[] = [];
  for (let b = 0; b < 256; b++) {
    const cp = BYTE_ENCODER[b]!.codePointAt(0)!;
    (cp === b ? printableFirst : rest).push(b);
  }
  return [...printableFirst, ...rest].map((b) => BYTE_ENCODER[b]!);
}

const encoder = new TextEncoder();

/** UTF-8 encode a pre-token and write each byte as its vocabulary symbol. */
export function toByteSymbols(token: string): string {
  let out = '';
  for (const byte of encoder.encode(token)) out += BYTE_ENCODER[byte]!;
  return out;
}
