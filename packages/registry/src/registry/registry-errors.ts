import { ConfigError, StepFailedError } from '@its/core';

/** What to check when the registry cannot be reached, printed after the error. */
export function unreachableFix(registry: string): string {
  const local = /^(127\.|localhost)/.test(registry);
  return local
    ? `start the local registry with \`scripts/registry.sh start\`, or set DOCKER_REGISTRY to the registry you mean (now ${registry})`
    : `check DOCKER_REGISTRY (now ${registry}), the network path to it, and that it serves the OCI distribution API at /v2/`;
}

/** The registry did not answer at all (refused, reset, DNS, timeout). */
export class RegistryUnreachableError extends StepFailedError {
  constructor(
    readonly registry: string,
    cause: unknown,
  ) {
    super(`registry ${registry} is unreachable: ${describeCause(cause)}`, {
      fix: unreachableFix(registry),
      cause,
    });
  }
}

/** The registry refused our credentials, or wants credentials and we have none. */
export class RegistryAuthError extends ConfigError {
  constructor(
    readonly registry: string,
    detail: string,
  ) {
    super(`registry ${registry} refused access: ${detail}`, {
      fix:
        'set REGISTRY_USERNAME and REGISTRY_PASSWORD (used for DOCKER_REGISTRY only), ' +
        `or log in with \`docker login ${registry}\` so ~/.docker/config.json holds an auth for it`,
    });
  }
}

/** The registry answered, but not as the distribution spec says (or a manifest/blob is missing). */
export class RegistryRequestError extends StepFailedError {
  /** The answer's Retry-After, in ms from when it came (429 and 503 may carry one). */
  readonly retryAfterMs: number | undefined;

  constructor(
    readonly registry: string,
    readonly status: number,
    message: string,
    fix?: string,
    options: { retryAfterMs?: number | undefined; cause?: unknown } = {},
  ) {
    super(`registry ${registry}: ${message}`, {
      ...(fix === undefined ? {} : { fix }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * A request that is safe to repeat kept getting 429 or 5xx until the retry policy's bounds: names the
 * request, the attempts and why it stopped; the last answer is the cause.
 */
export class RegistryRetriesExhaustedError extends RegistryRequestError {
  constructor(
    registry: string,
    last: RegistryRequestError,
    readonly request: string,
    readonly attempts: number,
    reason: string,
  ) {
    super(
      registry,
      last.status,
      `${request}: gave up after ${attempts} attempt${attempts === 1 ? '' : 's'} (${reason}); last answer: ${last.message.replace(`registry ${registry}: `, '')}`,
      last.status === 429
        ? `the registry is rate-limiting this client; wait and run the command again (or use credentials with a higher limit)`
        : `the registry keeps failing (HTTP ${last.status}); check its health and run the command again`,
      { cause: last },
    );
  }
}

/** Bytes did not hash to the digest they were asked for or announced with: tampering or corruption. */
export class DigestMismatchError extends StepFailedError {
  constructor(
    readonly registry: string,
    readonly expected: string,
    readonly actual: string,
    what: string,
  ) {
    super(`registry ${registry}: ${what} should have digest ${expected} but its bytes hash to ${actual}`, {
      fix: 'the content was altered in the registry or in transit; do not use it, re-publish from a trusted build',
    });
  }
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = (cause as Error & { cause?: unknown }).cause;
    if (inner instanceof Error)
      return `${cause.message} (${(inner as Error & { code?: string }).code ?? inner.message})`;
    return cause.message;
  }
  return String(cause);
}
