// The upload thread (upload-validator.ts): validates and re-encodes each upload it is sent with the same
// code the event loop would run (validate-upload.ts), several at a time (sharp's calls are asynchronous),
// and when asked computes what trust/ checks look at (a second decode and a pass over every pixel).
import { parentPort } from 'node:worker_threads';
import { AppError } from '../errors.js';
import { validateUpload } from './validate-upload.js';
import { analyseImage } from '../trust/image-analysis.js';
import { ownBuffer, postMoving, type UploadAnswer, type UploadRequest } from './upload-messages.js';

const port = parentPort;
if (!port) throw new Error('upload-thread.ts runs as a worker thread');

async function validate(upload: Buffer, m: UploadRequest) {
  const image = await validateUpload(upload, m.expected, m.parameters);
  return { image, features: m.analyse ? await analyseImage(image.png) : undefined };
}

port.on('message', (m: UploadRequest) => {
  const upload = Buffer.from(m.upload.buffer, m.upload.byteOffset, m.upload.byteLength);
  validate(upload, m).then(
    ({ image, features }) => {
      const answer: UploadAnswer = { id: m.id, png: image.png, sha256: image.sha256, features };
      postMoving(port, answer, ownBuffer(image.png));
    },
    (err: unknown) => {
      const answer: UploadAnswer = {
        id: m.id,
        error: {
          code: err instanceof AppError ? err.code : undefined,
          message: err instanceof Error ? err.message : String(err),
        },
      };
      port.postMessage(answer);
    },
  );
});
