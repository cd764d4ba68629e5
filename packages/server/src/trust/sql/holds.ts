// Images of workers without a verified record wait out of sight (hidden_images, the table every public
// listing and release reads through moderation/visibility.ts) until another worker confirms them; images
// found bad stay there with the reason. Rows a moderator or the safety classifier wrote are never touched.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { VERIFICATION_PREFIX } from '../../safety/hide-reasons.js';

export const PENDING_REASON = `${VERIFICATION_PREFIX} waiting for another worker to confirm it (its worker is new or on probation)`;

export async function holdImage(db: Kysely<Database>, p: { imageId: string; now: number }): Promise<void> {
  await db
    .insertInto('hidden_images')
    .values({ image_id: p.imageId, reason: PENDING_REASON, hidden_by: null, hidden_at: p.now })
    .onConflict((oc) => oc.column('image_id').doNothing())
    .execute();
}

/** Shows held images again (confirmed, or nothing was found against them). */
export async function releaseHolds(db: Kysely<Database>, imageIds: readonly string[]): Promise<void> {
  if (imageIds.length === 0) return;
  await db
    .deleteFrom('hidden_images')
    .where('image_id', 'in', imageIds)
    .where('reason', '=', PENDING_REASON)
    .execute();
}

/**
 * Takes an image out for good, with the reason; a held one gets the new reason, another hide stays as it
 * is. True when written (safety/ hides through it too, so a confirmation cannot show what it hid).
 */
export async function withdrawImage(
  db: Kysely<Database>,
  p: { imageId: string; reason: string; now: number },
): Promise<boolean> {
  const rows = await db
    .insertInto('hidden_images')
    .values({ image_id: p.imageId, reason: p.reason, hidden_by: null, hidden_at: p.now })
    .onConflict((oc) =>
      oc
        .column('image_id')
        .doUpdateSet({ reason: p.reason, hidden_at: p.now })
        .where('hidden_images.reason', '=', PENDING_REASON),
    )
    .returning('image_id')
    .execute();
  return rows.length > 0;
}
