// The upload thread (upload-validator.ts): validates and re-encodes each upload it is sent with the same
// code the event loop would run (validate-upload.ts), several at a time (sharp's calls are asynchronous),
// and when asked computes what trust/ checks look at (upload-analysis.ts).
import { parentPort } from 'node:worker_threads';
import { AppError } from '../errors.js';
import { validateAndAnalyse } from './upload-analysis.js';
import { ownBuffer, postMoving, type UploadAnswer, type UploadRequest } from './upload-messages.js';

const port = parentPort;
if (!port) throw new Error('upload-thread.ts runs as a worker thread');

port.on('message', (m: UploadRequest) => {
  const upload = Buffer.from(m.upload.buffer, m.upload.byteOffset, m.upload.byteLength);
  validateAndAnalyse(upload, m.expected, { parameters: m.parameters, analyse: m.analyse }).then(
    (image) => {
      const { png, sha256, features } = image;
      const answer: UploadAnswer = { id: m.id, png, sha256, features };
      postMoving(port, answer, ownBuffer(png));
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
