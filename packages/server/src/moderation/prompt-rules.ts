// The prompt filter's rules: parsing the blocklist file, validating and compiling rules once, and
// matching a prompt against them. Pure functions; the stored copy and its cache live in prompt-filter.ts.
import { PROMPT_FILTER_LIMITS, type PromptFilterRules } from '@dreamfold/protocol';

export interface RuleProblem {
  path: string;
  message: string;
}

export class InvalidRulesError extends Error {
  constructor(readonly problems: RuleProblem[]) {
    super(problems.map((p) => `${p.path}: ${p.message}`).join('; '));
  }
}

export interface RuleMatch {
  /** Shown to the user: the rule, never the list. */
  rule: string;
  /** The piece of the (normalised) text that matched. */
  matched: string;
}

export interface CompiledRules {
  readonly rules: PromptFilterRules;
  /** The first rule the text breaks, or undefined when it is clean. */
  match(text: string): RuleMatch | undefined;
}

// Letters of scripts where accents are decoration, not different letters in the sense of evasion:
// "nüde" and "nude" should match the same rule. Marks on other scripts (Devanagari vowel signs, …) are
// part of the word and are kept.
const ACCENTED = /(?<=[\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}])\p{M}+/gu;
// Zero-width spaces and joiners, soft hyphens, bidi controls: invisible, so only good for evasion.
const INVISIBLE = /\p{Cf}/gu;
const SPACES = /\s+/gu;

/**
 * What every rule and every prompt is compared as: NFKC (full-width and other compatibility forms become
 * plain letters), invisible format characters removed, accents on Latin/Greek/Cyrillic letters removed,
 * whitespace collapsed. Case is kept here; words compare lower-cased, patterns choose with their flags.
 */
export function normalizeText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(INVISIBLE, '')
    .replace(ACCENTED, '')
    .normalize('NFKC')
    .replace(SPACES, ' ')
    .trim();
}

export interface ParsedRuleFile {
  rules: PromptFilterRules;
  /** The 1-based line of each word and pattern, for error messages. */
  lines: { words: number[]; patterns: number[] };
}

/** One rule per line: `/source/flags` is a pattern, anything else a word or phrase; `#` starts a comment line. */
export function parseRuleFile(text: string): ParsedRuleFile {
  const parsed: ParsedRuleFile = { rules: { words: [], patterns: [] }, lines: { words: [], patterns: [] } };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const kind = line.startsWith('/') ? 'patterns' : 'words';
    parsed.rules[kind].push(line);
    parsed.lines[kind].push(i + 1);
  });
  return parsed;
}

const WORD_CHAR = String.raw`[\p{L}\p{N}\p{M}_]`;
const ALLOWED_FLAGS = /^[imsuv]*$/;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * A pattern whose repeated group itself repeats — `(a+)+`, `(\w*x)*`, `(a{2,})+` — can take exponential
 * time on a crafted prompt (catastrophic backtracking). JavaScript regexes cannot be interrupted, so such
 * patterns are refused when set rather than trusted at match time.
 */
export function hasNestedQuantifier(source: string): boolean {
  // For each open group: whether something inside it repeats.
  const groups: boolean[] = [];
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      continue;
    }
    if (c === '(') {
      groups.push(false);
      continue;
    }
    const quantifierAt = (j: number) => {
      const q = source[j];
      if (q === '*' || q === '+') return true;
      // {n,} and {n,m} with m > 1 repeat; {1} and ? do not.
      const brace = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(j));
      if (!brace) return false;
      if (brace[2] === undefined) return Number(brace[1]) > 1;
      return brace[3] === '' || Number(brace[3]) > 1;
    };
    if (c === ')') {
      const innerRepeats = groups.pop() ?? false;
      const repeated = quantifierAt(i + 1);
      if (innerRepeats && repeated) return true;
      if ((innerRepeats || repeated) && groups.length > 0) groups[groups.length - 1] = true;
      continue;
    }
    if (quantifierAt(i) && groups.length > 0) groups[groups.length - 1] = true;
  }
  return false;
}

