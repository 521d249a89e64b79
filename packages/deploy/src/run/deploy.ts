import { existsSync, readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError, StepFailedError, UsageError } from '@its/core';
import { readDockerConfig, resolveCredentials } from '@its/registry';
import { RegistryClient } from '@its/registry';
import { verifyImageSignature } from '@its/registry';
import {
  STRATEGIES,
  VERSION_PATTERN,
  loadEnvironment,
  parseEnvFile,
  type EnvironmentConfig,
  type Strategy,
} from '../config/environment-config.js';
import { routerName } from '../containers/container-spec.js';
import { DockerEngine, resolveEngineTarget } from '@its/docker-engine';
import { registryAuthHeader } from '@its/docker-engine';
import type { CheckResult } from '../health/checks.js';
import { planBlueGreen } from '../plan/plan-blue-green.js';
import { planCanary } from '../plan/plan-canary.js';
import { planRollback } from '../plan/plan-rollback.js';
import { keptSetExpired, planRetireIdle } from '../plan/plan-retire.js';
import { planRolling } from '../plan/plan-rolling.js';
import { renderPlan } from '../plan/render-plan.js';
import type { ObservedState, Plan, PlanSettings, Step, Target } from '../plan/types.js';
import { currentVersion, otherSlot, servingReplicas } from '../plan/types.js';
import { DeployStore, type DeploymentRecord, type LockRecord } from '../state/deploy-store.js';
import type { EvidenceEntry } from './canary-analysis.js';
import { executePlan, undo } from './execute-plan.js';
import { createNotifier, type Notification } from '../notify/slack-webhook.js';
import { abortableSleep, createRouter, observe, type Runtime } from './runtime.js';
import {
  accessoriesStatus,
  ensureAccessories,
  planAccessories,
  renderAccessoryStatus,
  type AccessoryStatus,
} from '../accessories/ensure-accessories.js';
import {
  deployStack,
  renderStackStatus,
  renderStackSummary,
  statusStack,
  type StackDeps,
  type StackResult,
  type StackStatus,
} from '../stack/deploy-stack.js';
import { routerUrl } from '../stack/plan-stack.js';
import { loadSecrets, resolveEnvironmentSecrets } from '../stack/stack-secrets.js';

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
  url: string;
  plan: Plan;
  /** Set on the first environment of a stack: every tier's summary (stack/deploy-stack.ts). */
  stack?: StackResult;
}

export function findRepoRoot(cwd: string): string {
  let dir = resolve(cwd);
  for (;;) {
    if (existsSync(join(dir, 'deploy', 'environments'))) return dir;
    const parent = resolve(dir, '..');
    if (parent === dir) return resolve(cwd);
    dir = parent;
  }
}

export function environmentsDir(ctx: DeployContext): string {
  return ctx.environmentsDir ?? join(findRepoRoot(ctx.cwd), 'deploy', 'environments');
}

export function stateDirFor(ctx: DeployContext, config: EnvironmentConfig): string {
  const root = findRepoRoot(ctx.cwd);
  if (ctx.stateDir) return join(ctx.stateDir, config.name);
  if (config.stateDir) return isAbsolute(config.stateDir) ? config.stateDir : join(root, config.stateDir);
  return join(root, '.state', 'deploy', config.name);
}

export function planSettings(config: EnvironmentConfig): PlanSettings {
  return {
    environment: config.name,
    app: config.app,
    replicas: config.replicas,
    batchSize: config.strategy.batchSize,
    keepPreviousSeconds: config.strategy.keepPreviousSeconds,
    drainTimeoutMs: config.router.drainTimeoutMs,
    migration: config.migrations?.command,
    stopFirst: config.strategy.order === 'stop-first',
    watchSeconds: config.watch.seconds,
    canary: {
      replicas: config.strategy.canary.replicas,
      steps: config.strategy.canary.steps,
      baseline: config.strategy.canary.analysis.baseline,
    },
  };
}

/** Picks the planner the options call for; no I/O. */
export function selectStrategy(config: EnvironmentConfig, requested: string | undefined): Strategy {
  const strategy = requested ?? config.strategy.default;
  if (!(STRATEGIES as readonly string[]).includes(strategy))
    throw new UsageError(`unknown strategy "${strategy}"`, { fix: `use one of: ${STRATEGIES.join(', ')}` });
  if (config.strategy.order === 'stop-first' && strategy !== 'rolling')
    throw new UsageError(
      `strategy "${strategy}" runs both versions at once, which ${config.name}'s strategy.order: stop-first forbids`,
      { fix: 'use -s rolling (stop-first), or set strategy.order: start-first' },
    );
  return strategy as Strategy;
}

