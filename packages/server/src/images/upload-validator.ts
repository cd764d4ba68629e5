// Where uploads are validated and re-encoded (validate-upload.ts), and analysed for trust/ checks: on a
// thread of their own by default, where that takes work off the event loop. Small uploads are decoded
// and re-encoded by plain-png.ts in JavaScript and zlib's synchronous calls: on the event loop that was
// 15–25 % of a job cycle's main-thread time, and the event loop is what limits the coordinator's rate
// (docs/benchmarks.md) while the second core has room. The analysis trust/ runs on every result (a
// second decode and several passes over every pixel) took 10–11 ms of the event loop per 512×512 image,
// 0.3–0.5 ms through the thread. Posting an upload to the thread and its answer back costs a few tens of
// µs; the bytes are moved, not copied, where the buffer is the upload's own.
//
// The thread starts on the first upload and is replaced if it ever dies (the uploads in flight then fail
// with an internal error and their jobs stay leased, as after any failed upload).
import type { Worker } from 'node:worker_threads';
import { AppError } from '../errors.js';
import { startModuleThread } from '../module-thread.js';
import { PLAIN_CODEC_MAX_PIXELS, type ValidatedImage } from './validate-upload.js';
import { validateAndAnalyse, type UploadOptions } from './upload-analysis.js';
import { ownBuffer, postMoving, type UploadAnswer, type UploadRequest } from './upload-messages.js';

export interface UploadValidator {
  validate(
    upload: Buffer,
    expected: { width: number; height: number },
    options?: UploadOptions,
  ): Promise<ValidatedImage>;
  close(): Promise<void>;
}

/** On the event loop (UPLOAD_VALIDATION=inline): for comparison, and where threads are unwelcome. */
export const inlineUploadValidator: UploadValidator = {
  validate: validateAndAnalyse,
  close: async () => {},
};

interface Pending {
  resolve: (image: ValidatedImage) => void;
  reject: (error: Error) => void;
  expected: { width: number; height: number };
}

export class UploadThread implements UploadValidator {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  validate(
    upload: Buffer,
    expected: { width: number; height: number },
    options: UploadOptions = {},
  ): Promise<ValidatedImage> {
    // A large upload that needs no analysis already does its heavy work off the event loop (sharp's
    // pipeline runs on libuv's pool): through the thread it measured slower (HTTP, 512×512 smooth
    // images: 182 against 224 uploads/s, 10.3 against 8.2 ms of CPU each).
    if (!options.analyse && expected.width * expected.height > PLAIN_CODEC_MAX_PIXELS)
      return inlineUploadValidator.validate(upload, expected, options);
    const worker = this.thread();
    const id = this.nextId++;
    return new Promise<ValidatedImage>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, expected });
      const request: UploadRequest = {
        id,
        upload,
        expected,
        parameters: options.parameters,
        analyse: options.analyse ?? false,
      };
      postMoving(worker, request, ownBuffer(upload));
    });
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = startModuleThread(import.meta.url, 'upload-thread');
    // Never what keeps the process alive: the HTTP server is, while there are uploads.
    worker.unref();
    worker.on('message', (answer: UploadAnswer) => this.answer(answer));
    const failAll = (reason: string) => {
      if (this.worker === worker) this.worker = undefined;
      const error = new Error(`the upload thread stopped: ${reason}`);
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
    worker.on('error', (err) => failAll(err.message));
    worker.on('exit', (code) => failAll(`exit code ${code}`));
    this.worker = worker;
    return worker;
  }

  private answer(answer: UploadAnswer): void {
    const p = this.pending.get(answer.id);
    if (!p) return;
    this.pending.delete(answer.id);
    if ('error' in answer) {
      const { code, message } = answer.error;
      // Our errors keep their code (422 invalid_image, …); anything else is an internal error whose
      // message the error handler never shows.
      p.reject(code ? new AppError(code, message) : new Error(message));
      return;
    }
    const png = Buffer.from(answer.png.buffer, answer.png.byteOffset, answer.png.byteLength);
    const { sha256, features } = answer;
    p.resolve({ png, sha256, width: p.expected.width, height: p.expected.height, features });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }
}
