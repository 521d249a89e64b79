/**
 * The API's few typed errors. Routes and services throw these; one error handler (app.ts) turns
 * them into `{statusCode, error, message, reqId}`. Anything else becomes a 500 without details.
 */
export type ErrorKind =
  | 'bad-request'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'too-many-requests'
  | 'unavailable';

const STATUS: Record<ErrorKind, { statusCode: number; error: string }> = {
  'bad-request': { statusCode: 400, error: 'Bad Request' },
  unauthorized: { statusCode: 401, error: 'Unauthorized' },
  forbidden: { statusCode: 403, error: 'Forbidden' },
  'not-found': { statusCode: 404, error: 'Not Found' },
  conflict: { statusCode: 409, error: 'Conflict' },
  'too-many-requests': { statusCode: 429, error: 'Too Many Requests' },
  unavailable: { statusCode: 503, error: 'Service Unavailable' },
};

export class ApiError extends Error {
  readonly statusCode: number;
  readonly error: string;
  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ApiError';
    this.statusCode = STATUS[kind].statusCode;
    this.error = STATUS[kind].error;
  }
}

export const badRequest = (message: string) => new ApiError('bad-request', message);
export const notFound = (message: string) => new ApiError('not-found', message);
export const conflict = (message: string) => new ApiError('conflict', message);

/** One message for every authentication failure, so a caller learns nothing about which part was wrong. */
export const UNAUTHORIZED_MESSAGE = 'missing or invalid credentials';
export const unauthorized = () => new ApiError('unauthorized', UNAUTHORIZED_MESSAGE);

/** The database cannot be reached (connection refused, reset, timed out, server shutting down). */
export class DatabaseUnavailableError extends ApiError {
  constructor(cause: unknown) {
    super('unavailable', `database unavailable: ${describeCause(cause)}`, { cause });
    this.name = 'DatabaseUnavailableError';
  }
}

/** A configuration value is missing or invalid; start-up stops with this message. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' && !cause.message.includes(code)
      ? `${cause.message} (${code})`
      : cause.message;
  }
  return String(cause);
}
