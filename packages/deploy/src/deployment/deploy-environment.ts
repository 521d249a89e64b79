import { hostname } from 'node:os';
import { StepFailedError } from '@its/core';
import { ensureAccessories, planAccessories } from '../accessories/ensure-accessories.js';
import { executePlan, type ExecutionResult } from '../apply/execute-plan.js';
import { observe, observeReplicas, restoreLostRouter, routerCondition } from '../apply/runtime.js';
import type { EnvironmentConfig } from '../config/environment-schema.js';
import { routerName } from '../containers/container-spec.js';
import { createNotifier, type Notification } from '../notify/slack-webhook.js';
import { renderPlan } from '../plan/render-plan.js';
import type { ObservedState, Plan } from '../plan/types.js';
import { describeRouterLoss } from '../router/router-recovery.js';
import { LockHeldError, lockTakeover, type DeploymentRecord } from '../state/deploy-store.js';
import { planDeployment } from './plan-deployment.js';
import { createPreflight, type Preflight } from './preflight.js';
import { recoverInterrupted } from './recover.js';
import { isAlive, openSession, who, type Session } from './session.js';
import { planSettings } from './settings.js';
import { summaryOf } from './summary.js';
import {
  UNRESOLVED_DIGEST,
  missingPublicKeys,
  newDeploymentId,
  resolveTarget,
  selectStrategy,
  unresolvedTarget,
  type ResolvedTarget,
} from './target.js';
import type { DeployContext, DeployOptions, DeploySummary } from './types.js';

/**
 * One environment, as a short list of named steps (Kamal's deploy, Argo's observe → plan → apply):
 *
 *   1. check      the env files and secrets, the strategy, the engine, the version (resolved and
 *                 pinned by digest, its signature verified)
 *   2. lock       the environment, taking over a dead holder's lock
 *   3. recover    recreate a router whose state directory was deleted under it; undo what a killed
 *                 command left half done
 *   4. accessories PostgreSQL, Redis … running and healthy, never replaced
 *   5. observe    replicas from container labels, traffic from the router
 *   6. plan       one pure planner returns every step, its undo and each canary step's judgment
 *   7. apply      step by step, journaled; a failure before finalize undoes what started
 *   8. record     outcome, checks and evidence in the store; notifications
 *
 * A dry run stops after 6 and changes nothing: where a check fails it notes "would fail: …", goes on
 * with what it knows, and plans anyway (preflight.ts). The config comes loaded (deploy() or the stack
 * loaded it once).
 */
export async function deployEnvironment(
  ctx: DeployContext,
  options: DeployOptions,
  config: EnvironmentConfig,
): Promise<DeploySummary> {
  const startedAt = ctx.now();
  // 1. check — the arguments before anything is written (the session creates the store and secrets).
  const strategy = selectStrategy(config, options.strategy);
  const deploymentId = newDeploymentId(startedAt);
  const preflight = createPreflight(options.dryRun === true, ctx.log);
  const session = await openSession(ctx, config, deploymentId, preflight);
  try {
    const engineUp = await preflight.check(
      async () => {
        await session.engine.ping();
        return true;
      },
      () => false,
    );
    const target = options.rollback
      ? undefined
      : await checkTarget(session, ctx, preflight, options.version ?? config.image.defaultVersion, engineUp);
    const run: Run = {
      session,
      ctx,
      options,
      deploymentId,
      startedAt,
      // 5–6. observe, plan: one pure planner over what the runtime shows.
      plan: async (observed) =>
        planDeployment(observed ?? (await observe(session.runtime)), {
          strategy,
          settings: planSettings(config),
          deploymentId,
          target: target?.resolved,
          history: session.store.history(config.name, 200),
          now: ctx.now(),
        }),
    };
    return options.dryRun
      ? await planOnly(run, preflight, target, engineUp)
      : await lockAndApply(run, target);
  } finally {
    session.store.close();
  }
}

/** One deployment's context, shared by its steps. */
interface Run {
  session: Session;
  ctx: DeployContext;
  options: DeployOptions;
  deploymentId: string;
  startedAt: Date;
  /** Observes (unless given what to plan against) and plans. */
  plan: (observed?: ObservedState) => Promise<Plan>;
}

/** A dry run: everything up to the plan, what would fail noted instead of raised; nothing changes. */
async function planOnly(
  run: Run,
  preflight: Preflight,
  target: { resolved: ResolvedTarget; note?: string } | undefined,
  engineUp: boolean,
): Promise<DeploySummary> {
  const { session, ctx } = run;
  const { config, engine, store } = session;
  const notes = target?.note ? [target.note] : [];
  const held = store.readLock(config.name);
  if (held && lockTakeover(held, { isAlive, hostname: hostname(), now: ctx.now }) === undefined)
    preflight.fail(new LockHeldError(held));
  let observed: ObservedState = NOTHING_OBSERVED;
  if (!engineUp) notes.push('the Docker Engine did not answer: planned as if nothing ran there yet');
  else {
    for (const line of await preflight.check(
      () => planAccessories(engine, config),
      () => [],
    ))
      ctx.log(line);
    observed = await observeForDryRun(
      session,
      ctx,
      preflight,
      notes,
      lastDigest(store.history(config.name, 200)),
    );
  }
  const plan = withNotes(await run.plan(observed), notes);
  return summaryOf(
    ctx,
    config,
    run.deploymentId,
    run.options,
    plan,
    'dry-run',
    run.startedAt,
    [],
    [],
    [],
    preflight.problems,
  );
}

