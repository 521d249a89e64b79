/**
 * When to try a registry request again (pure: the clock value and the random draw are passed in).
 * Registries answer 429 when they rate-limit (ghcr.io and Docker Hub do under load) and 5xx when a
 * backend hiccups; one such answer should not fail a promotion halfway. Only requests that are safe
 * to repeat are retried (isRepeatable), and never past the policy's bounds.
 */
import { InternalError } from '@its/core';

export interface RetryPolicy {
  /**
   * Attempts in all, the first included. Default 4: three retries ride out a short outage or a rate
   * limit window without turning a dead registry into a minute-long hang.
   */
  maxAttempts: number;
  /**
   * Time budget from the first attempt, in ms; a wait that would end past it is not started. Default
   * 30 000: long enough for a Retry-After of a few seconds, short enough for an interactive command.
   */
  maxElapsedMs: number;
  /** The first back-off step, doubled per retry (before jitter). Default 500 ms. */
  baseDelayMs: number;
  /** No single back-off wait is longer. Default 8 000 ms. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4,
  maxElapsedMs: 30_000,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
};

/** 429 (rate limited) and every 5xx: the registry may answer differently a moment later. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/**
 * Whether a request may be sent again after a 429/5xx answer without changing the outcome:
 * - GET and HEAD read;
 * - PUT of a manifest stores the same bytes under the same reference again;
 * - DELETE of a manifest by digest is done or not (a repeat that finds it gone gets 404, an accepted answer);
 * - POST /blobs/uploads/ only opens an upload session (or mounts a blob, which is content-addressed);
 *   an abandoned session holds nothing and the registry expires it.
 * Not: the PUT that closes a blob upload. It belongs to one session, which a 5xx may have spent, so the
 * client retries the whole upload (a new POST, then the PUT) when it can send the bytes again, and
 * never retries a streamed body, whose bytes are gone once sent.
 */
export function isRepeatable(method: string, path: string): boolean {
  const m = method.toUpperCase();
  if (m === 'GET' || m === 'HEAD') return true;
  if (m === 'PUT' || m === 'DELETE') return /\/manifests\/[^/]+$/.test(path);
  if (m === 'POST') return /\/blobs\/uploads\/$/.test(path);
  return false;
}

/**
 * Retry-After as ms from now: delay-seconds (`120`) or an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`,
 * a date in the past meaning now). undefined when absent or unreadable, and then the back-off applies.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined; // a negative or fractional number is not a date either
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * Exponential back-off with jitter: step n (1-based) waits between half and all of
 * min(maxDelayMs, baseDelayMs × 2^(n-1)). The jitter spreads clients that failed together (a registry
 * restart) so they do not come back together; the lower half-bound keeps each wait a real wait.
 */
export function backoffDelay(retry: number, policy: RetryPolicy, random: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

export type RetryDecision =
  { retry: true; delayMs: number; basis: 'Retry-After' | 'back-off' } | { retry: false; reason: string };

/** After attempt `attempt` (1-based) failed with a retryable answer: wait and retry, or give up and why. */
export function decideRetry(input: {
  attempt: number;
  elapsedMs: number;
  retryAfterMs: number | undefined;
  policy: RetryPolicy;
  random: number;
}): RetryDecision {
  const { attempt, elapsedMs, retryAfterMs, policy } = input;
  if (attempt >= policy.maxAttempts)
    return { retry: false, reason: `retry.maxAttempts is ${policy.maxAttempts}` };
  const delayMs = retryAfterMs ?? backoffDelay(attempt, policy, input.random);
  if (elapsedMs + delayMs > policy.maxElapsedMs) {
    const wait =
      retryAfterMs === undefined ? `the next wait, ${seconds(delayMs)},` : `Retry-After ${seconds(delayMs)}`;
    return {
      retry: false,
      reason: `${wait} would pass retry.maxElapsedMs, ${seconds(policy.maxElapsedMs)} from the first attempt`,
    };
  }
  return { retry: true, delayMs, basis: retryAfterMs === undefined ? 'back-off' : 'Retry-After' };
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
}

/** The client options' policy over the defaults; a nonsensical bound is a bug in the caller. */
export function resolveRetryPolicy(overrides: Partial<RetryPolicy> | undefined): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY, ...overrides };
  for (const [key, value] of Object.entries(policy)) {
    const attempts = key === 'maxAttempts';
    if (!Number.isFinite(value) || value < (attempts ? 1 : 0) || (attempts && !Number.isInteger(value)))
      throw new InternalError(
        `retry.${key}: should be ${attempts ? 'an integer ≥ 1' : 'a number ≥ 0'} (got ${value})`,
      );
  }
  return policy;
}