export function validateVersion(version: string): void {
  if (!VERSION_PATTERN.test(version))
    throw new UsageError(`version "${version}" is not a valid image tag`, {
      fix: 'use letters, digits, ".", "-" and "_" only (at most 128 characters), e.g. 1.4.2 or 1.4.2-rc.1',
    });
}

interface Resolved {
  target: Omit<Target, 'deploymentId'>;
}

function splitRegistry(repository: string): { registry: string; path: string } | undefined {
  const first = repository.split('/')[0]!;
  if (!repository.includes('/') || !(first.includes('.') || first.includes(':') || first === 'localhost'))
    return undefined;
  return { registry: first, path: repository.slice(first.length + 1) };
}

/** Finds the version's image and pins it by digest; unknown versions list what exists. */
export async function resolveTarget(
  engine: DockerEngine,
  config: EnvironmentConfig,
  version: string,
  cwd: string,
  env: Record<string, string | undefined> = {},
): Promise<Resolved> {
  validateVersion(version);
  const repo = config.image.repository;
  if (config.image.source === 'local') {
    if (config.image.requireSignature)
      throw new ConfigError(
        `image.requireSignature: signatures are checked in a registry; set image.source: registry for ${config.name}`,
      );
    const image = await engine.inspectImage(`${repo}:${version}`);
    if (!image) {
      const tags = await engine.listLocalTags(repo);
      throw new UsageError(`version "${version}" of ${repo} is not on this engine`, {
        fix:
          tags.length > 0
            ? `versions that exist: ${tags.join(', ')}`
            : `no ${repo} image exists here; build one (itsctl build) or tag one`,
      });
    }
    const digest = image.RepoDigests?.find((d) => d.startsWith(`${repo}@`))?.split('@')[1] ?? image.Id;
    return { target: { version, image: image.Id, digest } };
  }
  const where = splitRegistry(repo);
  if (!where)
    throw new ConfigError(
      `image.repository: "${repo}" names no registry host (expected HOST[:PORT]/PATH) while image.source is registry`,
    );
  // The same credentials for our manifest reads and the engine's pull (X-Registry-Auth), when configured.
  const credentials = resolveCredentials({
    registry: where.registry,
    env,
    dockerConfig: await readDockerConfig(env),
  });
  const client = new RegistryClient({ registry: where.registry, credentials });
  const descriptor = await client.headManifest(where.path, version);
  if (!descriptor) {
    const tags = (await client.listTags(where.path)).filter((t) => !t.startsWith('sha256-')).sort();
    throw new UsageError(`version "${version}" is not in ${repo}`, {
      fix:
        tags.length > 0
          ? `versions that exist: ${tags.join(', ')}`
          : `${repo} has no tags; publish one (itsctl publish)`,
    });
  }
  if (config.image.requireSignature) {
    const keys = config.image.publicKeys.map((k) =>
      readFileSync(isAbsolute(k) ? k : join(findRepoRoot(cwd), k), 'utf8'),
    );
    // Refuses unsigned or wrongly signed images before anything runs (supply-chain/signing.ts).
    await verifyImageSignature(client, where.path, descriptor.digest, keys);
  }
  const pinned = `${repo}@${descriptor.digest}`;
  if (!(await engine.inspectImage(pinned)))
    await engine.pullImage(
      repo,
      version,
      credentials ? registryAuthHeader(credentials, where.registry) : undefined,
    );
  return { target: { version, image: pinned, digest: descriptor.digest } };
}

function replicaEnv(config: EnvironmentConfig, root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const file of config.envFiles) {
    const path = isAbsolute(file) ? file : join(root, file);
    if (!existsSync(path))
      throw new ConfigError(`envFiles: ${file} does not exist`, {
        fix: `create it (see ${file}.example) or remove it from envFiles`,
      });
    Object.assign(out, parseEnvFile(readFileSync(path, 'utf8')));
  }
  return { ...out, ...config.env };
}

export function newDeploymentId(now: Date, random: () => number = Math.random): string {
  return `${now.getTime().toString(36).slice(-6)}${Math.floor(random() * 36 ** 3)
    .toString(36)
    .padStart(3, '0')}`;
}

