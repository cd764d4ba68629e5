// Structured JSON logs (pino). Keys never reach a log line: nothing passes them to the logger, and the
// redaction below catches a mistake that would.
import pino, { type DestinationStream, type Logger } from 'pino';

export interface LoggerOptions {
  level?: string;
  name?: string;
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      base: { pid: process.pid, ...(options.name ? { worker: options.name } : {}) },
      redact: {
        paths: ['key', '*.key', 'authorization', '*.authorization', 'headers.authorization'],
        censor: '[redacted]',
      },
    },
    options.destination ?? pino.destination({ fd: 1, sync: true }),
  );
}
