// The main thread's side of the NSFW classifier: decode and resize with sharp, then ask the classifier
// thread. One request at a time (the thread is one CPU's worth of work anyway); the thread starts on the
// first image, so a coordinator with nothing to classify never loads TensorFlow.js.
import type { Worker } from 'node:worker_threads';
import { startModuleThread } from '../module-thread.js';
import sharp from 'sharp';
import type { NsfwClasses } from '@dreamfold/protocol';
import { INPUT_SIZE, type ClassifyResponse, type ThreadOptions } from './classifier-messages.js';

export interface Verdict {
  classes: NsfwClasses;
  /** P(porn) + P(hentai) + P(sexy), clamped to [0, 1]: the probability of sexual content. */
  score: number;
}

export interface ImageClassifier {
  /** Names the model in stored verdicts, e.g. "nsfwjs/MobileNetV2 (wasm)". */
  readonly name: string;
  classify(png: Buffer): Promise<Verdict>;
  close(): Promise<void>;
}

export function nsfwScore(c: NsfwClasses): number {
  return Math.min(1, Math.max(0, c.porn + c.hentai + c.sexy));
}

/** The 224×224 RGB bytes the model reads; exported for the benchmark. */
export async function toModelInput(png: Buffer, maxPixels: number): Promise<Uint8Array> {
  const { data } = await sharp(png, { limitInputPixels: maxPixels })
    .removeAlpha()
    .resize(INPUT_SIZE, INPUT_SIZE, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function spawnThread(options: ThreadOptions): Worker {
  return startModuleThread(import.meta.url, 'classifier-thread', { workerData: options });
}

interface Pending {
  resolve(c: NsfwClasses): void;
  reject(e: Error): void;
}

export class NsfwjsClassifier implements ImageClassifier {
  readonly name: string;
  private thread: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  /** Serialises requests: the thread handles one at a time. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly options: ThreadOptions & { maxPixels: number } = {
      backend: 'wasm',
      maxPixels: 4_194_304,
    },
  ) {
    this.name = `nsfwjs/MobileNetV2 (${options.backend})`;
  }

  classify(png: Buffer): Promise<Verdict> {
    const run = this.chain.then(async () => {
      const rgb = await toModelInput(png, this.options.maxPixels);
      const classes = await this.ask(rgb);
      return { classes, score: nsfwScore(classes) };
    });
    this.chain = run.catch(() => {});
    return run;
  }

  /** Sends already-resized input (the benchmark times the network apart from the decode). */
  classifyInput(rgb: Uint8Array): Promise<NsfwClasses> {
    const run = this.chain.then(() => this.ask(rgb));
    this.chain = run.catch(() => {});
    return run;
  }

  private ask(rgb: Uint8Array): Promise<NsfwClasses> {
    const thread = this.start();
    const id = this.nextId++;
    return new Promise<NsfwClasses>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      thread.postMessage({ id, rgb });
    });
  }

  private start(): Worker {
    if (this.thread) return this.thread;
    const thread = spawnThread({ backend: this.options.backend });
    // A coordinator with an idle classifier must still be able to exit.
    thread.unref();
    thread.on('message', (msg: ClassifyResponse) => {
      if (msg.id === -1) return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if ('error' in msg) p.reject(new Error(msg.error));
      else if ('classes' in msg) p.resolve(msg.classes);
    });
    const fail = (err: Error) => {
      // The thread died (out of memory, a crash): every waiting request fails, the next one restarts it.
      this.thread = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    thread.on('error', fail);
    thread.on('exit', (code) => fail(new Error(`the classifier thread exited (${code})`)));
    this.thread = thread;
    return thread;
  }

  async close(): Promise<void> {
    const thread = this.thread;
    this.thread = undefined;
    if (thread) await thread.terminate();
  }
}
