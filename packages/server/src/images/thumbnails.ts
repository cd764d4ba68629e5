// Gallery thumbnails: a WebP no larger than THUMB_SIDE on either side, made once per image from the
// stored PNG and kept in the blob store beside it, addressed by the PNG's SHA-256 (so identical images
// share one, and every replica finds the one any replica made).
import sharp from 'sharp';
import { LIMITS } from '@dreamfold/protocol';
import type { BlobStore } from '../storage/blob-store.js';
import { imageKey } from '../storage/blob-store.js';

export const THUMB_SIDE = 256;

export function thumbKey(sha256: string): string {
  return `thumbs/${sha256.slice(0, 2)}/${sha256}-${THUMB_SIDE}.webp`;
}

/** Stored images were validated on upload; the decode limit still guards against a tampered store. */
const MAX_INPUT_PIXELS = LIMITS.maxSide * LIMITS.maxSide;
const MAX_INPUT_BYTES = MAX_INPUT_PIXELS * 4 + 1024 * 1024;

export class Thumbnails {
  /** Concurrent first requests for one image share a single encode. */
  private readonly making = new Map<string, Promise<Buffer | undefined>>();

  constructor(private readonly blobs: BlobStore) {}

  /** The thumbnail of the stored image with this hash, or undefined when the image file is missing. */
  async get(sha256: string): Promise<Buffer | undefined> {
    const cached = await this.blobs.get(thumbKey(sha256));
    if (cached) return cached;
    let pending = this.making.get(sha256);
    if (!pending) {
      pending = this.make(sha256).finally(() => this.making.delete(sha256));
      this.making.set(sha256, pending);
    }
    return pending;
  }

  private async make(sha256: string): Promise<Buffer | undefined> {
    const png = await this.blobs.getLimited(imageKey(sha256), MAX_INPUT_BYTES);
    if (!png) return undefined;
    const webp = await sharp(png, { limitInputPixels: MAX_INPUT_PIXELS })
      .resize(THUMB_SIDE, THUMB_SIDE, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 80 })
      .toBuffer();
    await this.blobs.put(thumbKey(sha256), webp, 'image/webp');
    return webp;
  }
}
