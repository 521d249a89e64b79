import { UsageError } from '@its/core';
import type { Strategy } from '../config/environment-schema.js';
import { planBlueGreen } from '../plan/plan-blue-green.js';
import { planCanary } from '../plan/plan-canary.js';
import { keptSetExpired, planRetireIdle } from '../plan/plan-retire.js';
import { planRollback } from '../plan/plan-rollback.js';
import { planRolling } from '../plan/plan-rolling.js';
import type { ObservedState, Plan, PlanSettings, Target } from '../plan/types.js';
import { currentVersion } from '../plan/types.js';
import type { DeploymentRecord } from '../state/deploy-store.js';
import type { ResolvedTarget } from './target.js';

/** Everything one deployment's plan is made from, besides what the runtime shows. */
export interface DeploymentRequest {
  strategy: Strategy;
  settings: PlanSettings;
  deploymentId: string;
  /** The version to deploy, resolved and pinned; absent for `--rollback`. */
  target: ResolvedTarget | undefined;
  /** The environment's deployments, newest first: the previous version, when the kept set went idle. */
  history: DeploymentRecord[];
  now: Date;
}

/** The last successful deployment of something other than what serves now: where a rollback goes. */
export function previousTarget(
  history: DeploymentRecord[],
  observed: ObservedState,
): ResolvedTarget | undefined {
  const current = currentVersion(observed);
  const done = history.filter((d) => d.outcome === 'succeeded');
  const prev = done.find(
    (d) => current === undefined || d.digest !== current.digest || d.version !== current.version,
  );
  return prev ? { version: prev.version, image: prev.image, digest: prev.digest } : undefined;
}

/** When traffic last left the idle slot: the end of the last successful switch. */
export function idleSince(history: DeploymentRecord[]): Date | undefined {
  const last = history.find(
    (d) => d.outcome === 'succeeded' && (d.strategy === 'blue-green' || d.strategy === 'rollback-flip'),
  );
  return last?.endedAt ? new Date(last.endedAt) : undefined;
}

/**
 * The one planner of a deployment: picks the strategy's planner for a target (or the rollback planner),
 * retires a blue-green kept set whose window has passed first, and returns the whole plan — every step,
 * its undo, and each canary step's judgment. Pure: the observed state, the history and the clock are
 * given.
 */
export function planDeployment(observed: ObservedState, request: DeploymentRequest): Plan {
  const { strategy, settings, deploymentId, history } = request;
  if (request.target) {
    const target: Target = { ...request.target, deploymentId };
    if (strategy === 'blue-green') return planBlueGreen(observed, settings, target);
    const plan =
      strategy === 'canary'
        ? planCanary(observed, settings, target)
        : planRolling(observed, settings, target);
    // A set kept by an earlier blue-green switch is retired once its rollback window has passed.
    if (!keptSetExpired(settings, idleSince(history), request.now)) return plan;
    const retire = planRetireIdle(observed);
    return retire.length === 0
      ? plan
      : {
          ...plan,
          steps: [...retire, ...plan.steps],
          note: 'the set kept for rollback is past its window: retired first',
        };
  }
  const prev = previousTarget(history, observed);
  const plan = planRollback(observed, settings, {
    // The previous version served before: it goes back at once, without a canary's analysis.
    strategy: strategy === 'canary' ? 'rolling' : strategy,
    previous: prev ? { ...prev, deploymentId } : undefined,
  });
  if (!plan)
    throw new UsageError(
      `nothing to roll back to in ${settings.environment}: no earlier successful deployment of another version`,
      { fix: `itsctl history -e ${settings.environment}` },
    );
  return plan;
}
