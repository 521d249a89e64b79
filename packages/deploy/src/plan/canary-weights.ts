/**
 * The traffic split of a canary step, as pure functions (Argo Rollouts keeps its replica maths the
 * same way): which share of the requests goes to the canary, to the fresh baseline started beside it,
 * and to the long-running serving set, and the HAProxy server weights that give those shares.
 */

/** What the canary is compared with (strategy.canary.analysis.baseline). */
export type CanaryBaseline = 'fresh' | 'serving';

/** Percent of a backend's requests per group; they add up to 100. */
export interface TrafficShares {
  canary: number;
  /** The fresh baseline's share; 0 when the serving set itself is the baseline. */
  baseline: number;
  serving: number;
}

/**
 * At a step of `percent` %: the canary gets `percent`; a fresh baseline gets the same share, so both
 * sides carry the same load per replica, capped at what is left — `min(percent, 100 − percent)` — so
 * above 50 % the baseline has less traffic than the canary (judge such steps knowing that, or keep
 * analysed steps at or below 50 %); the serving set gets the rest, `100 − canary − baseline`, which is
 * 0 from 50 % up. With `serving` the serving set is the baseline and gets `100 − percent`. 100 % (the
 * promotion) is the canary alone.
 */
export function canaryTrafficShares(percent: number, mode: CanaryBaseline): TrafficShares {
  if (!(percent > 0 && percent <= 100))
    throw new RangeError(`canary weight must be in (0, 100], got ${percent}`);
  if (percent === 100) return { canary: 100, baseline: 0, serving: 0 };
  const baseline = mode === 'fresh' ? Math.min(percent, 100 - percent) : 0;
  return { canary: percent, baseline, serving: 100 - percent - baseline };
}

export interface StepServers {
  canary: readonly string[];
  /** Fresh baseline servers; empty with `serving`. */
  baseline: readonly string[];
  serving: readonly string[];
}

/** HAProxy weights are relative, 0–256 per server: 100 % of a backend is spread as 200 weight units. */
const SCALE = 200;

/**
 * Server weights for one step. Each group's share is spread evenly over its servers. Below 100 % every
 * server keeps at least weight 1 — including a serving set whose share is 0 — so if one side falls
 * over the router still has somewhere to send requests (a 0-weight set would leave it with none).
 * A group with no servers gives its share to nobody: the weights are relative, so the others'
 * shares grow in proportion. At 100 % the canary is at 100 and everything else at 0.
 */
export function canaryStepWeights(
  percent: number,
  mode: CanaryBaseline,
  servers: StepServers,
): Array<{ server: string; weight: number }> {
  const shares = canaryTrafficShares(percent, mode);
  if (percent === 100)
    return [
      ...servers.canary.map((server) => ({ server, weight: 100 })),
      ...[...servers.baseline, ...servers.serving].map((server) => ({ server, weight: 0 })),
    ];
  // A fresh baseline with no servers (nothing to copy) leaves its share to the serving set.
  const baselineShare = servers.baseline.length > 0 ? shares.baseline : 0;
  const servingShare = shares.serving + (shares.baseline - baselineShare);
  const each = (share: number, n: number) =>
    Math.max(1, Math.min(256, Math.round((SCALE * share) / 100 / n)));
  return [
    ...servers.canary.map((server) => ({ server, weight: each(shares.canary, servers.canary.length) })),
    ...servers.baseline.map((server) => ({ server, weight: each(baselineShare, servers.baseline.length) })),
    ...servers.serving.map((server) => ({ server, weight: each(servingShare, servers.serving.length) })),
  ];
}
