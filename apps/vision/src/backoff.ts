export interface BackoffPolicy {
  /** First delay, ms. */
  initialMs: number;
  /** Ceiling, ms: a camera down for hours is retried this often, not less. */
  maxMs: number;
  /** Growth per failure. */
  factor: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 30_000, factor: 2 };

/** Delay before retry number `attempt` (0-based): initial × factor^attempt, capped. Pure, no jitter (tests). */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  return Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.max(0, attempt));
}
