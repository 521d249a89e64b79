import { existsSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StepFailedError, UsageError } from '@its/core';
import { loadEnvironment } from '../config/environment-config.js';
import { type EnvironmentConfig } from '../config/environment-schema.js';
import { LABEL, environmentLabels, environmentNetwork } from '../containers/container-spec.js';
import { DockerEngine, resolveEngineTarget, type ContainerSummary } from '@its/docker-engine';
import { environmentsDir, stateDirFor } from '../deployment/paths.js';
import { isAlive, who } from '../deployment/session.js';
import { newDeploymentId } from '../deployment/target.js';
import type { DeployContext } from '../deployment/types.js';
import { DeployStore } from '../state/deploy-store.js';
import { loadStack } from './deploy-stack.js';
import { teardownOrder } from './plan-stack.js';
import { SECRETS_FILE } from './stack-secrets.js';

/**
 * `itsctl teardown -e ENV`: removes what an environment runs — every container carrying its labels
 * (replicas, router, accessories, leftover migrations), its network — and keeps what cannot be made
 * again: accessories' volumes and secrets (unless --volumes) and always the history. For the first
 * environment of a stack, the tiers go first (reverse order), the API and its database last.
 */

export interface TeardownOptions {
  environment: string;
  volumes: boolean;
  yes: boolean;
}

export interface EnvironmentTeardown {
  environment: string;
  containers: Array<{ name: string; role: string }>;
  networks: string[];
  volumes: string[];
  /** Volumes left in place (no --volumes): the accessories' data survives for the next deploy. */
  keptVolumes: string[];
  /** What could not be removed, and why (a network still used by another environment). */
  notes: string[];
}

export interface TeardownResult {
  environment: string;
  done: boolean;
  environments: EnvironmentTeardown[];
}

interface Observed {
  containers: ContainerSummary[];
  volumes: string[];
  network: string;
}

