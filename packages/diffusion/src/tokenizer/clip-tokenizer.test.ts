/**
 * Reference vectors derived by hand from a small vocabulary and merge list written below, following the
 * reference CLIPTokenizer algorithm step by step (derivations in the comments).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ClipTokenizer, isDiffusionError } from '../index.js';
import { tempDir } from '../test-support/temp.js';

const BOS = 49406;
const EOS = 49407;
// Ids are arbitrary except the specials, which sit where CLIP's real vocabulary has them.
const VOCAB: Record<string, number> = {
  '!': 0,
  'a</w>': 1,
  c: 2,
  a: 3,
  't</w>': 4,
  p: 5,
  h: 6,
  o: 7,
  t: 8,
  'o</w>': 9,
  'f</w>': 10,
  ph: 11,
  ot: 12,
  phot: 13,
  'photo</w>': 14,
  'of</w>': 15,
  ca: 16,
  'cat</w>': 17,
  "'": 20,
  's</w>': 21,
  '4</w>': 22,
  '2</w>': 23,
  Ã: 30,
  '©</w>': 31,
  '<|startoftext|>': BOS,
  '<|endoftext|>': EOS,
};
// Rank = line order after the "#version" header.
const MERGES = ['#version: 0.2', 'p h', 'o t', 'ph ot', 'phot o</w>', 'o f</w>', 'c a', 'ca t</w>'];

function writeTokenizer(pad: string, overrides: Record<string, string> = {}): string {
  const root = tempDir();
  const dir = join(root, 'tokenizer');
  mkdirSync(dir);
  const files: Record<string, string> = {
    'vocab.json': JSON.stringify(VOCAB),
    'merges.txt': MERGES.join('\n') + '\n',
    'special_tokens_map.json': JSON.stringify({
      bos_token: '<|startoftext|>',
      eos_token: '<|endoftext|>',
      unk_token: '<|endoftext|>',
      pad_token: pad,
    }),
    'tokenizer_config.json': JSON.stringify({ model_max_length: 77, pad_token: pad }),
    ...overrides,
  };
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return root;
}

/** Expected encode() output: BOS, ids, EOS, then pad to 77. */
function padded(ids: number[], pad: number): number[] {
  return [BOS, ...ids, EOS, ...new Array<number>(77 - ids.length - 2).fill(pad)];
}

