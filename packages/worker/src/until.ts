// `--until`: when a batch allocation ends. Either an ISO time ("2026-03-01T18:00:00Z") or a duration from
// now ("3h55m", "90m", "45s", "1d2h"), so a Slurm script can say "stop taking jobs 5 minutes before the end".
import { FatalWorkerError } from './errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

export function parseDuration(text: string): number | undefined {
  const value = text.trim();
  if (!DURATION.test(value)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of value.matchAll(PART)) ms += Number(amount) * (UNIT_MS[unit as string] ?? 0);
  return ms;
}

export function parseUntil(text: string, now: number = Date.now()): Date {
  const duration = parseDuration(text);
  if (duration !== undefined) return new Date(now + duration);
  // Only full ISO-8601 date-times: "Date.parse('5')" means the year 5, which is never what anyone meant.
  if (/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())) {
    const at = Date.parse(text.trim());
    if (!Number.isNaN(at)) return new Date(at);
  }
  throw new FatalWorkerError(
    'invalid_until',
    `--until must be an ISO time (2026-03-01T18:00:00Z) or a duration (3h55m, 90m, 45s); got "${text}".`,
  );
}
