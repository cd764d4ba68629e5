// Test helpers other packages' tests use (exported as @dreamfold/server/testing; not part of the build).
export {
  startTestCoordinator,
  auth,
  solidPng,
  type TestCoordinator,
  type TestCoordinatorOptions,
} from './coordinator.js';
export {
  testDialects,
  createTestDatabase,
  tempDir,
  type TestDialect,
  type TestDatabase,
} from './databases.js';
export { startS3Server, S3RVER_CREDENTIALS, type TestS3Server } from './s3-server.js';
export { signInWeb, type WebSession } from './web-session.js';
export { startTestSmtpServer, type TestSmtpServer, type ReceivedMail } from './smtp-server.js';
