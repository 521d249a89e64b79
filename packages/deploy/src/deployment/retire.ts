import { hostname } from 'node:os';
import { StepFailedError } from '@its/core';
import { executePlan } from '../apply/execute-plan.js';
import { observe } from '../apply/runtime.js';
import { loadEnvironment } from '../config/environment-config.js';
import { keptSetExpired, planRetireIdle } from '../plan/plan-retire.js';
import type { Plan } from '../plan/types.js';
import { environmentsDir } from './paths.js';
import { idleSince } from './plan-deployment.js';
import { recoverInterrupted } from './recover.js';
import { isAlive, openSession, who } from './session.js';
import { planSettings } from './settings.js';
import { newDeploymentId } from './target.js';
import type { DeployContext, RetireResult } from './types.js';

/**
 * `itsctl retire`: removes the set kept in the idle slot once its rollback window has passed (or at
 * once with force). Takes the lock like a deployment; the serving slot is never touched.
 */
export async function retireKept(
  ctx: DeployContext,
  environment: string,
  force: boolean,
): Promise<RetireResult> {
  const config = await loadEnvironment(environmentsDir(ctx), environment);
  const id = newDeploymentId(ctx.now());
  const session = await openSession(ctx, config, id);
  const { store } = session;
  try {
    await session.engine.ping();
    store.acquireLock(
      {
        environment,
        holder: who(ctx.env),
        pid: process.pid,
        host: hostname(),
        reason: 'retire the kept set',
        deploymentId: id,
      },
      config.lockTtlSeconds,
      {
        isAlive,
        hostname: hostname(),
        now: ctx.now,
      },
    );
    try {
      await recoverInterrupted(session, ctx, id);
      const observed = await observe(session.runtime);
      const since = idleSince(store.history(environment, 200));
      const expired = keptSetExpired(planSettings(config), since, ctx.now());
      const steps = planRetireIdle(observed);
      if (steps.length === 0) return { environment, retired: [], reason: 'no set is kept in the idle slot' };
      if (!force && !expired) {
        const until = since
          ? new Date(since.getTime() + config.strategy.keepPreviousSeconds * 1000).toISOString()
          : 'unknown (no switch in history)';
        return {
          environment,
          retired: [],
          reason: `the kept set stays until ${until} (use --now to retire it anyway)`,
        };
      }
      const plan: Plan = {
        strategy: 'blue-green',
        environment,
        from: undefined,
        to: { version: '', digest: '', image: '' },
        activeSlot: observed.router.activeSlot,
        targetSlot: observed.router.activeSlot,
        steps,
      };
      const result = await executePlan(
        session.runtime,
        plan,
        { start: () => {}, mark: () => {} },
        session.undoRuntime,
      );
      if (!result.ok)
        throw new StepFailedError(`retiring the kept set failed: ${result.failure?.error.message}`);
      const retired = steps.flatMap((s) => (s.step.kind === 'remove-replica' ? [s.step.replica] : []));
      store.audit(
        ctx.now(),
        environment,
        who(ctx.env),
        'retire',
        `retired ${retired.join(', ')}${force && !expired ? ' (before its window ended)' : ''}`,
      );
      return {
        environment,
        retired,
        reason: force && !expired ? 'retired on request' : 'its rollback window has passed',
      };
    } finally {
      store.releaseLock(environment, id);
    }
  } finally {
    store.close();
  }
}
