import type { CanaryThresholds } from '../analysis/judge.js';
import type { PromQuery } from '../analysis/prometheus.js';
import type { CanaryBaseline, TrafficShares } from './canary-weights.js';

/**
 * The data a deployment is made of: what the runtime shows (observed), what to run (target) and the
 * steps between them. Planners are pure functions of these; the runner executes steps one by one.
 */

export type Slot = 'blue' | 'green';
export const otherSlot = (slot: Slot): Slot => (slot === 'blue' ? 'green' : 'blue');

export const CHECK_NAMES = ['container', 'api', 'database', 'external', 'performance'] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

/** A replica container as its labels describe it. */
export interface ObservedReplica {
  id: string;
  name: string;
  /** The HAProxy server name it is (or was) registered under. */
  server: string;
  slot: Slot;
  version: string;
  /** The image reference it was created from: what a redeploy of this version pulls. */
  image: string;
  digest: string;
  deploymentId: string;
  index: number;
  running: boolean;
  /**
   * A fresh canary baseline (label its.canary-role=baseline): the serving version started beside a
   * canary to be compared with it. Never part of the serving set; it never outlives its canary.
   */
  baseline?: true;
}

export type ServerState = 'ready' | 'drain' | 'maint';

export interface ObservedServer {
  slot: Slot;
  server: string;
  address: string;
  state: ServerState;
  /** HAProxy's health view: UP, DOWN, MAINT, NOLB (draining)… */
  status: string;
  weight: number;
  sessions: number;
}

export interface ObservedRouter {
  running: boolean;
  /** The backend the frontend sends traffic to. */
  activeSlot: Slot;
  servers: ObservedServer[];
}

export interface ObservedState {
  replicas: ObservedReplica[];
  router: ObservedRouter;
}

/** What to deploy: one image by digest, under one deployment id. */
export interface Target {
  version: string;
  /** Image reference to run, pinned: repository@digest or a local image id. */
  image: string;
  digest: string;
  deploymentId: string;
}

export interface ReplicaSpec {
  name: string;
  server: string;
  slot: Slot;
  index: number;
  version: string;
  image: string;
  digest: string;
  deploymentId: string;
  /** A fresh canary baseline (see ObservedReplica.baseline). */
  baseline?: true;
}

/**
 * How a canary step is judged, decided when the plan is made (from the environment file's
 * strategy.canary), so the plan — and a dry run — shows everything that will judge the canary.
 */
export interface CanaryJudgment {
  /** The judge's thresholds (analysis/judge.ts; a field left out takes its default). */
  thresholds: Partial<CanaryThresholds>;
  /** A new replica's first seconds in the router count for neither side. */
  warmupSeconds: number;
  /** An inconclusive verdict holds the step this many more pauses, then fails. */
  maxExtensions: number;
  /** Bounded load sent through the router during the analysis (marked SYNTHETIC in the evidence). */
  syntheticTraffic?: { url: string; rps: number; path: string };
  /** PromQL checks beside the comparison, with the values of their {{placeholders}}. */
  prometheus?: { url: string; timeoutMs: number; queries: PromQuery[]; vars: Record<string, string> };
}

/** How the post-switch watch judges (the environment file's `watch`, without its length). */
export interface WatchJudgment {
  intervalMs: number;
  windowSeconds: number;
  minSamples: number;
  failAfter: number;
  slo: { p95Ms?: number; p99Ms?: number; maxErrorRate?: number };
}

/** One change to the world. Each kind is one small effect the runner knows how to do (and undo). */
export type Step =
  | { kind: 'ensure-router' }
  | { kind: 'run-migration'; image: string; command: string[] }
  | { kind: 'start-replica'; replica: ReplicaSpec }
  | { kind: 'check-replicas'; replicas: string[]; checks: CheckName[] }
  | { kind: 'add-server'; slot: Slot; server: string; replica: string; weight?: number }
  | { kind: 'set-weights'; slot: Slot; weights: Array<{ server: string; weight: number }> }
  | {
      kind: 'analyze-canary';
      slot: Slot;
      /** 1-based step number and how many analysed steps there are. */
      step: number;
      of: number;
      weight: number;
      pauseSeconds: number;
      canary: string[];
      /** The servers compared with the canary: the fresh baseline's, or the serving set's. */
      baseline: string[];
      /** Which baseline that is; `baselineReplicas` names a fresh one's containers (for the evidence). */
      baselineKind: CanaryBaseline;
      baselineReplicas: string[];
      /** The long-running serving set's servers (the baseline itself with `serving`). */
      serving: string[];
      /** The step's traffic split in percent (canary-weights.ts). */
      shares: TrafficShares;
      /** What judges it: thresholds, warm-up, extensions, synthetic traffic, PromQL queries. */
      judgment: CanaryJudgment;
    }
  | {
      kind: 'watch';
      slot: Slot;
      seconds: number;
      servers: string[];
      replicas: string[];
      judgment: WatchJudgment;
    }
  | { kind: 'ready-server'; slot: Slot; server: string }
  | { kind: 'drain-server'; slot: Slot; server: string; timeoutMs: number }
  | { kind: 'remove-server'; slot: Slot; server: string }
  | { kind: 'stop-replica'; replica: string }
  | { kind: 'restart-replica'; replica: string }
  | { kind: 'remove-replica'; replica: string }
  | { kind: 'switch-slot'; from: Slot; to: Slot }
  | { kind: 'retain-slot'; slot: Slot; seconds: number };