export interface Session {
  config: EnvironmentConfig;
  engine: DockerEngine;
  store: DeployStore;
  runtime: Runtime;
  undoRuntime: Runtime;
  stateDir: string;
  /** Accessories' environments with their ${SECRET} references resolved. */
  accessoryEnv: Record<string, Record<string, string>>;
}

/** Reads the environment file and builds the runtime; nothing changes yet. */
export async function openSession(ctx: DeployContext, environment: string): Promise<Session> {
  const config = await loadEnvironment(environmentsDir(ctx), environment);
  const engine = new DockerEngine(
    resolveEngineTarget(ctx.env.DOCKER_HOST, ctx.env.ITS_SSH_COMMAND, ctx.env.DOCKER_API_VERSION),
  );
  const stateDir = stateDirFor(ctx, config);
  const routerDir = join(stateDir, 'router');
  const now = () => Date.now();
  const plainSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const router = createRouter(routerDir, plainSleep, now);
  // ${NAME} references resolve from the environment, env files and <state>/secrets.env (stack-secrets.ts).
  const fileEnv = replicaEnv(config, findRepoRoot(ctx.cwd));
  const secretsDir = config.secrets.from
    ? stateDirFor(ctx, await loadEnvironment(environmentsDir(ctx), config.secrets.from))
    : stateDir;
  const secrets = loadSecrets({
    secretsDir,
    generate: config.secrets.generate,
    processEnv: ctx.env,
    fileEnv,
  });
  const resolvedEnv = resolveEnvironmentSecrets(config, fileEnv, secrets.vars, secrets.file);
  const base = {
    config,
    engine,
    router,
    routerDir,
    replicaEnv: resolvedEnv.replicaEnv,
    progress: ctx.log,
    now,
    // Replaced by deploy() once the deployment has an id: evidence outside a deployment is dropped.
    evidence: () => {},
    versions: {},
    // Shared by the runtime and the undo runtime: one command, one router.
    joinedAt: new Map<string, number>(),
  };
  const runtime: Runtime = { ...base, sleep: abortableSleep(ctx.signal), signal: ctx.signal };
  const undoRuntime: Runtime = { ...base, sleep: plainSleep, signal: new AbortController().signal };
  return {
    config,
    engine,
    store: new DeployStore(join(stateDir, 'deploy.sqlite')),
    runtime,
    undoRuntime,
    stateDir,
    accessoryEnv: resolvedEnv.accessoryEnv,
  };
}

