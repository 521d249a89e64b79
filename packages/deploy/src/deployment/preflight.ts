import { isKnownError, type KnownError } from '@its/core';

/**
 * The preconditions a deployment checks before it changes anything: env files, signature public keys,
 * secrets, the engine, the registry and the version in it, the lock. A real deploy stops at the first
 * one that fails, with its own error (as it always did). A dry run is how people look before they leap:
 * it notes every one as "would fail: …", goes on with what it knows (a fallback), plans, and lists them
 * all again at the end — exit 0, since nothing was attempted. Only the delivery system's own errors are
 * preconditions; anything else is a bug and is raised in both modes.
 */
export interface Preflight {
  readonly dryRun: boolean;
  /** What would stop the real deploy, in the order found, each once (a dry run only). */
  readonly problems: readonly string[];
  /** A precondition: its value; in a dry run, when it fails, the problem is noted and `fallback` used. */
  check<T>(run: () => T | Promise<T>, fallback: (problem: string) => T | Promise<T>): Promise<T>;
  /**
   * A precondition found failing without a call to make: a real deploy raises `error`; a dry run notes
   * `items` (one line each, e.g. every unresolved secret of one error), or the error itself.
   */
  fail(error: KnownError, items?: KnownError[]): void;
}

/** One line: the message and, when the error has one, how to fix it. */
export function describeProblem(error: KnownError): string {
  const message = error.message.split('\n').join(' ');
  return error.fix ? `${message} (fix: ${error.fix})` : message;
}

/** How a dry run lists what would stop the real deploy (the summary's last lines). */
export function renderWouldFail(problems: readonly string[]): string[] {
  if (problems.length === 0) return [];
  return [
    `the real deploy would stop before changing anything: ${problems.length} thing(s) missing or failing`,
    ...problems.map((p) => `  would fail: ${p}`),
  ];
}

export function createPreflight(dryRun: boolean, log: (line: string) => void): Preflight {
  const problems: string[] = [];
  const note = (error: KnownError): string => {
    const line = describeProblem(error);
    if (!problems.includes(line)) {
      problems.push(line);
      log(`would fail: ${line}`);
    }
    return line;
  };
  return {
    dryRun,
    problems,
    async check(run, fallback) {
      if (!dryRun) return run();
      try {
        return await run();
      } catch (error) {
        if (!isKnownError(error) || error.kind === 'internal') throw error;
        return fallback(note(error));
      }
    },
    fail(error, items) {
      if (!dryRun) throw error;
      for (const item of items ?? [error]) note(item);
    },
  };
}
