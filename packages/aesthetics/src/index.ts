// Public API of @dreamfold/aesthetics: LAION-style aesthetic predictor (train, score, export) and the
// LAION file formats it works on (.npy embeddings, parquet metadata, "parquet_npy" folders).

export { AestheticsError, type AestheticsErrorCode } from './errors.js';
export { float16ToFloat32, float32ToFloat16, decodeFloat16, encodeFloat16 } from './float16.js';
export { formatNpyHeader, parseNpyHeader, type NpyDtype, type NpyHeader } from './npy/header.js';
export { NpyReader, readNpy, type NpyChunk, type NpyOpenOptions } from './npy/read.js';
export { NpyWriter, writeNpy, type NpyWriteOptions } from './npy/write.js';
