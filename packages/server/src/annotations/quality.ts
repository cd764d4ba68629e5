// The rules of rater quality and pacing, as pure functions (the services feed them rows).
//
// Agreement: each gold answer agrees or not with the known answer. A rater's score is the share they
// agreed with, smoothed by a uniform Beta(1, 1) prior — (agreed + 1) / (gold answers + 2) — so that one
// lucky or unlucky check moves it little. It only counts once the rater gave `minGoldAnswers` gold
// answers ("provisional" before that: answers count and earn). Below the threshold the rater is
// "excluded": their answers stay stored but leave aggregates and releases, and earn nothing. The status
// follows the score both ways, so a rater who improves comes back with their history.
import type { RaterStatus } from '@dreamfold/protocol';
import type { GoldRow } from './sql/handout.js';

export const HOUR_MS = 60 * 60 * 1000;

export interface QualityPolicy {
  minGoldAnswers: number;
  /** 0–1. */
  minAgreement: number;
}

export function agreementScore(goldAnswers: number, goldAgreed: number): number {
  return (goldAgreed + 1) / (goldAnswers + 2);
}

export function raterStatus(policy: QualityPolicy, goldAnswers: number, goldAgreed: number): RaterStatus {
  if (goldAnswers < policy.minGoldAnswers) return 'provisional';
  return agreementScore(goldAnswers, goldAgreed) < policy.minAgreement ? 'excluded' : 'trusted';
}

/**
 * The status to show for a rater: the stored exclusion (what aggregates follow; re-evaluated at each of
 * their answers), else provisional or trusted by their checks so far.
 */
export function shownStatus(
  policy: QualityPolicy,
  r: { excluded: boolean; goldAnswers: number; goldAgreed: number },
): RaterStatus {
  if (r.excluded) return 'excluded';
  return raterStatus(policy, r.goldAnswers, r.goldAgreed) === 'provisional' ? 'provisional' : 'trusted';
}

export interface GivenAnswer {
  rating: number | null;
  /** As presented: a = the task's first image, b = its second. */
  choice: 'a' | 'b' | 'tie' | null;
  flags: number | null;
}

/**
 * Whether an answer agrees with a gold item. Pairs are stored canonically (image_a < image_b) but shown
 * in random order, so a pairwise answer is compared by image id. Flag items only check the flags whose
 * answer is known.
 */
export function agreesWithGold(
  gold: GoldRow,
  shown: { first: string; second: string | null },
  answer: GivenAnswer,
): boolean {
  switch (gold.kind) {
    case 'rating':
      return (
        answer.rating !== null &&
        answer.rating >= (gold.rating_min ?? Infinity) &&
        answer.rating <= (gold.rating_max ?? -Infinity)
      );
    case 'pairwise': {
      if (answer.choice === null || gold.preferred === null) return false;
      if (gold.preferred === 'tie' || answer.choice === 'tie') return gold.preferred === answer.choice;
      const picked = answer.choice === 'a' ? shown.first : shown.second;
      const known = gold.preferred === 'a' ? gold.image_a : gold.image_b;
      return picked === known;
    }
    case 'flag': {
      if (answer.flags === null) return false;
      const set = gold.flags_set ?? 0;
      const clear = gold.flags_clear ?? 0;
      return (answer.flags & set) === set && (answer.flags & clear) === 0;
    }
  }
}

/** What an answer earns under the hourly cap, given what the rater earned in the last hour. */
export function pacedCredits(reward: number, cap: number, earnedLastHour: number): number {
  return Math.max(0, Math.min(reward, cap - earnedLastHour));
}
