import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  decideRetry,
  DEFAULT_RETRY_POLICY,
  isRepeatable,
  isRetryableStatus,
  parseRetryAfter,
} from './retry-policy.js';

const NOW = Date.parse('2026-11-26T01:00:00Z');

describe('retry policy', () => {
  it.each([
    ['GET', '/v2/app/manifests/v1', true],
    ['HEAD', '/v2/app/blobs/sha256:ab', true],
    ['PUT', '/v2/app/manifests/v1', true],
    ['DELETE', '/v2/app/manifests/sha256:ab', true],
    ['POST', '/v2/app/blobs/uploads/', true],
    ['PUT', '/v2/app/blobs/uploads/3f1c-session', false],
    ['PATCH', '/v2/app/blobs/uploads/3f1c-session', false],
    ['DELETE', '/v2/app/blobs/uploads/3f1c-session', false],
    ['POST', '/v2/app/manifests/v1', false],
  ])('%s %s may be repeated: %s', (method, path, expected) => {
    expect(isRepeatable(method, path)).toBe(expected);
  });

  it.each([
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [504, true],
    [400, false],
    [401, false],
    [404, false],
    [409, false],
  ])('status %i is retryable: %s', (status, expected) => {
    expect(isRetryableStatus(status)).toBe(expected);
  });

  it.each([
    ['seconds', '7', 7000],
    ['zero seconds', '0', 0],
    ['an HTTP date ahead', 'Thu, 26 Nov 2026 01:00:05 GMT', 5000],
    ['an HTTP date passed', 'Thu, 26 Nov 2026 00:59:00 GMT', 0],
    ['absent', null, undefined],
    ['empty', ' ', undefined],
    ['negative', '-5', undefined],
    ['fractional', '1.5', undefined],
    ['garbage', 'soon', undefined],
  ])('Retry-After %s', (_name, value, expected) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });

  it('doubles the back-off ceiling per retry up to maxDelayMs, jittered within its upper half', () => {
    const p = DEFAULT_RETRY_POLICY;
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, p, 0))).toEqual([250, 500, 1000, 2000, 4000, 4000]);
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, p, 0.999999))).toEqual([
      500, 1000, 2000, 4000, 8000, 8000,
    ]);
  });

  it.each([
    [
      'retries with the back-off',
      { attempt: 1, elapsedMs: 0, retryAfterMs: undefined },
      { retry: true, delayMs: 375, basis: 'back-off' },
    ],
    [
      'prefers Retry-After',
      { attempt: 2, elapsedMs: 1000, retryAfterMs: 4000 },
      { retry: true, delayMs: 4000, basis: 'Retry-After' },
    ],
    [
      'stops at maxAttempts',
      { attempt: 4, elapsedMs: 0, retryAfterMs: undefined },
      { retry: false, reason: 'retry.maxAttempts is 4' },
    ],
    [
      'stops when Retry-After would pass the budget',
      { attempt: 1, elapsedMs: 25_000, retryAfterMs: 6000 },
      { retry: false, reason: 'Retry-After 6 s would pass retry.maxElapsedMs, 30 s from the first attempt' },
    ],
    [
      'stops when the back-off would pass the budget',
      { attempt: 3, elapsedMs: 29_000, retryAfterMs: undefined },
      {
        retry: false,
        reason: 'the next wait, 1.5 s, would pass retry.maxElapsedMs, 30 s from the first attempt',
      },
    ],
  ])('%s', (_name, input, expected) => {
    expect(decideRetry({ ...input, policy: DEFAULT_RETRY_POLICY, random: 0.5 })).toEqual(expected);
  });
});
