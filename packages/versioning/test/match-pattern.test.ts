/**
 * The security probe's findings against `itsctl tags`: a match pattern with catastrophic backtracking
 * hung the CLI (6.4 s at 26 characters, forever at 36), and `{{__proto__}}`-style expressions reached
 * Object.prototype (exit 70 or a garbage tag). Each case is a UsageError naming the rule, quickly.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '@its/core';
import { type TagContext, computeImageMeta } from '../src/tags/compute-tags.js';
import { MAX_MATCH_INPUT } from '../src/tags/match-pattern.js';
import { parseTagRule } from '../src/tags/parse-rules.js';

const NOW = new Date('2020-01-10T20:30:45.123Z');

function onTag(tag: string): TagContext {
  return { eventName: 'push', ref: `refs/tags/${tag}`, sha: 'a'.repeat(40), defaultBranch: 'main', repo: {} };
}

function compute(context: TagContext, tags: string[], matchTimeoutMs?: number) {
  return computeImageMeta(
    context,
    { images: ['user/app'], tags, flavor: [], labels: [], annotations: [] },
    { now: NOW, ...(matchTimeoutMs === undefined ? {} : { matchTimeoutMs }) },
  );
}

/** The UsageError `run` throws, and how long it took. */
function caught(run: () => unknown): { error: unknown; ms: number } {
  const started = performance.now();
  try {
    run();
  } catch (error) {
    return { error, ms: performance.now() - started };
  }
  return { error: undefined, ms: performance.now() - started };
}

describe('type=match: catastrophic backtracking is refused or bounded', () => {
  it.each([
    ['type=match,pattern=(a+)+$', "'a+' inside '(a+)+'"],
    ['type=match,pattern=/^(\\d+\\.?)+$/,group=0', "'\\d+' inside '(\\d+\\.?)+'"],
    ['type=match,pattern=(x+x+)+y', "'x+' and 'x+'"],
  ])('%s: refused before it runs, naming the rule and the quantifier', (rule, culprit) => {
    // 24 characters: the old code took seconds here and then produced a tag.
    const { error, ms } = caught(() => compute(onTag(`${'a'.repeat(24)}!`), [rule]));
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain(rule);
    expect((error as Error).message).toContain('can backtrack exponentially');
    expect((error as Error).message).toContain(culprit);
    expect((error as UsageError).fix).toBeTruthy();
    expect(ms).toBeLessThan(1000);
  });

  it('is refused when the rule is parsed, even on a branch build where it would not run', () => {
    expect(() => parseTagRule('type=match,pattern=(a+)+$')).toThrow(UsageError);
    expect(() => compute({ ...onTag('x'), ref: 'refs/heads/main' }, ['type=match,pattern=(a+)+$'])).toThrow(
      /can backtrack exponentially/,
    );
  });

  it('a pattern the static check cannot see, (a|a)*$, stops at the time limit with an error', () => {
    // 27 characters: 2^27 backtracking steps, seconds in the old code; it then produced no error.
    const { error, ms } = caught(() =>
      compute(onTag(`${'a'.repeat(27)}!`), ['type=match,pattern=(a|a)*$'], 50),
    );
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(
      /type=match,pattern=\(a\|a\)\*\$: pattern \/\(a\|a\)\*\$\/ did not finish within 50 ms .*catastrophic backtracking/,
    );
    expect(ms).toBeLessThan(1000);
  });

  it(`a value longer than ${MAX_MATCH_INPUT} characters is not matched`, () => {
    const long = `v${'1'.repeat(MAX_MATCH_INPUT)}`;
    expect(() => compute(onTag(long), ['type=match,pattern=v(\\d+),group=1'])).toThrow(
      new RegExp(
        `the value to match is ${long.length} characters; a match rule reads at most ${MAX_MATCH_INPUT}`,
      ),
    );
    const atLimit = `v${'1'.repeat(MAX_MATCH_INPUT - 1)}`;
    expect(compute(onTag(atLimit), ['type=match,"pattern=v(\\d{1,8})",group=1']).version.main).toBe(
      '11111111',
    );
  });

  it.each([
    ['^v(\\d+)\\.(\\d+)\\.(\\d+)(-rc\\.(\\d+))?$', 'v1.2.3-rc.4', '1', '1'],
    ['^(.*)-(.*)$', 'app-1.2.3', '2', '1.2.3'],
    ['/^V(\\d+\\.\\d+)/i', 'v1.2.3', '1', '1.2'],
    ['(?<major>\\d+)\\.(?=\\d)', 'v10.2', '1', '10'],
  ])('ordinary patterns still match: %s on %s', (pattern, tag, group, expected) => {
    expect(compute(onTag(tag), [`type=match,pattern=${pattern},group=${group}`]).version.main).toBe(expected);
  });
});

describe('{{…}} resolves only the known helpers, never Object.prototype', () => {
  const names = ['__proto__', 'valueOf', 'toString', 'constructor', 'hasOwnProperty', 'isPrototypeOf'];

  it.each(names)('{{%s}} in a raw value is an unknown expression', (name) => {
    const { error } = caught(() => compute(onTag('v1.2.3'), [`type=raw,value=x-{{${name}}}`]));
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain(`unknown expression {{${name}}}`);
    expect((error as UsageError).fix).toMatch(/use one of: \{\{branch\}\}/);
  });

  it.each(names)('{{%s}} in a semver pattern is an unknown expression', (name) => {
    const { error } = caught(() => compute(onTag('v1.2.3'), [`type=semver,pattern={{${name}}}`]));
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain(`unknown expression {{${name}}}`);
  });

  it('an option or attribute named __proto__ is an unknown one, not a prototype', () => {
    expect(() => compute(onTag('v1'), ["type=raw,value={{date 'YYYY' __proto__='x'}}"])).toThrow(
      /unknown __proto__ attribute/,
    );
    expect(() => parseTagRule('type=raw,value=x,__proto__=y')).toThrow(/unknown attribute '__proto__'/);
  });
});
