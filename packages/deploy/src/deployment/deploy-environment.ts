import { hostname } from 'node:os';
import { StepFailedError } from '@its/core';
import { ensureAccessories, planAccessories } from '../accessories/ensure-accessories.js';
import { executePlan, type ExecutionResult } from '../apply/execute-plan.js';
import { observe } from '../apply/runtime.js';
import type { EnvironmentConfig } from '../config/environment-schema.js';
import { createNotifier, type Notification } from '../notify/slack-webhook.js';
import { renderPlan } from '../plan/render-plan.js';
import type { Plan } from '../plan/types.js';
import { planDeployment } from './plan-deployment.js';
import { recoverInterrupted } from './recover.js';
import { isAlive, openSession, who, type Session } from './session.js';
import { planSettings } from './settings.js';
import { summaryOf } from './summary.js';
import { newDeploymentId, resolveTarget, selectStrategy } from './target.js';
import type { DeployContext, DeployOptions, DeploySummary } from './types.js';

/**
 * One environment, as a short list of named steps (Kamal's deploy, Argo's observe → plan → apply):
 *
 *   1. check      the strategy, the engine, the version (resolved and pinned by digest)
 *   2. lock       the environment, taking over a dead holder's lock
 *   3. recover    undo what a killed command left half done
 *   4. accessories PostgreSQL, Redis … running and healthy, never replaced
 *   5. observe    replicas from container labels, traffic from the router
 *   6. plan       one pure planner returns every step, its undo and each canary step's judgment
 *   7. apply      step by step, journaled; a failure before finalize undoes what started
 *   8. record     outcome, checks and evidence in the store; notifications
 *
 * A dry run stops after 6. The config comes loaded (deploy() or the stack loaded it once).
 */
export async function deployEnvironment(
  ctx: DeployContext,
  options: DeployOptions,
  config: EnvironmentConfig,
): Promise<DeploySummary> {
  const startedAt = ctx.now();
  // Arguments are checked before anything is written (the session creates the store and secrets).
  const strategy = selectStrategy(config, options.strategy);
  const deploymentId = newDeploymentId(startedAt);
  const session = await openSession(ctx, config, deploymentId);
  const { engine, store } = session;
  try {
    await engine.ping();
    const target = options.rollback
      ? undefined
      : await resolveTarget(engine, config, options.version ?? config.image.defaultVersion, ctx.cwd, ctx.env);
    const makePlan = async () =>
      planDeployment(await observe(session.runtime), {
        strategy,
        settings: planSettings(config),
        deploymentId,
        target,
        history: store.history(config.name, 200),
        now: ctx.now(),
      });

    if (options.dryRun) {
      for (const line of await planAccessories(engine, config)) ctx.log(line);
      const plan = await makePlan();
      return summaryOf(ctx, config, deploymentId, options, plan, 'dry-run', startedAt, [], [], []);
    }

    const lock = store.acquireLock(
      {
        environment: config.name,
        holder: who(ctx.env),
        pid: process.pid,
        host: hostname(),
        reason: options.rollback ? 'rollback' : `deploy ${target?.version}`,
        deploymentId,
      },
      config.lockTtlSeconds,
      { isAlive, hostname: hostname(), now: ctx.now },
    );
    if (lock.takenOver)
      ctx.log(
        `took over the lock of ${config.name} from ${lock.takenOver.holder} (pid ${lock.takenOver.pid}, ${lock.takenOver.reason}): ${lock.why}`,
      );
    try {
      await recoverInterrupted(session, ctx, deploymentId);
      // Accessories (PostgreSQL, Redis) run and are healthy before any replica starts; never replaced.
      const accessories = await ensureAccessories(
        { engine, log: ctx.log, now: () => ctx.now().getTime(), sleep: session.runtime.sleep },
        config,
        session.accessoryEnv,
      );
      const plan = await makePlan();
      ctx.log(renderPlan(plan));
      recordStart(session, ctx, options, plan, deploymentId, startedAt);
      const note = notifierFor(ctx, config, plan, deploymentId, startedAt);
      await note('started');
      const result = await applyPlan(session, ctx, plan, deploymentId);
      if (!result.ok) await recordFailure(session, ctx, plan, deploymentId, result, note);
      store.finishDeployment(deploymentId, 'succeeded', ctx.now(), null, result.checks);
      const verdicts = session.evidence.filter((e) => e.kind === 'canary-step' && e.verdict === 'pass');
      await note(
        options.rollback ? 'rolled-back' : 'succeeded',
        options.rollback
          ? `returned to ${plan.to.version} on request`
          : verdicts.length > 0
            ? `${verdicts.length} canary step(s) passed; last: ${verdicts[verdicts.length - 1]!.sentence}`
            : undefined,
      );
      return summaryOf(
        ctx,
        config,
        deploymentId,
        options,
        plan,
        'succeeded',
        startedAt,
        result.checks,
        [...accessories.warnings, ...result.warnings],
        session.evidence,
      );
    } finally {
      store.releaseLock(config.name, deploymentId);
    }
  } finally {
    store.close();
  }
}

