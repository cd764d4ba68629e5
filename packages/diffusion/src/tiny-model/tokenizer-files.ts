/**
 * A tiny CLIP-style tokenizer: the 256 byte symbols, their 256 end-of-word variants, a handful of merges, then the
 * two special tokens — the same vocabulary layout as CLIP's (where that layout puts <|startoftext|> at 49406).
 * Here it puts "!" at 0, the byte symbols at 0–255, "x</w>" at 256–511, merges from 512 and the specials last.
 */
import { byteSymbolsInVocabOrder } from '../tokenizer/byte-encoder.js';

export const TINY_MERGES = [
  'p h',
  'o t',
  'ph ot',
  'phot o</w>',
  'o f</w>',
  'c a',
  'ca t</w>',
  'd o',
  'do g</w>',
  'r e',
  're d</w>',
  't h',
  'th e</w>',
];

export type TokenizerFlavor = 'sd1' | 'sd2';

export function tinyTokenizerFiles(flavor: TokenizerFlavor): Record<string, string> {
  const symbols = byteSymbolsInVocabOrder();
  const tokens = [
    ...symbols,
    ...symbols.map((s) => `${s}</w>`),
    ...TINY_MERGES.map((m) => m.replace(' ', '')),
    '<|startoftext|>',
    '<|endoftext|>',
  ];
  const vocab = Object.fromEntries(tokens.map((token, id) => [token, id]));
  // SD 1.x pads with <|endoftext|>; SD 2.x (OpenCLIP) pads with "!", id 0.
  const pad = flavor === 'sd1' ? '<|endoftext|>' : '!';
  const special = (content: string) => ({
    content,
    lstrip: false,
    normalized: true,
    rstrip: false,
    single_word: false,
  });
  return {
    'vocab.json': JSON.stringify(vocab),
    'merges.txt': `#version: 0.2\n${TINY_MERGES.join('\n')}\n`,
    'special_tokens_map.json': JSON.stringify(
      {
        bos_token: '<|startoftext|>',
        eos_token: '<|endoftext|>',
        pad_token: pad,
        unk_token: '<|endoftext|>',
      },
      null,
      2,
    ),
    'tokenizer_config.json': JSON.stringify(
      {
        add_prefix_space: false,
        bos_token: special('<|startoftext|>'),
        do_lower_case: true,
        eos_token: special('<|endoftext|>'),
        errors: 'replace',
        model_max_length: 77,
        pad_token: pad === '!' ? '!' : special(pad),
        tokenizer_class: 'CLIPTokenizer',
        unk_token: special('<|endoftext|>'),
      },
      null,
      2,
    ),
  };
}

export function tinyVocabSize(): number {
  return 512 + TINY_MERGES.length + 2;
}
