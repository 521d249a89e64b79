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
  constructor(
    readonly registry: string,
    readonly status: number,
    message: string,
    fix?: string,
  ) {
    super(`registry ${registry}: ${message}`, fix === undefined ? {} : { fix });
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