/** The deployment's row and audit entry, before its first step. */
function recordStart(
  session: Session,
  ctx: DeployContext,
  options: DeployOptions,
  plan: Plan,
  deploymentId: string,
  startedAt: Date,
): void {
  const { store, config } = session;
  store.startDeployment({
    id: deploymentId,
    environment: config.name,
    who: who(ctx.env),
    action: options.rollback ? 'rollback' : 'deploy',
    version: plan.to.version,
    digest: plan.to.digest,
    image: plan.to.image,
    strategy: plan.strategy,
    fromVersion: plan.from?.version ?? null,
    fromDigest: plan.from?.digest ?? null,
    startedAt: startedAt.toISOString(),
    pid: process.pid,
    host: hostname(),
  });
  store.audit(
    ctx.now(),
    config.name,
    who(ctx.env),
    options.rollback ? 'rollback' : 'deploy',
    `${deploymentId}: ${plan.strategy} ${plan.from?.version ?? '(none)'} → ${plan.to.version}`,
  );
}

type Note = (
  event: Notification['event'],
  sentence?: string,
  versions?: { version: string; fromVersion?: string },
) => Promise<unknown>;

/** Never throws and never waits long: a webhook's trouble is logged, the deployment goes on. */
function notifierFor(
  ctx: DeployContext,
  config: EnvironmentConfig,
  plan: Plan,
  deploymentId: string,
  startedAt: Date,
): Note {
  const notifier = createNotifier(ctx.env, ctx.log);
  return (
    event,
    sentence,
    versions = { version: plan.to.version, ...(plan.from ? { fromVersion: plan.from.version } : {}) },
  ) =>
    notifier.notify({
      event,
      environment: config.name,
      app: config.app,
      ...versions,
      strategy: plan.strategy,
      deploymentId,
      ...(sentence !== undefined ? { sentence } : {}),
      durationMs: ctx.now().getTime() - startedAt.getTime(),
    });
}

/** Runs the plan, journaling each step (its phase with it, so recovery knows whether traffic moved). */
function applyPlan(
  session: Session,
  ctx: DeployContext,
  plan: Plan,
  deploymentId: string,
): Promise<ExecutionResult> {
  const { store, config } = session;
  return executePlan(
    session.runtime,
    plan,
    {
      start: (seq, step, undoSteps) => {
        store.journalStart(deploymentId, seq, { ...step, phase: plan.steps[seq]?.phase }, undoSteps);
        store.refreshLock(config.name, deploymentId, config.lockTtlSeconds, ctx.now());
      },
      mark: (seq, state) => store.journalMark(deploymentId, seq, state),
    },
    session.undoRuntime,
  );
}

/** A failed plan: recorded, announced, and raised with what keeps serving. */
async function recordFailure(
  session: Session,
  ctx: DeployContext,
  plan: Plan,
  deploymentId: string,
  result: ExecutionResult,
  note: Note,
): Promise<never> {
  const { store, config } = session;
  const reason = result.failure!.error.message;
  store.finishDeployment(
    deploymentId,
    result.undoErrors.length === 0 ? 'rolled-back' : 'failed',
    ctx.now(),
    reason,
    result.checks,
  );
  const kept = plan.from ? `${plan.from.version} keeps serving` : 'nothing was serving before';
  if (result.undoErrors.length === 0)
    // Rolled back: the version serving now is the old one; the new one is what it came from.
    await note('rolled-back', reason, {
      version: plan.from?.version ?? '(nothing)',
      fromVersion: plan.to.version,
    });
  else await note('failed', reason);
  throw new StepFailedError(
    `deployment of ${plan.to.version} to ${config.name} failed and was rolled back (${kept}): ${reason}` +
      (result.undoErrors.length > 0 ? `\n  rollback problems: ${result.undoErrors.join('; ')}` : ''),
    {
      fix: `see the check results and evidence above; \`itsctl history -e ${config.name} --deployment ${deploymentId}\` keeps them`,
    },
  );
}
