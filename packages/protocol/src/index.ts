export * from './common.js';
export * from './generations.js';
export * from './workers.js';
export * from './accounts.js';
export * from './auth.js';
export * from './credits.js';