describe('CLIP tokenizer', () => {
  it('tokenizes "a photo of a cat" by the merges', async () => {
    const tokenizer = await ClipTokenizer.fromFolder(writeTokenizer('<|endoftext|>'));
    // a     → [a</w>] (no pairs)                                   → 1
    // photo → [p,h,o,t,o</w>] → p h → o t → ph ot → phot o</w>     → photo</w> 14
    // of    → [o,f</w>] → o f</w>                                  → of</w> 15
    // cat   → [c,a,t</w>] → c a → ca t</w>                         → cat</w> 17
    assert.deepEqual(tokenizer.tokenize('a photo of a cat'), [
      'a</w>',
      'photo</w>',
      'of</w>',
      'a</w>',
      'cat</w>',
    ]);
    assert.deepEqual([...tokenizer.encode('a photo of a cat')], padded([1, 14, 15, 1, 17], EOS));
  });

  it('keeps word-final symbols apart from word-internal ones', async () => {
    const tokenizer = await ClipTokenizer.fromFolder(writeTokenizer('<|endoftext|>'));
    // pot → [p, o, t</w>]: "o t" does not apply to "o t</w>", and no other pair has a rank.
    assert.deepEqual(tokenizer.encodeRaw('pot'), [5, 7, 4]);
  });

  it('lower-cases, collapses whitespace and applies ftfy-like fixes', async () => {
    const tokenizer = await ClipTokenizer.fromFolder(writeTokenizer('<|endoftext|>'));
    const expected = [1, 14, 15, 1, 17];
    assert.deepEqual(tokenizer.encodeRaw('  A   PHOTO\n\tof  a CAT  '), expected);
    // Full-width letters → ASCII (NFKC), then lower case.
    assert.deepEqual(tokenizer.encodeRaw('ａ ＰＨＯＴＯ of a ＣＡＴ'), expected);
    // Curly apostrophe → "'", then the "'s" contraction rule: [cat</w>] ['] [s</w>]
    assert.deepEqual(tokenizer.encodeRaw('CAT’S'), [17, 20, 21]);
    // HTML entities are unescaped when the text has no "<": "&#39;s" → "'s"
    assert.deepEqual(tokenizer.encodeRaw('cat&#39;s'), [17, 20, 21]);
    // Control characters disappear.
    assert.deepEqual(tokenizer.encodeRaw('c\u0000at'), [17]);
  });

  it('splits digits one by one and maps UTF-8 bytes through bytes_to_unicode', async () => {
    const tokenizer = await ClipTokenizer.fromFolder(writeTokenizer('<|endoftext|>'));
    assert.deepEqual(tokenizer.encodeRaw('42'), [22, 23]);
    // "é" = bytes C3 A9; both are printable Latin-1 so map to themselves: [Ã, ©</w>]
    assert.deepEqual(tokenizer.tokenize('é'), ['Ã', '©</w>']);
    assert.deepEqual(tokenizer.encodeRaw('é'), [30, 31]);
    // "€" = E2 82 AC: E2 → "â" (printable); 82 is not printable, and the non-printable bytes are numbered in
    // order (00–20 → 0–32, 7F → 33, 80–A0 → 34–66), so 82 → 36 → U+0100+36 = "Ĥ"; AC → "¬" (printable).
    assert.deepEqual(tokenizer.tokenize('€'), ['â', 'Ĥ', '¬</w>']);
    // Symbols missing from the vocabulary become the unk token (<|endoftext|>).
    assert.deepEqual(tokenizer.encodeRaw('€'), [EOS, EOS, EOS]);
  });

  it('keeps special tokens written in the prompt', async () => {
    const tokenizer = await ClipTokenizer.fromFolder(writeTokenizer('<|endoftext|>'));
    assert.deepEqual(tokenizer.encodeRaw('a <|endoftext|> cat'), [1, EOS, 17]);
  });

  it('truncates to 75 tokens between BOS and EOS', async () => {
    const tokenizer = await ClipTokenizer.fromFolder(writeTokenizer('<|endoftext|>'));
    const ids = [...tokenizer.encode(new Array(100).fill('a').join(' '))];
    assert.equal(ids.length, 77);
    assert.deepEqual(ids, [BOS, ...new Array<number>(75).fill(1), EOS]);
  });

  it('pads with the pad token of the tokenizer files (SD 2.x: "!" = 0)', async () => {
    const sd1 = await ClipTokenizer.fromFolder(writeTokenizer('<|endoftext|>'));
    const sd2 = await ClipTokenizer.fromFolder(writeTokenizer('!'));
    assert.equal(sd1.padId, EOS);
    assert.equal(sd2.padId, 0);
    assert.deepEqual([...sd2.encode('a cat')], padded([1, 17], 0));
    assert.deepEqual([...sd1.encode('')], padded([], EOS));
  });

  it('names the missing or malformed file', async () => {
    await assert.rejects(
      ClipTokenizer.fromFolder(writeTokenizer('!', { 'vocab.json': '{"a": ' })),
      (error) => isDiffusionError(error, 'model_file_malformed') && error.file === 'tokenizer/vocab.json',
    );
    await assert.rejects(
      ClipTokenizer.fromFolder(writeTokenizer('!', { 'merges.txt': '#version: 0.2\np h x\n' })),
      (error) => isDiffusionError(error, 'model_file_malformed') && error.file === 'tokenizer/merges.txt',
    );
    const root = writeTokenizer('!');
    const { rmSync } = await import('node:fs');
    rmSync(join(root, 'tokenizer', 'special_tokens_map.json'));
    await assert.rejects(
      ClipTokenizer.fromFolder(root),
      (error) =>
        isDiffusionError(error, 'model_file_missing') && error.file === 'tokenizer/special_tokens_map.json',
    );
  });
});
