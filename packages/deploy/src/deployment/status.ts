import { join } from 'node:path';
import { accessoriesStatus, renderAccessoryStatus } from '../accessories/ensure-accessories.js';
import { observe } from '../apply/runtime.js';
import { loadEnvironment } from '../config/environment-config.js';
import { type EnvironmentConfig } from '../config/environment-schema.js';
import type { ObservedState } from '../plan/types.js';
import { currentVersion, otherSlot, servingReplicas } from '../plan/types.js';
import { renderStackStatus } from '../stack/deploy-stack.js';
import { DeployStore } from '../state/deploy-store.js';
import { environmentsDir, stateDirFor } from './paths.js';
import { idleSince } from './plan-deployment.js';
import { openSession, type Session } from './session.js';
import { publicUrl } from './settings.js';
import { newDeploymentId } from './target.js';
import type { DeployContext, StatusReport } from './types.js';

/** What runs in one environment: replicas, router, lock, last deployment, kept set, accessories. */
export async function statusEnvironment(
  ctx: DeployContext,
  config: EnvironmentConfig,
): Promise<StatusReport> {
  const session = await openSession(ctx, config, newDeploymentId(ctx.now()));
  try {
    await session.engine.ping();
    const observed = await observe(session.runtime);
    const state = (slot: string, server: string) => {
      const s = observed.router.servers.find((x) => x.slot === slot && x.server === server);
      return s ? `${s.state} ${s.status}, weight ${s.weight}, ${s.sessions} session(s)` : 'not in router';
    };
    return {
      environment: config.name,
      url: publicUrl(config),
      router: { running: observed.router.running, activeSlot: observed.router.activeSlot },
      serving: currentVersion(observed),
      replicas: observed.replicas.map((r) => ({ ...r, router: state(r.slot, r.server) })),
      lock: session.store.readLock(config.name),
      last: session.store.history(config.name, 1)[0],
      ...keptSet(observed, session),
      ...(Object.keys(config.accessories).length > 0
        ? { accessories: await accessoriesStatus(session.engine, config) }
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

/** Runs fn with the environment's store (history, audit, locks), closed afterwards. */
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
