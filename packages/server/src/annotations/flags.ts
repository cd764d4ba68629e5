// Flags travel as names on the wire and are stored as a bit mask (one integer column per answer), so
// an answer with several flags is one row and aggregates count each flag with a bitwise AND.
import { IMAGE_FLAGS, type ImageFlag } from '@dreamfold/protocol';

export const FLAG_BITS: Record<ImageFlag, number> = {
  nsfw: 1,
  broken: 2,
  offensive: 4,
  does_not_match_prompt: 8,
};

export function flagsToMask(flags: readonly ImageFlag[]): number {
  let mask = 0;
  for (const f of flags) mask |= FLAG_BITS[f];
  return mask;
}

export function maskToFlags(mask: number): ImageFlag[] {
  return IMAGE_FLAGS.filter((f) => (mask & FLAG_BITS[f]) !== 0);
}

/** Gold flag expectations ({ nsfw: true, broken: false }) as the two masks the table stores. */
export function expectationMasks(expected: Partial<Record<ImageFlag, boolean>>): {
  set: number;
  clear: number;
} {
  let set = 0;
  let clear = 0;
  for (const f of IMAGE_FLAGS) {
    if (expected[f] === true) set |= FLAG_BITS[f];
    else if (expected[f] === false) clear |= FLAG_BITS[f];
  }
  return { set, clear };
}

export function masksToExpectations(set: number, clear: number): Partial<Record<ImageFlag, boolean>> {
  const out: Partial<Record<ImageFlag, boolean>> = {};
  for (const f of IMAGE_FLAGS) {
    if (set & FLAG_BITS[f]) out[f] = true;
    else if (clear & FLAG_BITS[f]) out[f] = false;
  }
  return out;
}