/**
 * prepare: before traffic reaches the new version (a failure here rolls back; the old keeps serving);
 * shift: traffic moves (a failure here also rolls back); finalize: the old is retired (a failure here
 * is reported, not rolled back: the new version already serves everything).
 */
export type Phase = 'prepare' | 'shift' | 'finalize';

export interface PlannedStep {
  step: Step;
  phase: Phase;
  /** Steps that reverse this one, run in order during a rollback; empty when there is nothing to undo. */
  undo: Step[];
}

export interface Plan {
  strategy: 'rolling' | 'blue-green' | 'canary' | 'rollback-flip';
  environment: string;
  from: { version: string; digest: string } | undefined;
  to: { version: string; digest: string; image: string };
  activeSlot: Slot;
  targetSlot: Slot;
  steps: PlannedStep[];
  /** Why nothing happens, when steps is empty. */
  note?: string;
}

export interface PlanSettings {
  environment: string;
  app: string;
  replicas: number;
  batchSize: number;
  keepPreviousSeconds: number;
  drainTimeoutMs: number;
  migration: string[] | undefined;
  /** Rolling only: stop each old batch before starting the new one (never two versions at once). */
  stopFirst: boolean;
  /** Post-switch watch length in seconds; 0 = none. */
  watchSeconds: number;
  /** How the watch judges. */
  watch: WatchJudgment;
  canary: {
    replicas: number;
    steps: Array<{ weight: number; pauseSeconds: number }>;
    /** What the canary is compared with (strategy.canary.analysis.baseline). */
    baseline: CanaryBaseline;
    /** How each step is judged; PromQL's {{version}}/{{previous_version}} are filled in per plan. */
    judgment: CanaryJudgment;
  };
}

export function replicaName(
  app: string,
  environment: string,
  slot: Slot,
  deploymentId: string,
  index: number,
): string {
  return `${app}-${environment}-${slot}-${deploymentId}-${index}`;
}

export function serverName(slot: Slot, deploymentId: string, index: number): string {
  return `${slot[0]}-${deploymentId}-${index}`;
}

/** A fresh canary baseline replica: named after the canary's deployment, marked as a baseline. */
export function baselineReplicaName(
  app: string,
  environment: string,
  slot: Slot,
  deploymentId: string,
  index: number,
): string {
  return `${app}-${environment}-${slot}-${deploymentId}-baseline-${index}`;
}

export function baselineServerName(slot: Slot, deploymentId: string, index: number): string {
  return `${slot[0]}-${deploymentId}-base-${index}`;
}

/**
 * Fresh canary baselines still present: leftovers of a canary that was killed before it removed them
 * (they never outlive their canary, so any one a new plan finds is left over).
 */
export function leftoverBaselines(observed: ObservedState): ObservedReplica[] {
  return observed.replicas.filter((r) => r.baseline);
}

/**
 * Replicas that serve, or could serve, in a slot: running and registered in the router (never a fresh
 * canary baseline). While the
 * router is not running its server list is unknown (not empty): the router comes back from its saved
 * configuration, which lists the live set, so the running replicas' labels stand in for it.
 */
export function servingReplicas(observed: ObservedState, slot: Slot): ObservedReplica[] {
  const servers = new Set(observed.router.servers.filter((s) => s.slot === slot).map((s) => s.server));
  return observed.replicas
    .filter(
      (r) =>
        r.slot === slot && r.running && !r.baseline && (!observed.router.running || servers.has(r.server)),
    )
    .sort((a, b) => a.index - b.index);
}

/**
 * Containers of this environment the router does not know: leftovers of an interrupted run. None
 * while the router is not running: it cannot be asked, and its saved configuration may list them all.
 */
export function strayReplicas(observed: ObservedState): ObservedReplica[] {
  if (!observed.router.running) return [];
  const known = new Set(observed.router.servers.map((s) => `${s.slot}/${s.server}`));
  return observed.replicas.filter((r) => !known.has(`${r.slot}/${r.server}`));
}

/** The version the active slot serves: the one most of its serving replicas run. */
export function currentVersion(observed: ObservedState): { version: string; digest: string } | undefined {
  const live = servingReplicas(observed, observed.router.activeSlot);
  if (live.length === 0) return undefined;
  const counts = new Map<string, { version: string; digest: string; n: number }>();
  for (const r of live) {
    const key = `${r.version}@${r.digest}`;
    const entry = counts.get(key) ?? { version: r.version, digest: r.digest, n: 0 };
    entry.n += 1;
    counts.set(key, entry);
  }
  const best = [...counts.values()].sort((a, b) => b.n - a.n)[0]!;
  return { version: best.version, digest: best.digest };
}

export const ALL_CHECKS: CheckName[] = [...CHECK_NAMES];
export const REPLICA_CHECKS: CheckName[] = ['container', 'api'];
