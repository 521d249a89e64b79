/**
 * @its/deploy: the deployment engine. An environment file (config/) is observed against the engine and
 * the router, planned by pure functions (plan/), and applied step by step with undo (run/); health
 * checks (health/), canary analysis (analysis/), HAProxy (router/), stacks of tiers (stack/), history,
 * locks and evidence (state/), notifications (notify/).
 */
export { deploy, renderStatus, renderSummary, retireKept, status, withStore } from './run/deploy.js';
export type {
  DeployContext,
  DeployOptions,
  DeploySummary,
  StatusReport,
  RetireResult,
} from './run/deploy.js';
export { formatEvidence } from './analysis/judge.js';
export type { EvidenceEntry } from './run/canary-analysis.js';
export { DeployStore } from './state/deploy-store.js';
export type { DeploymentRecord, LockRecord } from './state/deploy-store.js';
export { renderDeployment } from './state/render-deployment.js';
export { renderTeardown, requireConfirmation, teardown } from './stack/teardown.js';
export { percentileOf, startLoad } from './load/load-generator.js';
export type { LoadReport, RunningLoad } from './load/load-generator.js';
