/**
 * CLIP byte-level BPE tokenizer, a port of the reference `CLIPTokenizer` (transformers, slow version) reading the
 * files of a Hugging Face tokenizer folder: vocab.json, merges.txt, special_tokens_map.json, tokenizer_config.json.
 *
 * Written here rather than taken from a library: the Optimum layout ships these four files and no tokenizer.json,
 * and the whole algorithm is ~150 lines whose every step we can test against hand-derived vectors.
 */
import { join } from 'node:path';
import { DiffusionError } from '../errors.js';
import { readModelJson, readModelText } from '../model-files.js';
import { toByteSymbols } from './byte-encoder.js';
import { cleanPromptText } from './text-cleanup.js';

export const START_OF_TEXT = '<|startoftext|>';
export const END_OF_TEXT = '<|endoftext|>';

/** The reference pre-tokenizer pattern (applied to already lower-cased text). */
const PRE_TOKENIZER =
  /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

/** The reference keeps only the first 49152 - 256 - 2 merges (its vocabulary size budget). */
const MAX_MERGES = 49152 - 256 - 2;
const CACHE_LIMIT = 10_000;

export interface ClipTokenizerFiles {
  vocab: Record<string, number>;
  /** merges.txt content, including its "#version" header line. */
  merges: string;
  specialTokens: Record<string, unknown>;
  config: Record<string, unknown>;
}

export class ClipTokenizer {
  readonly maxLength: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly unkId: number;
  private readonly vocab: Map<string, number>;
  private readonly ranks: Map<string, number>;
  private readonly cache = new Map<string, string[]>();

  /** Build from parsed files; `where` prefixes file names in errors (e.g. "tokenizer/"). */
  constructor(files: ClipTokenizerFiles, where = '') {
    this.vocab = new Map();
    for (const [token, id] of Object.entries(files.vocab)) {
      if (!Number.isInteger(id)) {
        throw new DiffusionError(
          'model_file_malformed',
          `${where}vocab.json: id of "${token}" is not an integer`,
          {
            file: `${where}vocab.json`,
          },
        );
      }
      this.vocab.set(token, id);
    }
    this.ranks = new Map();
    const lines = files.merges
      .trim()
      .split('\n')
      .slice(1, MAX_MERGES + 1);
    lines.forEach((line, rank) => {
      const parts = line.trim().split(/\s+/);
      if (parts.length !== 2) {
        throw new DiffusionError(
          'model_file_malformed',
          `${where}merges.txt line ${rank + 2} is not "left right": ${JSON.stringify(line)}`,
          { file: `${where}merges.txt` },
        );
      }
      this.ranks.set(`${parts[0]} ${parts[1]}`, rank);
    });
    const special = (key: string, fallback: string): number => {
      const token = tokenContent(files.config[key]) ?? tokenContent(files.specialTokens[key]) ?? fallback;
      const id = this.vocab.get(token);
      if (id === undefined) {
        throw new DiffusionError(
          'model_file_malformed',
          `${where}vocab.json has no id for ${key} "${token}"`,
          {
            file: `${where}vocab.json`,
          },
        );
      }
      return id;
    };
    this.bosId = special('bos_token', START_OF_TEXT);
    this.eosId = special('eos_token', END_OF_TEXT);
    this.unkId = special('unk_token', END_OF_TEXT);
    // SD 1.x pads with <|endoftext|>, SD 2.x with "!" (id 0): whatever the files say.
    this.padId = special('pad_token', END_OF_TEXT);
    const max = files.config['model_max_length'];
    // Some configs carry a huge sentinel (1e30) meaning "no limit"; CLIP's position table is 77 long.
    this.maxLength = typeof max === 'number' && Number.isInteger(max) && max >= 2 && max <= 4096 ? max : 77;
  }

  static async fromFolder(root: string, subfolder = 'tokenizer'): Promise<ClipTokenizer> {
    const where = `${subfolder}/`;
    const [vocab, merges, specialTokens, config] = await Promise.all([
      readModelJson(root, join(subfolder, 'vocab.json')),
      readModelText(root, join(subfolder, 'merges.txt')),
      readModelJson(root, join(subfolder, 'special_tokens_map.json')),
      readModelJson(root, join(subfolder, 'tokenizer_config.json')),
    ]);
    return new ClipTokenizer(
      { vocab: vocab as Record<string, number>, merges, specialTokens, config },
      where,
    );
  }

  /** The BPE symbols of a text, without start/end tokens or truncation. */
  tokenize(text: string): string[] {
    const out: string[] = [];
    for (const match of cleanPromptText(text).matchAll(PRE_TOKENIZER)) {
      const piece = match[0];
      if (piece === START_OF_TEXT || piece === END_OF_TEXT) {
        out.push(piece);
        continue;
      }
      out.push(...this.bpe(toByteSymbols(piece)));
    }
    return out;
  }

  /** Token ids without special tokens. */
  encodeRaw(text: string): number[] {
    return this.tokenize(text).map((symbol) => this.vocab.get(symbol) ?? this.unkId);
  }

  /**
   * The text encoder's input: [BOS, up to maxLength-2 ids, EOS, pad…], exactly maxLength long — what the
   * reference produces with padding="max_length", truncation=True.
   */
  encode(text: string): Int32Array {
    const ids = this.encodeRaw(text).slice(0, this.maxLength - 2);
    const out = new Int32Array(this.maxLength).fill(this.padId);
    out[0] = this.bosId;
    out.set(ids, 1);
    out[ids.length + 1] = this.eosId;
    return out;
  }

  private bpe(token: string): string[] {
    const cached = this.cache.get(token);
    if (cached) return cached;
    const chars = Array.from(token);
    // The last symbol carries the end-of-word marker, so word-final merges differ from word-internal ones.
    let word = [...chars.slice(0, -1), `${chars[chars.length - 1]}</w>`];
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const rank = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      const first = word[best]!;
      const second = word[best + 1]!;
      // Merge every non-overlapping occurrence of the best pair, left to right, like the reference loop.
      const merged: string[] = [];
      for (let i = 0; i < word.length;) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i]!);
          i += 1;
        }
      }
      word = merged;
    }
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(token, word);
    return word;
  }
}

/** A special token is written either as a string or as {"content": "..."} (AddedToken). */
function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { content?: unknown }).content === 'string'
  ) {
    return (value as { content: string }).content;
  }
  return undefined;
}
