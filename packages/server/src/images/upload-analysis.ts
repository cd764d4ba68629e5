// An upload validated (validate-upload.ts) and, when verification will look at it, analysed
// (trust/image-analysis.ts) from the pixels the validation decoded, without decoding the stored PNG a
// second time. On a 512×512 smooth image that saved less than hoped, because the re-encode then runs as
// decode + encode instead of one pipeline: 15.2–17.9 against 16.8–19.6 ms of CPU per upload (alternating
// runs). The same code runs on the upload thread and, with UPLOAD_VALIDATION=inline, on the event loop.
import { analyseImage, analyseRaw } from '../trust/image-analysis.js';
import { validateUpload, type ValidatedImage } from './validate-upload.js';

export interface UploadOptions {
  /** The PNG `parameters` text the stored image carries (validate-upload.ts). */
  parameters?: string;
  /** Also compute the picture's features for trust/ checks (their image-analysis.ts). */
  analyse?: boolean;
}

export async function validateAndAnalyse(
  upload: Buffer,
  expected: { width: number; height: number },
  options: UploadOptions = {},
): Promise<ValidatedImage> {
  const { pixels, ...image } = await validateUpload(upload, expected, options.parameters, {
    keepPixels: options.analyse,
  });
  if (!options.analyse) return image;
  // Both decoders answer three channels, grey pictures included (sharp converts to sRGB; tested in
  // upload-validator.test.ts); anything else would be analysed from the stored PNG.
  const features =
    pixels && pixels.channels >= 3
      ? analyseRaw(pixels.data, expected.width, expected.height, pixels.channels)
      : await analyseImage(image.png);
  return { ...image, features };
}