/** Who deploys, for locks and history: ITS_DEPLOY_USER, else the login. */
export function who(env: Record<string, string | undefined>): string {
  try {
    return env.ITS_DEPLOY_USER ?? env.USER ?? userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** Whether a lock holder's process (on this host) still lives. */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Finds deployments a killed command left half done and undoes the steps they had started, from
 * their journal; the runtime is read again afterwards. Says what it did.
 */
export async function recoverInterrupted(
  session: Session,
  ctx: DeployContext,
  ownId: string,
): Promise<string[]> {
  const notes: string[] = [];
  for (const d of session.store.unfinished(session.config.name)) {
    if (d.id === ownId) continue;
    const journal = session.store.journal(d.id);
    const started = journal
      .filter((j) => j.state !== 'undone')
      .map((j) => ({ seq: j.seq, undo: j.undo as Step[] }));
    const finalizing = journal.some((j) => j.state !== 'undone' && isFinalize(j.step));
    ctx.log(
      `found deployment ${d.id} (${d.version}, started ${d.startedAt} by ${d.who}, pid ${d.pid}) interrupted after ${journal.length} step(s)`,
    );
    if (finalizing) {
      // It had switched and was retiring the old set: the new version serves; leftovers are stray
      // containers the next plan removes.
      ctx.log('  it had already moved all traffic; completing it: leftovers are removed by this deployment');
      session.store.finishDeployment(
        d.id,
        'recovered',
        ctx.now(),
        'interrupted while retiring the previous version; completed by a later command',
        [],
      );
      notes.push(`completed interrupted deployment ${d.id}`);
      continue;
    }
    ctx.log('  cleaning up: undoing its steps so the previous version serves');
    const result = await undo(session.undoRuntime, started, {
      mark: (seq, state) => session.store.journalMark(d.id, seq, state),
    });
    session.store.finishDeployment(
      d.id,
      'interrupted',
      ctx.now(),
      `interrupted; cleaned up by a later command${result.undoErrors.length ? `: ${result.undoErrors.join('; ')}` : ''}`,
      [],
    );
    session.store.audit(
      ctx.now(),
      session.config.name,
      who(ctx.env),
      'recover',
      `undid ${started.length} step(s) of ${d.id}`,
    );
    notes.push(`cleaned up interrupted deployment ${d.id}`);
  }
  return notes;
}

function isFinalize(step: unknown): boolean {
  return (step as { phase?: string }).phase === 'finalize';
}

function previousTarget(
  history: DeploymentRecord[],
  observed: ObservedState,
): Omit<Target, 'deploymentId'> | undefined {
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

export interface RetireResult {
  environment: string;
  retired: string[];
  reason: string;
}

/**
 * `itsctl retire`: removes the set kept in the idle slot once its rollback window has passed (or at
 * once with force). Takes the lock like a deployment; the serving slot is never touched.
 */
export async function retireKept(
  ctx: DeployContext,
  environment: string,
  force: boolean,
): Promise<RetireResult> {
  const session = await openSession(ctx, environment);
  const { config, store } = session;
  try {
    await session.engine.ping();
    const id = newDeploymentId(ctx.now());
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

/** The environment's URL as printed in summaries and status (stack/plan-stack.ts's routerUrl). */
export function publicUrl(config: EnvironmentConfig): string {
  return routerUrl(config.router);
}

function stackDeps(ctx: DeployContext): StackDeps {
  return {
    loadEnvironment: (name) => loadEnvironment(environmentsDir(ctx), name),
    stateDirOf: (config) => stateDirFor(ctx, config),
    deployEnvironment,
    statusEnvironment,
  };
}

/** `itsctl deploy`: one environment, or, when its file lists `stack.tiers`, the whole stack. */
export async function deploy(ctx: DeployContext, options: DeployOptions): Promise<DeploySummary> {
  if (options.version !== undefined) validateVersion(options.version);
  const config = await loadEnvironment(environmentsDir(ctx), options.environment);
  if (!config.stack) return deployEnvironment(ctx, options);
  return deployStack(ctx, options, config, stackDeps(ctx));
}

/** One environment: validate everything first, then lock, recover, observe, plan, execute. */
export async function deployEnvironment(ctx: DeployContext, options: DeployOptions): Promise<DeploySummary> {
  const startedAt = ctx.now();
  if (options.version !== undefined) validateVersion(options.version);
  const session = await openSession(ctx, options.environment);
  const { config, engine, store } = session;
  try {
    const strategy = selectStrategy(config, options.strategy);
    await engine.ping();
    const deploymentId = newDeploymentId(startedAt);
    const settings = planSettings(config);
    let resolved: Resolved | undefined;
    if (!options.rollback)
      resolved = await resolveTarget(
        engine,
        config,
        options.version ?? config.image.defaultVersion,
        ctx.cwd,
        ctx.env,
      );
    else if (options.version !== undefined)
      throw new UsageError('--rollback returns to the previous version; it takes no -v', {
        fix: 'drop -v, or deploy that version without --rollback',
      });

    const makePlan = (observed: ObservedState): Plan => {
      if (resolved) {
        const target = { ...resolved.target, deploymentId };
        if (strategy === 'blue-green') return planBlueGreen(observed, settings, target);
        const plan =
          strategy === 'canary'
            ? planCanary(observed, settings, target)
            : planRolling(observed, settings, target);
        // A set kept by an earlier blue-green switch is retired once its rollback window has passed.
        if (!keptSetExpired(settings, idleSince(store.history(config.name, 200)), ctx.now())) return plan;
        const retire = planRetireIdle(observed);
        return retire.length === 0
          ? plan
          : {
              ...plan,
              steps: [...retire, ...plan.steps],
              note: 'the set kept for rollback is past its window: retired first',
            };
      }
      const prev = previousTarget(store.history(config.name, 200), observed);
      const plan = planRollback(observed, settings, {
        // The previous version served before: it goes back at once, without a canary's analysis.
        strategy: strategy === 'canary' ? 'rolling' : strategy,
        previous: prev ? { ...prev, deploymentId } : undefined,
      });
      if (!plan)
        throw new UsageError(
          `nothing to roll back to in ${config.name}: no earlier successful deployment of another version`,
          { fix: `itsctl history -e ${config.name}` },
        );
      return plan;
    };

    if (options.dryRun) {
      for (const line of await planAccessories(engine, config)) ctx.log(line);
      const observed = await observe(session.runtime);
      const plan = makePlan(observed);
      return summary(ctx, config, deploymentId, options, plan, 'dry-run', startedAt, [], [], []);
    }

    const lock = store.acquireLock(
      {
        environment: config.name,
        holder: who(ctx.env),
        pid: process.pid,
        host: hostname(),
        reason: options.rollback ? 'rollback' : `deploy ${resolved?.target.version}`,
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
      const observed = await observe(session.runtime);
      const plan = makePlan(observed);
      ctx.log(renderPlan(plan));
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
      // Never throws and never waits long: a webhook's trouble is logged, the deployment goes on.
      const notifier = createNotifier(ctx.env, ctx.log);
      const note = (
        event: Notification['event'],
        sentence?: string,
        versions: { version: string; fromVersion?: string } = {
          version: plan.to.version,
          ...(plan.from ? { fromVersion: plan.from.version } : {}),
        },
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
      await note('started');
      const evidence: EvidenceEntry[] = [];
      const keep = (entry: EvidenceEntry) => {
        evidence.push(entry);
        store.addEvidence(deploymentId, entry);
      };
      const versions = { version: plan.to.version, previous_version: plan.from?.version ?? '' };
      for (const rt of [session.runtime, session.undoRuntime])
        Object.assign(rt, { evidence: keep, versions });
      const result = await executePlan(
        session.runtime,
        plan,
        {
          start: (seq, step, undoSteps) => {
            // The phase travels with the step so recovery knows whether traffic had fully moved.
            store.journalStart(deploymentId, seq, { ...step, phase: plan.steps[seq]?.phase }, undoSteps);
            store.refreshLock(config.name, deploymentId, config.lockTtlSeconds, ctx.now());
          },
          mark: (seq, state) => store.journalMark(deploymentId, seq, state),
        },
        session.undoRuntime,
      );
      const checks = result.checks;
      if (!result.ok) {
        const failure = result.failure!;
        const reason = failure.error.message;
        store.finishDeployment(
          deploymentId,
          result.undoErrors.length === 0 ? 'rolled-back' : 'failed',
          ctx.now(),
          reason,
          checks,
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
      store.finishDeployment(deploymentId, 'succeeded', ctx.now(), null, checks);
      const verdicts = evidence.filter((e) => e.kind === 'canary-step' && e.verdict === 'pass');
      await note(
        options.rollback ? 'rolled-back' : 'succeeded',
        options.rollback
          ? `returned to ${plan.to.version} on request`
          : verdicts.length > 0
            ? `${verdicts.length} canary step(s) passed; last: ${verdicts[verdicts.length - 1]!.sentence}`
            : undefined,
      );
      return summary(
        ctx,
        config,
        deploymentId,
        options,
        plan,
        'succeeded',
        startedAt,
        checks,
        [...accessories.warnings, ...result.warnings],
        evidence,
      );
    } finally {
      store.releaseLock(config.name, deploymentId);
    }
  } finally {
    store.close();
  }
}

function summary(
  ctx: DeployContext,
  config: EnvironmentConfig,
  deploymentId: string,
  options: DeployOptions,
  plan: Plan,
  outcome: DeploySummary['outcome'],
  startedAt: Date,
  checks: CheckResult[],
  warnings: string[],
  evidence: EvidenceEntry[],
): DeploySummary {
  return {
    environment: config.name,
    deploymentId,
    action: options.rollback ? 'rollback' : 'deploy',
    strategy: plan.strategy,
    outcome,
    from: plan.from,
    version: plan.to.version,
    digest: plan.to.digest,
    image: plan.to.image,
    durationMs: ctx.now().getTime() - startedAt.getTime(),
    checks,
    evidence,
    warnings,
    url: publicUrl(config),
    plan,
  };
}

export function renderSummary(s: DeploySummary): string {
  if (s.outcome === 'dry-run')
    return [
      ...(s.stack ? s.stack.tiers.map((t) => renderPlan(t.plan)) : [renderPlan(s.plan)]),
      ...(s.stack ? renderStackSummary(s.stack) : []),
      '(dry run: nothing was changed)',
    ].join('\n');
  const passed = s.checks.filter((c) => c.ok);
  const byName = [...new Set(passed.map((c) => c.check))];
  return [
    `${s.action === 'rollback' ? 'rolled back' : 'deployed'} ${s.environment}: ${s.from ? `${s.from.version} → ` : ''}${s.version}`,
    `  digest:   ${s.digest}`,
    `  strategy: ${s.strategy}`,
    `  duration: ${(s.durationMs / 1000).toFixed(1)} s`,
    `  checks:   ${passed.length} passed (${byName.join(', ') || 'none run'})`,
    ...s.evidence.map(
      (e) =>
        `  ${e.kind === 'watch' ? 'watch:    ' : `canary ${e.step}/${e.of} at ${e.weight} %:`} ${e.verdict} — ${e.sentence}`,
    ),
    `  url:      ${s.url}`,
    ...s.warnings.map((w) => `  warning:  ${w}`),
    ...(s.stack ? renderStackSummary(s.stack) : []),
  ].join('\n');
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

/** `itsctl status`: one environment, or every tier of a stack. */
export async function status(ctx: DeployContext, environment: string): Promise<StatusReport> {
  const first = await statusEnvironment(ctx, environment);
  const config = await loadEnvironment(environmentsDir(ctx), environment);
  return config.stack ? statusStack(ctx, config, stackDeps(ctx), first) : first;
}

export async function statusEnvironment(ctx: DeployContext, environment: string): Promise<StatusReport> {
  const session = await openSession(ctx, environment);
  try {
    await session.engine.ping();
    const observed = await observe(session.runtime);
    const state = (slot: string, server: string) => {
      const s = observed.router.servers.find((x) => x.slot === slot && x.server === server);
      return s ? `${s.state} ${s.status}, weight ${s.weight}, ${s.sessions} session(s)` : 'not in router';
    };
    return {
      environment,
      url: publicUrl(session.config),
      router: { running: observed.router.running, activeSlot: observed.router.activeSlot },
      serving: currentVersion(observed),
      replicas: observed.replicas.map((r) => ({ ...r, router: state(r.slot, r.server) })),
      lock: session.store.readLock(environment),
      last: session.store.history(environment, 1)[0],
      ...keptSet(observed, session),
      ...(Object.keys(session.config.accessories).length > 0
        ? { accessories: await accessoriesStatus(session.engine, session.config) }
        : {}),
    };
  } finally {
    session.store.close();
  }
}

function keptSet(observed: ObservedState, session: Session): Pick<StatusReport, 'kept'> {
  const idle = otherSlot(observed.router.activeSlot);
  const kept = servingReplicas(observed, idle)[0];
  if (!kept) return {};
  const since = idleSince(session.store.history(session.config.name, 200));
  const until = since
    ? new Date(since.getTime() + session.config.strategy.keepPreviousSeconds * 1000).toISOString()
    : undefined;
  return { kept: { slot: idle, version: kept.version, until } };
}

export function renderStatus(s: StatusReport): string {
  const lines = [
    `${s.environment}: ${s.serving ? `serving ${s.serving.version} (${s.serving.digest})` : 'nothing serving'} at ${s.url}`,
    `  router: ${s.router.running ? `running, traffic on slot ${s.router.activeSlot}` : 'not running'}`,
    ...s.replicas.map(
      (r) =>
        `  ${r.name}: ${r.version} slot ${r.slot}${r.slot === s.router.activeSlot ? ' (live)' : ''}${r.baseline ? ', fresh canary baseline (removed when the canary ends)' : ''}, ${r.running ? 'running' : 'stopped'}, router: ${r.router}`,
    ),
    `  lock: ${s.lock ? `held by ${s.lock.holder} (pid ${s.lock.pid} on ${s.lock.host}) since ${s.lock.acquiredAt}: ${s.lock.reason}` : 'free'}`,
  ];
  if (s.kept)
    lines.push(
      `  kept for rollback: ${s.kept.version} in slot ${s.kept.slot}, until ${s.kept.until ?? 'retired by hand (no switch in history)'} (then \`itsctl retire\`)`,
    );
  if (s.last)
    lines.push(
      `  last deployment: ${s.last.id} ${s.last.action} ${s.last.version} ${s.last.outcome} at ${s.last.startedAt}${s.last.reason ? ` (${s.last.reason})` : ''}`,
    );
  lines.push(...(s.accessories ?? []).map(renderAccessoryStatus));
  if (s.stack) lines.push(...renderStackStatus(s.stack, renderStatus));
  return lines.join('\n');
}

export async function withStore<T>(
  ctx: DeployContext,
  environment: string,
  fn: (store: DeployStore, config: EnvironmentConfig) => T,
): Promise<T> {
  const config = await loadEnvironment(environmentsDir(ctx), environment);
  const store = new DeployStore(join(stateDirFor(ctx, config), 'deploy.sqlite'));
  try {
    return fn(store, config);
  } finally {
    store.close();
  }
}

export { routerName };
