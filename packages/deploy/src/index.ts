/**
 * @its/deploy: the deployment engine. An environment file (config/) is observed against the engine and
 * the router, planned by one pure planner (deployment/plan-deployment.ts over plan/), and applied step
 * by step with undo (apply/); health checks (health/), canary analysis (analysis/), HAProxy (router/),
 * stacks of tiers (stack/), history, locks and evidence (state/), notifications (notify/).
 */
export { deploy, status } from './deployment/deploy.js';
export { renderSummary } from './deployment/summary.js';
export { renderStatus, withStore } from './deployment/status.js';
export { retireKept } from './deployment/retire.js';
export type {
  DeployContext,
  DeployOptions,
  DeploySummary,
  StatusReport,
  RetireResult,
} from './deployment/types.js';
export { formatEvidence } from './analysis/judge.js';
export type { EvidenceEntry } from './apply/evidence.js';
export { DeployStore } from './state/deploy-store.js';
export type { DeploymentRecord, LockRecord } from './state/deploy-store.js';
export { renderDeployment } from './state/render-deployment.js';
export { renderTeardown, requireConfirmation, teardown } from './stack/teardown.js';
export { percentileOf, startLoad } from './load/load-generator.js';
export type { LoadReport, RunningLoad } from './load/load-generator.js';