/** 2–8: lock, recover, accessories, observe, plan, apply, record. */
async function lockAndApply(
  run: Run,
  target: { resolved: ResolvedTarget } | undefined,
): Promise<DeploySummary> {
  const { session, ctx, options, deploymentId, startedAt } = run;
  const { config, engine, store } = session;
  const lock = store.acquireLock(
    {
      environment: config.name,
      holder: who(ctx.env),
      pid: process.pid,
      host: hostname(),
      reason: options.rollback ? 'rollback' : `deploy ${target?.resolved.version}`,
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
    // Before anything talks to the router: one whose directory was deleted cannot be driven.
    const restored = await restoreLostRouter(
      session.undoRuntime,
      lastDigest(store.history(config.name, 200)),
    );
    if (restored) ctx.log(restored);
    await recoverInterrupted(session, ctx, deploymentId);
    // Accessories (PostgreSQL, Redis) run and are healthy before any replica starts; never replaced.
    const accessories = await ensureAccessories(
      { engine, log: ctx.log, now: () => ctx.now().getTime(), sleep: session.runtime.sleep },
      config,
      session.accessoryEnv,
    );
    const plan = await run.plan();
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
}

/** What a dry run plans against when the engine cannot be asked: nothing runs, the router is stopped. */
const NOTHING_OBSERVED: ObservedState = {
  replicas: [],
  router: { running: false, activeSlot: 'blue', servers: [] },
};

/** The digest of the last successful deployment: evidence of the serving slot for a lost router. */
function lastDigest(history: DeploymentRecord[]): string | undefined {
  return history.find((d) => d.outcome === 'succeeded')?.digest;
}

/** The plan with a dry run's notes (what it could not know and assumed) added to its own. */
function withNotes(plan: Plan, notes: string[]): Plan {
  const all = [...(plan.note ? [plan.note] : []), ...notes];
  return all.length > 0 ? { ...plan, note: all.join('; ') } : plan;
}

/**
 * The version to deploy, resolved and pinned (the check step). A dry run looks for every missing
 * signature key first, so they are named even when the registry cannot be asked, and pulls nothing;
 * when the version cannot be resolved it plans with the tag and says so.
 */
async function checkTarget(
  session: Session,
  ctx: DeployContext,
  preflight: Preflight,
  version: string,
  engineUp: boolean,
): Promise<{ resolved: ResolvedTarget; note?: string }> {
  const { config, engine } = session;
  const resolve = () => resolveTarget(engine, config, version, ctx.cwd, ctx.env, { pull: !preflight.dryRun });
  if (!preflight.dryRun) return { resolved: await resolve() };
  for (const missing of missingPublicKeys(config, ctx.cwd)) preflight.fail(missing);
  // Local images are the engine's: without it there is nothing to ask (the engine is already listed).
  const resolved =
    engineUp || config.image.source === 'registry'
      ? await preflight.check<ResolvedTarget | undefined>(resolve, () => undefined)
      : undefined;
  if (resolved) return { resolved };
  const fallback = unresolvedTarget(config, version);
  return {
    resolved: fallback,
    note: `version ${version} could not be resolved: planned with ${fallback.image}, ${UNRESOLVED_DIGEST}`,
  };
}

/**
 * What a dry run plans against: the runtime as observe() sees it, a router whose directory was deleted
 * as the deploy will recreate it (said as a note), and — when the router cannot be read — the replicas
 * with the router taken as stopped.
 */
async function observeForDryRun(
  session: Session,
  ctx: DeployContext,
  preflight: Preflight,
  notes: string[],
  digest: string | undefined,
): Promise<ObservedState> {
  const rt = session.runtime;
  const { condition } = await preflight.check(
    () => routerCondition(rt),
    () => ({ condition: { kind: 'absent' as const }, id: undefined }),
  );
  if (condition.kind === 'lost')
    notes.push(
      `${describeRouterLoss(routerName(session.config.app, session.config.name), rt.routerDir, condition.what)}: the deploy will recreate it from the running replicas and restart the router (new connections refused for about a second)`,
    );
  return preflight.check(
    () => observe(rt, { lostRouter: { lastDigest: digest } }),
    async () => {
      notes.push('the router could not be read: planned as if it were stopped');
      const replicas = await preflight.check(
        () => observeReplicas(rt),
        () => [],
      );
      return { replicas, router: { running: false, activeSlot: 'blue', servers: [] } };
    },
  );
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

/** `<fix>; ` of an error that says what to do, or undefined. */
function stepFix(error: Error): string | undefined {
  const fix = (error as { fix?: unknown }).fix;
  return typeof fix === 'string' && fix !== '' ? `${fix}; ` : undefined;
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
      // The failed step's own fix first (a port another process holds…), when it has one.
      fix:
        (stepFix(result.failure!.error) ?? '') +
        `see the check results and evidence above; \`itsctl history -e ${config.name} --deployment ${deploymentId}\` keeps them`,
    },
  );
}
