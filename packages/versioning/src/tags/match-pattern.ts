import { createRequire } from 'node:module';
import { Script, createContext } from 'node:vm';
import type * as Scslre from 'scslre';
import { UsageError } from '@its/core';

/**
 * The regular expression of a `type=match` rule, made safe to run on a value an attacker may choose
 * (the pushed tag's name). docker/metadata-action runs JavaScript's backtracking engine, so a pattern
 * such as `(a+)+$` takes exponential time: 6 s at 26 characters, forever at 36. We keep the action's
 * engine (so a pattern means what it means there, lookarounds and backreferences included) and bound
 * it three ways:
 *
 * 1. A static check (scslre, on the ECMAScript parser ESLint uses) refuses, before anything runs, a
 *    pattern in which a quantifier can match the same text in exponentially many ways, naming the
 *    quantifier. It finds the textbook shapes (nested quantifiers); it cannot find them all, hence 3.
 * 2. The value matched is at most MAX_MATCH_INPUT characters.
 * 3. The match runs with a time limit (node:vm interrupts a regular expression mid-backtrack), so a
 *    pattern the check missed, or a polynomial one, stops with an error instead of hanging the CLI.
 */

/**
 * Longest value a match rule reads. Git tag names in practice are far shorter and a Docker tag is at
 * most 128 characters; 256 leaves room for a prefix while keeping polynomial patterns (`(.*)-(.*)$`,
 * O(n²)) in the microseconds.
 */
export const MAX_MATCH_INPUT = 256;

/**
 * Default limit on one match, in milliseconds. A legitimate pattern on 256 characters takes
 * microseconds even on a loaded CI machine; one second is never reached by one, and is short enough
 * that a runaway pattern fails the step at once rather than after the job's timeout.
 */
export const MATCH_TIMEOUT_MS = 1000;

// Loaded on first use: the analysis (scslre and its automata library) takes 150 ms and more to load,
// which every `itsctl tags` without a match rule, `version` and `release` call would otherwise pay.
const require = createRequire(import.meta.url);
let scslre: typeof Scslre | undefined;
const analyse: typeof Scslre.analyse = (literal, options) =>
  (scslre ??= require('scslre') as typeof Scslre).analyse(literal, options);

/** `pattern=/regex/flags` or a bare `pattern=regex`, as the action accepts. */
function splitPattern(pattern: string): { source: string; flags: string } {
  const asRegExp = /^\/(.+)\/(.*)$/.exec(pattern);
  return asRegExp ? { source: asRegExp[1] ?? '', flags: asRegExp[2] ?? '' } : { source: pattern, flags: '' };
}

export interface CompileOptions {
  /**
   * The attribute holding the pattern, for messages. `pattern` (type=match) accepts `/regex/flags`,
   * as the action does there; `match` (semver, pep440) does not: the action hands it to
   * String.prototype.match as it is, so `/` is a literal slash.
   */
  attribute: 'pattern' | 'match';
}

/**
 * Compiles a match rule's pattern (or a semver/pep440 rule's match=), refusing one that is not a
 * regular expression or that can backtrack exponentially. `where` names the rule for messages.
 */
export function compileMatchPattern(
  pattern: string,
  where: string,
  { attribute }: CompileOptions = { attribute: 'pattern' },
): RegExp {
  const { source, flags } = attribute === 'pattern' ? splitPattern(pattern) : { source: pattern, flags: '' };
  let regexp: RegExp;
  try {
    regexp = new RegExp(source, flags);
  } catch (error) {
    throw new UsageError(
      `${where}: ${attribute} is not a valid regular expression: ${(error as Error).message}`,
      {
        fix:
          attribute === 'pattern'
            ? 'write pattern=<regex> or pattern=/<regex>/<flags>'
            : 'write match=<regex> whose first group is the version, e.g. "match=v(\\d+\\.\\d+\\.\\d+)$"',
      },
    );
  }
  let reports: ReturnType<typeof analyse>['reports'];
  try {
    reports = analyse({ source, flags }, { reportTypes: { Move: false } }).reports;
  } catch {
    // Syntax newer than the checker's parser: the input and time bounds still apply.
    return regexp;
  }
  const exponential = reports.find((report) => report.exponential);
  if (exponential !== undefined) {
    const culprit =
      exponential.type === 'Self'
        ? `'${exponential.quant.raw}' inside '${exponential.parentQuant.raw}'`
        : exponential.type === 'Trade'
          ? `'${exponential.startQuant.raw}' and '${exponential.endQuant.raw}'`
          : `'${exponential.quant.raw}'`;
    const fixed = exponential.fix();
    throw new UsageError(
      `${where}: ${attribute} '${pattern}' can backtrack exponentially: ${culprit} can split a run of ` +
        `'${exponential.character.pick}' in exponentially many ways, so a short value that does not match never finishes`,
      {
        fix:
          fixed !== undefined
            ? `use the equivalent pattern ${fixed.source}`
            : "remove the nested quantifier, e.g. '(a+)+' → 'a+', '(\\d+\\.?)+' → '\\d+(\\.\\d+)*'",
      },
    );
  }
  return regexp;
}

/** How many capture groups the expression has (an alternative matching '' lets exec() tell). */
export function captureGroupCount(regexp: RegExp): number {
  return (new RegExp(`${regexp.source}|`, regexp.flags.replace(/[gy]/g, '')).exec('')?.length ?? 1) - 1;
}

// One context for every match: creating one costs about a millisecond, running in it nothing.
const sandbox = createContext({ pattern: /$^/, input: '' });
const matchScript = new Script('input.match(pattern)');

/**
 * `input.match(regexp)` (so a `g` flag behaves as in the action), bounded in input length and time.
 * `where` names the rule for messages.
 */
export function matchBounded(
  regexp: RegExp,
  input: string,
  where: string,
  timeoutMs = MATCH_TIMEOUT_MS,
): RegExpMatchArray | null {
  if (input.length > MAX_MATCH_INPUT) {
    throw new UsageError(
      `${where}: the value to match is ${input.length} characters; a match rule reads at most ${MAX_MATCH_INPUT}`,
      { fix: 'match a shorter value (value=…), or use type=ref,event=tag for long tag names' },
    );
  }
  regexp.lastIndex = 0;
  sandbox.pattern = regexp;
  sandbox.input = input;
  try {
    return matchScript.runInContext(sandbox, { timeout: timeoutMs }) as RegExpMatchArray | null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw error;
    throw new UsageError(
      `${where}: pattern ${String(regexp)} did not finish within ${timeoutMs} ms on '${input}' ` +
        '(catastrophic backtracking)',
      {
        fix: 'rewrite the pattern so that no two parts can match the same characters, e.g. (a|a)* → a*',
      },
    );
  } finally {
    sandbox.pattern = /$^/;
    sandbox.input = '';
  }
}
