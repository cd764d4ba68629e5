// What hid an image, told from its hidden_images row. A person's hide names them (hidden_by); the system's
// hides have no person and say in their reason which rule decided, each with its own prefix. Owners, the
// appeal queue and the appeal statistics all read the source from here, so a prompt-filter or verification
// hide is never shown as a moderator's.
import type { HideSource } from '@dreamfold/protocol';

export const CLASSIFIER_PREFIX = 'nsfw_classifier:';
export const PROMPT_FILTER_PREFIX = 'prompt_filter:';
/** trust/: held until another worker confirms it, or withdrawn (its worker was found bad, or outvoted). */
export const VERIFICATION_PREFIX = 'verification:';

/** The reason of a prompt-filter hide: the rule as the filter names it, never the list. */
export function promptFilterReason(rule: string): string {
  return `${PROMPT_FILTER_MATCH}${rule}`;
}
const PROMPT_FILTER_MATCH = `${PROMPT_FILTER_PREFIX} its prompt matches `;

export function hideSource(row: { hiddenBy: string | null; reason: string }): HideSource {
  if (row.hiddenBy !== null) return 'moderator';
  if (row.reason.startsWith(CLASSIFIER_PREFIX)) return 'classifier';
  if (row.reason.startsWith(PROMPT_FILTER_PREFIX)) return 'prompt_filter';
  if (row.reason.startsWith(VERIFICATION_PREFIX)) return 'verification';
  // A system hide with another reason would be a bug; the reason itself is still shown to the owner.
  return 'moderator';
}

/**
 * The rule an appeal counts its outcome under: the classifier as a whole, the prompt-filter rule that
 * matched (e.g. `the blocked word "…"`), or the hide's reason (a moderator's words, a verification outcome).
 */
export function hideRule(source: HideSource, reason: string, classifierRule: string): string {
  if (source === 'classifier') return classifierRule;
  if (source === 'prompt_filter') {
    return reason.startsWith(PROMPT_FILTER_MATCH) ? reason.slice(PROMPT_FILTER_MATCH.length) : reason;
  }
  return reason;
}
