import type { AnalysisEvidence, Verdict } from '../analysis/judge.js';
import type { PromResult } from '../analysis/prometheus.js';

/**
 * One piece of analysis evidence — a canary step's verdict or the post-switch watch's — as printed,
 * stored (state/deploy-store.ts) and shown again by `itsctl history --deployment ID`.
 */
export interface EvidenceEntry {
  kind: 'canary-step' | 'watch';
  at: string;
  /** Canary step (1-based) and weight; absent for the watch. */
  step?: number;
  of?: number;
  weight?: number;
  /** 0 for the step's first analysis, n for its n-th extension. */
  extension: number;
  windowMs: number;
  /** Where the samples came from, said plainly (synthetic traffic is marked). */
  source: string;
  synthetic: boolean;
  /** Requests no server could take during the window (the router had nowhere to send them). */
  unrouted: number;
  verdict: Verdict;
  sentence: string;
  analysis: AnalysisEvidence;
  prometheus: PromResult[];
  /**
   * Canary steps: what the canary was compared with — a fresh baseline (its replicas and servers,
   * started beside the canary) or the long-running serving set. Absent in records older than it.
   */
  baseline?: { kind: 'fresh' | 'serving'; servers: string[]; replicas: string[] };
  /** Canary steps: requests of each new replica's first `seconds` in the router, counted for neither side. */
  warmup?: { seconds: number; excluded: { baseline: number; canary: number } };
}
