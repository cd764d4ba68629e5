// Test data other packages' tests use (exported as @dreamfold/aesthetics/testing; not part of the build).
export { syntheticRatings, type SyntheticSet } from './synthetic.js';
export { writeLaionDataset, writeMetadataParquet, writeRatingsParquet } from './laion.js';
export { randomValues } from './tmp.js';
