import { describe, expect, it } from 'vitest';
import { UsageError } from '@its/core';
import {
  DEFAULT_PRIORITIES,
  parseFlavor,
  parseImages,
  parseTagRule,
  parseTagRules,
  splitLines,
} from '../src/tags/parse-rules.js';

describe('parseTagRule', () => {
  it.each([
    ['type=schedule', { type: 'schedule', pattern: 'nightly', priority: 1000, enable: 'true' }],
    ['type=semver,pattern={{version}}', { type: 'semver', pattern: '{{version}}', value: '', priority: 900 }],
    ['type=pep440,pattern={{version}}', { type: 'pep440', priority: 900 }],
    ['type=match,pattern=v(.*),group=1', { type: 'match', group: '1', priority: 800 }],
    ['type=edge', { type: 'edge', branch: '', priority: 700 }],
    ['type=ref,event=pr', { type: 'ref', event: 'pr', prefix: 'pr-', priority: 600 }],
    ['foo', { type: 'raw', value: 'foo', priority: 200 }],
    ['type=sha', { type: 'sha', format: 'short', prefix: 'sha-', priority: 100 }],
    ['TYPE=raw,VALUE=x,Priority=5', { type: 'raw', value: 'x', priority: 5 }],
    ['type=raw,"value=a,b"', { type: 'raw', value: 'a,b' }],
    ['type=raw,value=k=v', { type: 'raw', value: 'k=v' }],
  ])('%s', (source, expected) => {
    expect(parseTagRule(source)).toMatchObject(expected);
  });

  it.each([
    ['type=nope', /unknown type 'nope'/],
    ['type=semver', /missing pattern attribute/],
    ['type=pep440', /missing pattern attribute/],
    ['type=match', /missing pattern attribute/],
    ['type=match,pattern=x,group=one', /group 'one' is not a number/],
    ['type=ref', /missing event attribute/],
    ['type=ref,event=push', /unknown event 'push'/],
    ['type=raw', /missing value attribute/],
    ['type=sha,format=medium', /unknown format 'medium'/],
    ['type=semver,patern={{version}}', /unknown attribute 'patern' for type=semver/],
    ['type=raw,value=x,priority=high', /priority 'high' is not an integer/],
    ['type=raw,"value=unterminated', /cannot parse/],
  ])('%s → error naming it', (source, message) => {
    let caught: unknown;
    try {
      parseTagRule(source);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message).toContain(source.slice(0, 8));
    expect((caught as UsageError).fix).toBeTruthy();
  });

  it('uses the action defaults when no rule is given, sorted by priority', () => {
    expect(parseTagRules([]).map((r) => r.type)).toEqual(['schedule', 'ref', 'ref', 'ref']);
    expect(DEFAULT_PRIORITIES).toMatchObject({
      schedule: 1000,
      semver: 900,
      match: 800,
      edge: 700,
      ref: 600,
      raw: 200,
      sha: 100,
    });
  });
});

describe('splitLines', () => {
  it('keeps commas, drops comments and blank lines', () => {
    expect(splitLines(['type=raw,value=a\n# comment\n\n  type=sha  ', 'x'])).toEqual([
      'type=raw,value=a',
      'type=sha',
      'x',
    ]);
  });
});

describe('parseFlavor', () => {
  it('reads latest, prefix, suffix and onlatest', () => {
    expect(parseFlavor(['latest=false', 'prefix=a-,onlatest=true', 'suffix=-b'])).toEqual({
      latest: 'false',
      prefix: 'a-',
      prefixLatest: true,
      suffix: '-b',
      suffixLatest: false,
    });
  });
  it.each([
    ['latest=sometimes', /latest='sometimes'/],
    ['onlatest=yes', /onlatest='yes'/],
    ['colour=blue', /unknown key 'colour'/],
    ['prefix', /is not key=value/],
  ])('%s → error', (entry, message) => {
    expect(() => parseFlavor([entry])).toThrow(message);
  });
});

describe('parseImages', () => {
  it('reads plain lists and name=…,enable=… entries', () => {
    expect(parseImages(['a/b, c/d\n# x\nname=e/f,enable=false'])).toEqual([
      { name: 'a/b', enable: true },
      { name: 'c/d', enable: true },
      { name: 'e/f', enable: false },
    ]);
  });
  it.each([
    ['name=a,enable=perhaps', /enable='perhaps'/],
    ['name=a,colour=red', /unknown attribute 'colour'/],
    ['enable=true', /empty image name/],
  ])('%s → error', (entry, message) => {
    expect(() => parseImages([entry])).toThrow(message);
  });
});
