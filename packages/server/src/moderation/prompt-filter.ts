// The prompt filter applied before anything is queued. Its rules start from PROMPT_BLOCKLIST_FILE; an admin
// can replace them at run time, stored in `settings` so every replica and restart agrees (and reset them
// back to the file). Rules are compiled once per change, never per request; reads are cached briefly
// because every generation asks.
import { readFileSync } from 'node:fs';
import type { Kysely } from 'kysely';
import type { PromptFilterRules, PromptFilterState } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { ConfigError } from '../config.js';
import { AppError } from '../errors.js';
import { toIso } from '../ids.js';
import { readSetting, writeSetting } from '../settings/store.js';
import { compileRules, InvalidRulesError, parseRuleFile, type CompiledRules } from './prompt-rules.js';

const KEY = 'prompt_filter';
const CACHE_MS = 2000;
const EMPTY = compileRules({ words: [], patterns: [] });
/** How much of a rules diff the audit entry keeps. */
const AUDIT_DIFF_MAX = 50;

interface Current {
  compiled: CompiledRules;
  source: PromptFilterState['source'];
  /** The stored JSON, to recompile only when it changed. */
  stored: string | undefined;
  updatedAt?: number;
  updatedBy?: string | null;
}

/** Reads and compiles PROMPT_BLOCKLIST_FILE, or fails start-up naming the bad lines. */
export function loadRuleFile(path: string): CompiledRules {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`PROMPT_BLOCKLIST_FILE: cannot read ${path} (${(err as Error).message}).`);
  }
  const { rules, lines } = parseRuleFile(text);
  try {
    return compileRules(rules);
  } catch (err) {
    if (!(err instanceof InvalidRulesError)) throw err;
    const where = err.problems.map((p) => {
      const [kind, index] = p.path.split('/') as ['words' | 'patterns', string | undefined];
      const line = index === undefined ? undefined : lines[kind]?.[Number(index)];
      return line === undefined ? `${p.path} ${p.message}` : `line ${line} ${p.message}`;
    });
    throw new ConfigError(`PROMPT_BLOCKLIST_FILE ${path}: ${where.join('; ')}.`);
  }
}

/** What the requester reads when a field breaks a rule: the field, the words and the rule, never the list. */
export function breachDetail(label: string, hit: { rule: string; matched: string }): string {
  const shown = hit.matched.length > 60 ? `${hit.matched.slice(0, 57)}…` : hit.matched;
  return `The ${label} contains "${shown}", which matches ${hit.rule}. Rephrase it and try again.`;
}

export class PromptFilter {
  private cached: { current: Current; until: number } | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly fromFile: CompiledRules | undefined,
  ) {}

  /** Refuses (422 prompt_rejected) when any field breaks a rule; says which field and which rule. */
  async check(fields: { path: string; label: string; text: string | undefined }[]): Promise<void> {
    const { compiled } = await this.current();
    for (const field of fields) {
      if (!field.text) continue;
      const hit = compiled.match(field.text);
      if (!hit) continue;
      throw new AppError('prompt_rejected', breachDetail(field.label, hit), [
        { path: field.path, message: `matches ${hit.rule}` },
      ]);
    }
  }

  async state(): Promise<PromptFilterState> {
    const c = await this.current();
    return {
      ...c.compiled.rules,
      source: c.source,
      updatedAt: c.updatedAt === undefined ? undefined : toIso(c.updatedAt),
      updatedBy: c.updatedBy ?? undefined,
    };
  }

  /** Replaces the rules (validated first: all problems at once, 400); audited in the same transaction. */
  async replace(actorId: string, rules: PromptFilterRules): Promise<PromptFilterState> {
    let compiled: CompiledRules;
    try {
      compiled = compileRules(rules, 'body/');
    } catch (err) {
      if (err instanceof InvalidRulesError)
        throw new AppError('validation_failed', err.message, err.problems);
      throw err;
    }
    const previous = await this.current(true);
    const now = this.clock.now();
    const value = JSON.stringify(compiled.rules);
    await writeSetting(this.db, {
      key: KEY,
      value,
      actorId,
      now,
      detail: describeChange(previous, compiled.rules, 'settings'),
    });
    this.cached = undefined;
    return this.state();
  }

  /** Forgets the run-time rules: PROMPT_BLOCKLIST_FILE (or nothing) applies again. */
  async reset(actorId: string): Promise<PromptFilterState> {
    const previous = await this.current(true);
    if (previous.source !== 'settings') return this.state();
    const now = this.clock.now();
    const next = this.fromFile?.rules ?? EMPTY.rules;
    await writeSetting(this.db, {
      key: KEY,
      value: undefined,
      actorId,
      now,
      detail: describeChange(previous, next, this.fromFile ? 'file' : 'none'),
    });
    this.cached = undefined;
    return this.state();
  }

  private async current(fresh = false): Promise<Current> {
    const now = this.clock.now();
    if (!fresh && this.cached && this.cached.until > now) return this.cached.current;
    const row = await readSetting(this.db, KEY);
    let current: Current;
    if (!row) {
      current = this.fromFile
        ? { compiled: this.fromFile, source: 'file', stored: undefined }
        : { compiled: EMPTY, source: 'none', stored: undefined };
    } else if (this.cached?.current.stored === row.value) {
      current = { ...this.cached.current, updatedAt: row.updated_at, updatedBy: row.updated_by };
    } else {
      // Stored rules were validated when set; compiling them again cannot fail unless the database was
      // edited by hand, and then failing loudly beats filtering with half a list.
      const compiled = compileRules(JSON.parse(row.value) as PromptFilterRules);
      current = {
        compiled,
        source: 'settings',
        stored: row.value,
        updatedAt: row.updated_at,
        updatedBy: row.updated_by,
      };
    }
    this.cached = { current, until: now + CACHE_MS };
    return current;
  }
}

function describeChange(previous: Current, next: PromptFilterRules, source: string): Record<string, unknown> {
  const before = previous.compiled.rules;
  const diff = (from: string[], to: string[]) => {
    const old = new Set(from);
    const now = new Set(to);
    return {
      added: to.filter((x) => !old.has(x)).slice(0, AUDIT_DIFF_MAX),
      removed: from.filter((x) => !now.has(x)).slice(0, AUDIT_DIFF_MAX),
    };
  };
  return {
    from: { source: previous.source, words: before.words.length, patterns: before.patterns.length },
    to: { source, words: next.words.length, patterns: next.patterns.length },
    words: diff(before.words, next.words),
    patterns: diff(before.patterns, next.patterns),
  };
}
