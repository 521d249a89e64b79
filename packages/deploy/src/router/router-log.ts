import type { Slot } from '../plan/types.js';

/**
 * The router's per-request log (ROUTER_LOG_FORMAT in haproxy-config.ts), parsed into samples. The
 * canary analysis and the post-switch watch judge versions from these lines: every request real
 * clients sent, with its status and time, never an average.
 */

export interface RouterRequest {
  /** When the router accepted the request (epoch ms). */
  atMs: number;
  backend: string;
  /** The server that answered; "<NOSRV>" when none could. */
  server: string;
  /** HTTP status sent to the client; -1 when none was (the connection broke). */
  status: number;
  /** Active time of the request in ms (request received → response sent). */
  totalMs: number;
  termination: string;
}

const LINE = /ITSREQ (\d{13,}) (\S+) (\S+) (-?\d+) (-?\d+) (\S+)/;

export function parseRouterLog(text: string): RouterRequest[] {
  const out: RouterRequest[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    out.push({
      atMs: Number(m[1]),
      backend: m[2]!,
      server: m[3]!,
      status: Number(m[4]),
      totalMs: Number(m[5]),
      termination: m[6]!,
    });
  }
  return out;
}

/** A failed request as clients saw it: a 5xx, or no response at all. */
export const isFailedRequest = (r: RouterRequest): boolean => r.status >= 500 || r.status < 0;

export interface Samples {
  requests: number;
  errors: number;
  latenciesMs: number[];
}

const emptySamples = (): Samples => ({ requests: 0, errors: 0, latenciesMs: [] });

function add(samples: Samples, r: RouterRequest): void {
  samples.requests++;
  if (isFailedRequest(r)) samples.errors++;
  // A failed request's time says how fast it failed, not how fast the version serves.
  else if (r.totalMs >= 0) samples.latenciesMs.push(r.totalMs);
}

export interface SplitSamples {
  baseline: Samples;
  canary: Samples;
  /** Requests in the window no server of either side answered (the router had none to send them to). */
  unrouted: number;
  windowMs: number;
}

/**
 * Splits the requests of one backend in [fromMs, toMs) between the canary servers and the baseline
 * servers. Requests answered by other servers (an old replica still draining) count for neither.
 */
export function splitSamples(
  requests: RouterRequest[],
  window: { slot: Slot; fromMs: number; toMs: number },
  canary: readonly string[],
  baseline: readonly string[],
): SplitSamples {
  const out: SplitSamples = {
    baseline: emptySamples(),
    canary: emptySamples(),
    unrouted: 0,
    windowMs: window.toMs - window.fromMs,
  };
  const canarySet = new Set(canary);
  const baselineSet = new Set(baseline);
  for (const r of requests) {
    if (r.atMs < window.fromMs || r.atMs >= window.toMs || r.backend !== window.slot) continue;
    if (canarySet.has(r.server)) add(out.canary, r);
    else if (baselineSet.has(r.server)) add(out.baseline, r);
    else if (r.server === '<NOSRV>') out.unrouted++;
  }
  return out;
}

/** Requests in [fromMs, toMs) that one set of servers answered (the post-switch watch's view). */
export function samplesOf(
  requests: RouterRequest[],
  window: { slot: Slot; fromMs: number; toMs: number },
  servers: readonly string[],
): Samples & { unrouted: number } {
  const split = splitSamples(requests, window, servers, []);
  // After a switch every request of the slot belongs to the new version: one no server took is its failure.
  return {
    requests: split.canary.requests + split.unrouted,
    errors: split.canary.errors + split.unrouted,
    latenciesMs: split.canary.latenciesMs,
    unrouted: split.unrouted,
  };
}

/**
 * Weights that give the canary servers `percent` % of a backend's requests (HAProxy weights are
 * relative, 0–256 per server). Both sides keep at least weight 1 below 100 %, so neither starves.
 */
export function canaryWeights(
  percent: number,
  canary: readonly string[],
  baseline: readonly string[],
): Array<{ server: string; weight: number }> {
  const scale = 200;
  if (percent >= 100 || baseline.length === 0)
    return [
      ...canary.map((server) => ({ server, weight: 100 })),
      ...baseline.map((server) => ({ server, weight: 0 })),
    ];
  const each = (share: number, n: number) => Math.max(1, Math.min(256, Math.round((scale * share) / n)));
  return [
    ...canary.map((server) => ({ server, weight: each(percent / 100, canary.length) })),
    ...baseline.map((server) => ({ server, weight: each(1 - percent / 100, baseline.length) })),
  ];
}