/** What teardown removes and keeps for one environment (pure). */
export function planEnvironmentTeardown(
  environment: string,
  observed: Observed,
  volumes: boolean,
  ownsNetwork: boolean,
): EnvironmentTeardown {
  const roleOrder = ['router', 'replica', 'migration', 'accessory'];
  const containers = observed.containers
    .map((c) => ({ name: (c.Names[0] ?? c.Id).replace(/^\//, ''), role: c.Labels[LABEL.role] ?? 'unknown' }))
    // Traffic stops first (router), the database last: replicas never see it vanish under them.
    .sort((a, b) => roleOrder.indexOf(a.role) - roleOrder.indexOf(b.role) || a.name.localeCompare(b.name));
  return {
    environment,
    containers,
    networks: ownsNetwork ? [observed.network] : [],
    volumes: volumes ? observed.volumes : [],
    keptVolumes: volumes ? [] : observed.volumes,
    notes: [],
  };
}

export function renderTeardown(r: TeardownResult): string {
  const lines: string[] = [];
  for (const e of r.environments) {
    lines.push(`${e.environment}:`);
    if (e.containers.length === 0) lines.push('  no containers');
    for (const c of e.containers) lines.push(`  ${r.done ? 'removed' : 'remove'} ${c.role} ${c.name}`);
    for (const n of e.networks) lines.push(`  ${r.done ? 'removed' : 'remove'} network ${n}`);
    for (const v of e.volumes)
      lines.push(`  ${r.done ? 'removed' : 'remove'} volume ${v} (its data is gone)`);
    for (const v of e.keptVolumes) lines.push(`  kept volume ${v} (--volumes removes it)`);
    for (const n of e.notes) lines.push(`  note: ${n}`);
  }
  lines.push(
    r.done
      ? 'history kept (itsctl history -e ENV)'
      : '(nothing was changed: add --yes to remove the above; history is always kept)',
  );
  return lines.join('\n');
}

async function listVolumes(engine: DockerEngine, labels: Record<string, string>): Promise<string[]> {
  const filters = JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });
  const res = await engine.raw('GET', `/volumes?filters=${encodeURIComponent(filters)}`);
  if (res.status !== 200)
    throw new StepFailedError(`Docker Engine: list volumes: ${res.status} ${res.text.trim()}`);
  return ((JSON.parse(res.text) as { Volumes: Array<{ Name: string }> | null }).Volumes ?? [])
    .map((v) => v.Name)
    .sort();
}

async function observeEnvironment(engine: DockerEngine, config: EnvironmentConfig): Promise<Observed> {
  const labels = environmentLabels(config.app, config.name);
  return {
    containers: await engine.listContainers(labels),
    volumes: await listVolumes(engine, { ...labels, [LABEL.role]: 'accessory' }),
    network: environmentNetwork(config),
  };
}

async function removeNetwork(engine: DockerEngine, name: string): Promise<string | undefined> {
  const res = await engine.raw('DELETE', `/networks/${encodeURIComponent(name)}`);
  if (res.status === 204 || res.status === 404) return undefined;
  // 403: other environments' containers (tiers of the same stack) are still attached.
  return `network ${name} kept: ${res.text.trim() || res.status}`;
}

async function tearDownOne(
  ctx: DeployContext,
  engine: DockerEngine,
  config: EnvironmentConfig,
  options: TeardownOptions,
  ownsNetwork: boolean,
): Promise<EnvironmentTeardown> {
  const stateDir = stateDirFor(ctx, config);
  const store = new DeployStore(join(stateDir, 'deploy.sqlite'));
  try {
    const observed = await observeEnvironment(engine, config);
    const plan = planEnvironmentTeardown(config.name, observed, options.volumes, ownsNetwork);
    if (!options.yes) return plan;
    const id = newDeploymentId(ctx.now());
    const lock = store.acquireLock(
      {
        environment: config.name,
        holder: who(ctx.env),
        pid: process.pid,
        host: hostname(),
        reason: `teardown${options.volumes ? ' --volumes' : ''}`,
        deploymentId: id,
      },
      config.lockTtlSeconds,
      { isAlive, hostname: hostname(), now: ctx.now },
    );
    if (lock.takenOver)
      ctx.log(`took over the lock of ${config.name} from ${lock.takenOver.holder}: ${lock.why}`);
    try {
      for (const c of observed.containers) {
        ctx.log(
          `  ▸ removing ${c.Labels[LABEL.role] ?? 'container'} ${(c.Names[0] ?? c.Id).replace(/^\//, '')}`,
        );
        await engine.removeContainer(c.Id);
      }
      const notes: string[] = [];
      if (ownsNetwork) {
        await engine.removeNetworks(environmentLabels(config.app, config.name));
        const kept = await removeNetwork(engine, observed.network);
        if (kept) notes.push(kept);
      }
      for (const v of plan.volumes) {
        const res = await engine.raw('DELETE', `/volumes/${encodeURIComponent(v)}`);
        if (res.status !== 204 && res.status !== 404) notes.push(`volume ${v} kept: ${res.text.trim()}`);
      }
      // The router's files describe servers that no longer exist; the next deploy writes fresh ones.
      rmSync(join(stateDir, 'router'), { recursive: true, force: true });
      // The secrets belong to the data: a new database gets a new password (and the API new keys).
      if (options.volumes && !config.secrets.from && existsSync(join(stateDir, SECRETS_FILE)))
        rmSync(join(stateDir, SECRETS_FILE), { force: true });
      store.audit(
        ctx.now(),
        config.name,
        who(ctx.env),
        'teardown',
        `removed ${observed.containers.length} container(s)${plan.volumes.length ? ` and volume(s) ${plan.volumes.join(', ')}` : ''}`,
      );
      return { ...plan, notes };
    } finally {
      store.releaseLock(config.name, id);
    }
  } finally {
    store.close();
  }
}

export async function teardown(ctx: DeployContext, options: TeardownOptions): Promise<TeardownResult> {
  const dir = environmentsDir(ctx);
  const root = await loadEnvironment(dir, options.environment);
  const engine = new DockerEngine(
    resolveEngineTarget(ctx.env.DOCKER_HOST, ctx.env.ITS_SSH_COMMAND, ctx.env.DOCKER_API_VERSION),
  );
  await engine.ping();
  const configs = new Map<string, EnvironmentConfig>([[root.name, root]]);
  let order = [root.name];
  if (root.stack) {
    const { tiers, plan } = await loadStack({ loadEnvironment: (n) => loadEnvironment(dir, n) }, root);
    for (const t of tiers) configs.set(t.name, t);
    order = teardownOrder(plan);
  }
  const environments: EnvironmentTeardown[] = [];
  for (const name of order) {
    const config = configs.get(name)!;
    // A shared network goes with the stack's first environment, once every tier has left it.
    const ownsNetwork =
      !root.stack || name === root.name || environmentNetwork(config) !== environmentNetwork(root);
    if (options.yes) ctx.log(`tearing down ${name}`);
    environments.push(await tearDownOne(ctx, engine, config, options, ownsNetwork));
  }
  return { environment: root.name, done: options.yes, environments };
}

/** Without --yes nothing is removed: the command shows what would be and asks for --yes. */
export function requireConfirmation(result: TeardownResult): void {
  if (!result.done)
    throw new UsageError(`teardown of ${result.environment} needs --yes\n${renderTeardown(result)}`, {
      fix: `itsctl teardown -e ${result.environment} --yes${result.environments.some((e) => e.keptVolumes.length > 0) ? ' (add --volumes to delete the data too)' : ''}`,
    });
}
