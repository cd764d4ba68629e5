// The PNG `parameters` text chunk (AUTOMATIC1111's format) that every generated image carries: written by
// the worker's pipeline and again by the coordinator after it re-encodes an upload. Node-only (zlib), so it
// is its own entry point, `@dreamfold/protocol/png`, kept out of the browser bundle.
export {
  PARAMETERS_KEYWORD,
  formatParameters,
  parseParameters,
  writePngParameters,
  readPngParameters,
  type PngParameters,
} from './parameters.js';
export { insertPngText, pngChunk, readPngTexts, PngTextError } from './png-text.js';
