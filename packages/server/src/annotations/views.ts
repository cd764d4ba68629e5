// Rows → wire shapes, and the earning state both an answer and /v1/me/annotations report.
import type { EarningState, GoldItem, ImageAnnotationStats, RaterSummary } from '@dreamfold/protocol';
import { toIso, toIsoOrUndefined } from '../ids.js';
import { masksToExpectations } from './flags.js';
import type { ImageStatsRow } from './sql/aggregates.js';
import type { GoldItemRow } from './sql/gold.js';
import type { RaterListRow } from './sql/raters.js';
import { agreementScore, HOUR_MS, shownStatus, type QualityPolicy } from './quality.js';

/**
 * Mean and sample standard deviation from exact integer sums: n·Σx² − (Σx)² is an exact integer for
 * ratings of 1–10 (no cancellation), so the variance is exact up to the final division.
 */
export function ratingSummary(
  count: number,
  sum: number,
  sumsq: number,
): { count: number; mean?: number; stddev?: number } {
  if (count === 0) return { count };
  const mean = sum / count;
  if (count < 2) return { count, mean };
  const variance = (count * sumsq - sum * sum) / (count * (count - 1));
  return { count, mean, stddev: Math.sqrt(Math.max(0, variance)) };
}

export function toImageStats(row: ImageStatsRow): ImageAnnotationStats {
  return {
    imageId: row.image_id,
    rating: ratingSummary(Number(row.rating_count), Number(row.rating_sum), Number(row.rating_sumsq)),
    pairwise: { wins: row.pair_wins, losses: row.pair_losses, ties: row.pair_ties },
    flags: {
      answers: row.flag_answers,
      nsfw: row.flag_nsfw,
      broken: row.flag_broken,
      offensive: row.flag_offensive,
      does_not_match_prompt: row.flag_mismatch,
    },
  };
}

export function toGoldItem(row: GoldItemRow): GoldItem {
  const imageIds = row.image_b === null ? [row.image_a] : [row.image_a, row.image_b];
  return {
    id: row.id,
    kind: row.kind,
    imageIds,
    ratingMin: row.rating_min ?? undefined,
    ratingMax: row.rating_max ?? undefined,
    preferred:
      row.preferred === null
        ? undefined
        : row.preferred === 'tie'
          ? 'tie'
          : row.preferred === 'a'
            ? row.image_a
            : (row.image_b ?? undefined),
    flags: row.kind === 'flag' ? masksToExpectations(row.flags_set ?? 0, row.flags_clear ?? 0) : undefined,
    createdAt: toIso(row.created_at),
    createdBy: row.created_by ?? undefined,
    retiredAt: toIsoOrUndefined(row.retired_at),
    answers: row.answers,
    agreed: row.agreed,
  };
}

/** A rater for moderators; the email only when `withEmail` (admins). */
export function toRaterSummary(row: RaterListRow, policy: QualityPolicy, withEmail: boolean): RaterSummary {
  const answered = { rating: row.rating_answers, pairwise: row.pairwise_answers, flag: row.flag_answers };
  const { gold_answers: answers, gold_agreed: agreed } = row;
  return {
    userId: row.user_id,
    email: withEmail ? row.email : undefined,
    status: shownStatus(policy, {
      excluded: row.excluded_at !== null,
      goldAnswers: answers,
      goldAgreed: agreed,
    }),
    answered: { ...answered, total: answered.rating + answered.pairwise + answered.flag },
    gold: {
      answers,
      agreed,
      share: answers > 0 ? agreed / answers : undefined,
      score: agreementScore(answers, agreed),
    },
    excludedAt: toIsoOrUndefined(row.excluded_at),
    creditsEarned: Number(row.credits_earned),
    createdAt: toIso(row.created_at),
  };
}

/** Why earning is paused, if it is, after `earnedLastHour` (the oldest of those at `oldestAt`). */
export function earningState(p: {
  excluded: boolean;
  reward: number;
  cap: number;
  earnedLastHour: number;
  oldestAt: number | undefined;
  now: number;
}): EarningState {
  if (p.excluded) {
    return {
      paused: true,
      reason: 'low_agreement',
      detail:
        'Your answers disagree too often with known answers, so they no longer count and earn nothing. ' +
        'Take your time with each task: careful answers bring your agreement score back up.',
    };
  }
  if (p.reward > 0 && p.earnedLastHour >= p.cap) {
    const resumesAt = (p.oldestAt ?? p.now) + HOUR_MS;
    return {
      paused: true,
      reason: 'hourly_cap',
      resumesAt: toIso(resumesAt),
      detail: `You earned the most annotations pay in an hour (${p.cap} credits). Answers are still welcome but earn nothing until ${toIso(resumesAt)}.`,
    };
  }
  return { paused: false };
}
