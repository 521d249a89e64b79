import { pino, type Logger, type LoggerOptions } from 'pino';

/** Headers and fields that carry secrets; pino replaces them with "[REDACTED]". */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  'config.DATABASE_URL',
  'config.REDIS_URL',
  'config.ADMIN_TOKEN',
  'key',
];

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    serializers: {
      req: (req: {
        id: string;
        method: string;
        url: string;
        headers: Record<string, unknown>;
        ip?: string;
      }) => ({
        id: req.id,
        method: req.method,
        url: req.url,
        remoteAddress: req.ip,
        headers: {
          'user-agent': req.headers['user-agent'],
          authorization: req.headers.authorization,
          'x-api-key': req.headers['x-api-key'],
        },
      }),
    },
  };
}

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return destination
    ? pino(loggerOptions(level), destination as pino.DestinationStream)
    : pino(loggerOptions(level));
}
