// Keyboard answers for annotation tasks: 1–9 and 0 (= 10) rate; ←/→ pick the first/second image and ↓
// is a tie; for flags 1–4 toggle a flag and Enter sends.
import type { AnnotationKind, AnswerAnnotationBody, ImageFlag } from '@dreamfold/protocol';

export const FLAG_ORDER: readonly ImageFlag[] = ['nsfw', 'broken', 'offensive', 'does_not_match_prompt'];

export type KeyAction =
  { answer: AnswerAnnotationBody } | { toggleFlag: ImageFlag } | { submitFlags: true } | undefined;

export function keyAction(kind: AnnotationKind, key: string): KeyAction {
  if (kind === 'rating') {
    if (/^[1-9]$/.test(key)) return { answer: { rating: Number(key) } };
    if (key === '0') return { answer: { rating: 10 } };
    return undefined;
  }
  if (kind === 'pairwise') {
    if (key === 'ArrowLeft') return { answer: { preference: 'first' } };
    if (key === 'ArrowRight') return { answer: { preference: 'second' } };
    if (key === 'ArrowDown') return { answer: { preference: 'tie' } };
    return undefined;
  }
  if (/^[1-4]$/.test(key)) {
    const flag = FLAG_ORDER[Number(key) - 1];
    return flag ? { toggleFlag: flag } : undefined;
  }
  if (key === 'Enter') return { submitFlags: true };
  return undefined;
}

/** Keys typed into a form control belong to it, not to the task. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!target || typeof (target as { tagName?: unknown }).tagName !== 'string') return false;
  const el = target as unknown as { tagName: string; isContentEditable?: boolean; type?: string };
  const tag = el.tagName.toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable) return true;
  if (tag !== 'INPUT') return false;
  return !['checkbox', 'radio', 'button', 'submit'].includes((el.type ?? '').toLowerCase());
}
