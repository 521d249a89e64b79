import type { AccessoryStatus } from '../accessories/ensure-accessories.js';
import type { EvidenceEntry } from '../apply/evidence.js';
import type { CheckResult } from '../health/checks.js';
import type { ObservedState, Plan } from '../plan/types.js';
import type { DeploymentRecord, LockRecord } from '../state/deploy-store.js';

/** What a deploy command is given: the world it may touch, passed in (tests run it in-process). */
export interface DeployContext {
  cwd: string;
  env: Record<string, string | undefined>;
  now: () => Date;
  log: (line: string) => void;
  /** Aborted by SIGINT/SIGTERM: the runner stops between steps and rolls back. */
  signal: AbortSignal;
  /** Overrides for tests: where environment files and state live. */
  environmentsDir?: string;
  stateDir?: string;
}

export interface DeployOptions {
  environment: string;
  version?: string;
  strategy?: string;
  rollback?: boolean;
  dryRun?: boolean;
}

export interface DeploySummary {
  environment: string;
  deploymentId: string;
  action: 'deploy' | 'rollback';
  strategy: Plan['strategy'];
  outcome: 'succeeded' | 'dry-run' | 'unchanged';
  from: { version: string; digest: string } | undefined;
  version: string;
  digest: string;
  image: string;
  durationMs: number;
  checks: CheckResult[];
  /** Canary steps' and the post-switch watch's evidence, in order. */
  evidence: EvidenceEntry[];
  warnings: string[];
  /**
   * A dry run only: what would stop the real deploy before it changes anything (missing env files,
   * keys, secrets; an engine or registry that does not answer; an unknown version; a held lock).
   */
  wouldFail?: string[];
  url: string;
  plan: Plan;
  /** Set on the first environment of a stack: every tier's summary (stack/deploy-stack.ts). */
  stack?: StackResult;
}

export interface ApiKeyOutcome {
  secret: string;
  name: string;
  action: 'kept' | 'created' | 'planned';
}

export interface StackResult {
  tiers: DeploySummary[];
  apiKeys: ApiKeyOutcome[];
  /** The whole command: every tier, the API keys and the accessories. */
  durationMs: number;
}

export interface StatusReport {
  environment: string;
  url: string;
  router: { running: boolean; activeSlot: string };
  serving: { version: string; digest: string } | undefined;
  replicas: Array<ObservedState['replicas'][number] & { router: string }>;
  lock: LockRecord | undefined;
  last: DeploymentRecord | undefined;
  /** The set kept for an instant rollback in the idle slot, and until when. */
  kept?: { slot: string; version: string; until: string | undefined };
  /** Long-lived servers of the environment (PostgreSQL, Redis), when its file declares some. */
  accessories?: AccessoryStatus[];
  /** Set on the first environment of a stack: every tier's report, this one first. */
  stack?: StackStatus;
}

export interface StackStatus {
  tiers: StatusReport[];
}

export interface RetireResult {
  environment: string;
  retired: string[];
  reason: string;
}
