// What the event loop and the upload thread (upload-validator.ts, upload-thread.ts) send each other.
import type { ErrorCode } from '../errors.js';
import type { ImageFeatures } from '../trust/image-analysis.js';

export interface UploadRequest {
  id: number;
  upload: Uint8Array;
  expected: { width: number; height: number };
  parameters: string | undefined;
  /** Also compute the picture's features for trust/ checks (trust/image-analysis.ts). */
  analyse: boolean;
}

export type UploadAnswer =
  | { id: number; png: Uint8Array; sha256: string; features: ImageFeatures | undefined }
  | { id: number; error: { code: ErrorCode | undefined; message: string } };

/** The ArrayBuffer behind `bytes` when the view covers all of it, so it can be moved to another thread. */
export function ownBuffer(bytes: Uint8Array): ArrayBuffer[] {
  const buffer = bytes.buffer;
  return buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength
    ? [buffer]
    : [];
}

/** Posts `message`, moving `transfer` when the runtime allows (memory made by native code may not move). */
export function postMoving(
  port: { postMessage(m: unknown, t?: ArrayBuffer[]): void },
  message: unknown,
  transfer: ArrayBuffer[],
): void {
  try {
    port.postMessage(message, transfer);
  } catch {
    port.postMessage(message);
  }
}