function compilePattern(text: string, path: string, problems: RuleProblem[]): RegExp | undefined {
  const m = /^\/(.+)\/([a-z]*)$/s.exec(text);
  if (!m) {
    problems.push({ path, message: 'must be written /source/flags' });
    return undefined;
  }
  const source = m[1] as string;
  const flags = m[2] as string;
  if (source.length > PROMPT_FILTER_LIMITS.maxPatternChars) {
    problems.push({ path, message: `is longer than ${PROMPT_FILTER_LIMITS.maxPatternChars} characters` });
    return undefined;
  }
  if (!ALLOWED_FLAGS.test(flags)) {
    problems.push({ path, message: 'may only use the flags i, m, s, u and v' });
    return undefined;
  }
  if (hasNestedQuantifier(source)) {
    problems.push({ path, message: 'has a repeated group that itself repeats (slow on some prompts)' });
    return undefined;
  }
  // Flags are taken as written. The text is NFKC-normalised, so ASCII-minded patterns see plain letters
  // and digits; `u`/`v` are only needed for \p{…} classes. (In V8, `i` together with `u` or `v` is about
  // 60 times slower than either alone: bench/prompt-filter.ts.)
  try {
    return new RegExp(source, flags);
  } catch (err) {
    problems.push({ path, message: `is not a valid regular expression (${(err as Error).message})` });
    return undefined;
  }
}

/** Validates every rule (all problems at once) and compiles them; throws InvalidRulesError. */
export function compileRules(input: PromptFilterRules, pathPrefix = ''): CompiledRules {
  const problems: RuleProblem[] = [];
  if (input.words.length > PROMPT_FILTER_LIMITS.maxWords)
    problems.push({
      path: `${pathPrefix}words`,
      message: `has more than ${PROMPT_FILTER_LIMITS.maxWords} entries`,
    });
  if (input.patterns.length > PROMPT_FILTER_LIMITS.maxPatterns)
    problems.push({
      path: `${pathPrefix}patterns`,
      message: `has more than ${PROMPT_FILTER_LIMITS.maxPatterns} entries`,
    });

  // Words compare in their normalised, lower-cased form; the map leads a match back to the rule as written.
  const byNormalized = new Map<string, string>();
  input.words.forEach((word, i) => {
    const normalized = normalizeText(word).toLowerCase();
    if (normalized === '') problems.push({ path: `${pathPrefix}words/${i}`, message: 'is empty' });
    else if (word.length > PROMPT_FILTER_LIMITS.maxWordChars)
      problems.push({
        path: `${pathPrefix}words/${i}`,
        message: `is longer than ${PROMPT_FILTER_LIMITS.maxWordChars} characters`,
      });
    else if (!byNormalized.has(normalized)) byNormalized.set(normalized, word.trim());
  });
  const patterns: { text: string; regex: RegExp }[] = [];
  input.patterns.forEach((text, i) => {
    const regex = compilePattern(text.trim(), `${pathPrefix}patterns/${i}`, problems);
    if (regex) patterns.push({ text: text.trim(), regex });
  });
  if (problems.length > 0) throw new InvalidRulesError(problems);

  // One alternation for all words, longest first so a phrase wins over a word it starts with; "whole
  // word" means no letter, digit, mark or underscore right before or after.
  const alternatives = [...byNormalized.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
  const words =
    alternatives.length > 0
      ? new RegExp(`(?<!${WORD_CHAR})(?:${alternatives.join('|')})(?!${WORD_CHAR})`, 'u')
      : undefined;

  return {
    rules: { words: [...byNormalized.values()], patterns: patterns.map((p) => p.text) },
    match(text: string): RuleMatch | undefined {
      const normalized = normalizeText(text);
      if (words) {
        const found = words.exec(normalized.toLowerCase());
        if (found) {
          const rule = byNormalized.get(found[0]) ?? found[0];
          return { rule: `the blocked word "${rule}"`, matched: found[0] };
        }
      }
      for (const [i, p] of patterns.entries()) {
        const found = p.regex.exec(normalized);
        if (found) return { rule: `blocked pattern #${i + 1}`, matched: found[0] };
      }
      return undefined;
    },
  };
}
