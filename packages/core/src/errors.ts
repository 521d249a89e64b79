/**
 * The few error types the delivery system throws. The CLI's single top-level handler
 * (runCli in @its/delivery's cli/program.ts) turns them into exit codes; everything else is an InternalError (a bug).
 */

export type ErrorKind = 'usage' | 'config' | 'step-failed' | 'internal';

abstract class DeliveryError extends Error {
  abstract readonly kind: ErrorKind;
  /** What the user can do about it; printed after the message. */
  readonly fix: string | undefined;

  constructor(message: string, options: { fix?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.fix = options.fix;
  }
}

/** The command line was wrong: a flag, an argument, a malformed rule. */
export class UsageError extends DeliveryError {
  readonly kind = 'usage' as const;
}

/** A configuration value (file, environment, git state) is wrong or missing. */
export class ConfigError extends DeliveryError {
  readonly kind = 'config' as const;
}

/** A step ran and failed: a git command, a build, a gate. */
export class StepFailedError extends DeliveryError {
  readonly kind = 'step-failed' as const;
}

/** A bug: something that should not happen whatever the input. */
export class InternalError extends DeliveryError {
  readonly kind = 'internal' as const;
}

export type KnownError = UsageError | ConfigError | StepFailedError | InternalError;

export function isKnownError(error: unknown): error is KnownError {
  return error instanceof DeliveryError;
}

/** 2: the user must change the command or config; 1: a step failed; 70 (EX_SOFTWARE): a bug. */
export function exitCodeFor(error: unknown): number {
  if (!isKnownError(error)) return 70;
  switch (error.kind) {
    case 'usage':
    case 'config':
      return 2;
    case 'step-failed':
      return 1;
    case 'internal':
      return 70;
  }
}
