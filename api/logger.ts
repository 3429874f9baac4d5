// The API's pino logger: credentials in headers are redacted wherever a request is logged.
import { pino, type DestinationStream, type Logger } from 'pino';
import type { PlatformConfig } from '../domain/config.ts';

export const redactedPaths = [
  'req.headers["x-api-key"]',
  'req.headers.authorization',
  'headers["x-api-key"]',
  'headers.authorization',
  '*.apiKey',
  '*.api_key',
  '*.token',
  '*.secret',
  '*.authorization',
];

export function createApiLogger(config: Pick<PlatformConfig, 'LOG_LEVEL'>, destination?: DestinationStream): Logger {
  const options = { name: 'api', level: config.LOG_LEVEL, redact: { paths: redactedPaths, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
