/** The worker's few typed errors; bin/vision-worker.ts turns them into exit codes. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

/** The API answered, but refused the request for good (4xx other than 401/403/408/429): retrying cannot help. */
export class ApiRejectedError extends Error {
  override name = 'ApiRejectedError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The API could not be reached or is temporarily failing: keep the data and try again later. */
export class ApiUnavailableError extends Error {
  override name = 'ApiUnavailableError';
}
