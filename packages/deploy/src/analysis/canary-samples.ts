import type { Slot } from '../plan/types.js';
import { isFailedRequest, type RouterRequest } from '../router/router-log.js';
import type { SideSamples } from './judge.js';

/**
 * The samples of one canary step, from the router's per-request log: each side's requests, errors
 * and latencies with their accept times (so latency can be compared within time windows), minus each
 * new replica's warm-up. Pure.
 */

export interface TimedSamples extends SideSamples {
  latenciesMs: number[];
  atMs: number[];
}

export interface CanarySplit {
  baseline: TimedSamples;
  canary: TimedSamples;
  /** Requests in the window no server of either side answered (the router had none to send them to). */
  unrouted: number;
  /** Requests a server answered before its warm-up ended: counted for neither side. */
  warmupExcluded: { baseline: number; canary: number };
  windowMs: number;
}

const empty = (): TimedSamples => ({ requests: 0, errors: 0, latenciesMs: [], atMs: [] });

/**
 * Splits the requests of one backend accepted in [fromMs, toMs) between canary and baseline servers.
 * A request a server accepted before `warmupUntil.get(server)` (the moment it joined the router plus
 * the warm-up) is excluded and counted; servers without an entry (a long-running serving set) have no
 * warm-up. Requests answered by other servers (the serving set while a fresh baseline is compared, an
 * old replica draining) count for neither side.
 */
export function splitCanarySamples(
  requests: readonly RouterRequest[],
  window: { slot: Slot; fromMs: number; toMs: number },
  sides: { canary: readonly string[]; baseline: readonly string[] },
  warmupUntil: ReadonlyMap<string, number> = new Map(),
): CanarySplit {
  const out: CanarySplit = {
    baseline: empty(),
    canary: empty(),
    unrouted: 0,
    warmupExcluded: { baseline: 0, canary: 0 },
    windowMs: window.toMs - window.fromMs,
  };
  const canary = new Set(sides.canary);
  const baseline = new Set(sides.baseline);
  for (const r of requests) {
    if (r.atMs < window.fromMs || r.atMs >= window.toMs || r.backend !== window.slot) continue;
    const side = canary.has(r.server) ? 'canary' : baseline.has(r.server) ? 'baseline' : undefined;
    if (!side) {
      if (r.server === '<NOSRV>') out.unrouted++;
      continue;
    }
    if (r.atMs < (warmupUntil.get(r.server) ?? Number.NEGATIVE_INFINITY)) {
      out.warmupExcluded[side]++;
      continue;
    }
    const s = out[side];
    s.requests++;
    if (isFailedRequest(r)) s.errors++;
    // A failed request's time says how fast it failed, not how fast the version serves.
    else if (r.totalMs >= 0) {
      s.latenciesMs.push(r.totalMs);
      s.atMs.push(r.atMs);
    }
  }
  return out;
}
