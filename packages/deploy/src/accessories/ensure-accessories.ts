import { StepFailedError } from '@its/core';
import { environmentLabels, environmentNetwork, LABEL } from '../containers/container-spec.js';
import type { DockerEngine } from '@its/docker-engine';
import type { AccessoryConfig } from '../config/environment-schema.js';
import {
  accessoryContainerName,
  accessoryContainerSpec,
  accessoryLabels,
  accessoryVolumeName,
  planAccessory,
  type AccessoryAction,
  type ObservedAccessory,
} from './accessory-spec.js';

/** Effects of accessories: observe, create, start, wait healthy. */

export interface AccessoryEnvironment {
  app: string;
  name: string;
  network?: string | undefined;
  accessories: Record<string, AccessoryConfig>;
}

export interface AccessoryDeps {
  engine: DockerEngine;
  log: (line: string) => void;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

export async function observeAccessory(
  engine: DockerEngine,
  container: string,
): Promise<ObservedAccessory | undefined> {
  const c = await engine.inspectContainer(container);
  if (!c) return undefined;
  return {
    id: c.Id,
    running: c.State.Running,
    image: c.Config.Labels[LABEL.image] ?? c.Config.Image,
    health: c.State.Health?.Status,
    networks: Object.keys(c.NetworkSettings.Networks),
  };
}

/** Creates the named volume with the environment's labels, so teardown finds it by label. */
async function ensureVolume(
  engine: DockerEngine,
  name: string,
  labels: Record<string, string>,
): Promise<void> {
  const res = await engine.raw('POST', '/volumes/create', { Name: name, Labels: labels });
  if (res.status !== 201 && res.status !== 200)
    throw new StepFailedError(`Docker Engine: create volume ${name}: ${res.status} ${res.text.trim()}`);
}

/**
 * Polls the engine's health status until healthy (an image without HEALTHCHECK: until running).
 * Unhealthy, exited or past the timeout fails with the last probe output.
 */
export async function waitAccessoryHealthy(
  deps: AccessoryDeps,
  container: string,
  timeoutMs: number,
): Promise<number> {
  const start = deps.now();
  for (;;) {
    const c = await deps.engine.inspectContainer(container);
    const health = c?.State.Health?.Status;
    if (c?.State.Running && (health === undefined || health === 'healthy')) return deps.now() - start;
    const log = c?.State.Health?.Log ?? [];
    const output = log.length > 0 ? log[log.length - 1]!.Output.trim() : '';
    // A crash-looping server under `unless-stopped` shows as restarting (and "unhealthy"), not exited.
    const restarting = (c?.State as { Restarting?: boolean } | undefined)?.Restarting === true;
    if (!c || !c.State.Running || restarting || health === 'unhealthy' || deps.now() - start > timeoutMs) {
      const why = !c
        ? 'it disappeared'
        : !c.State.Running || restarting
          ? `it exited with ${c.State.ExitCode}`
          : health === 'unhealthy'
            ? `it is unhealthy${output ? `: ${output}` : ''}`
            : `still ${health ?? 'starting'} after ${timeoutMs} ms${output ? `: ${output}` : ''}`;
      const logs = c ? (await deps.engine.logs(c.Id, 20)).trim() : '';
      throw new StepFailedError(
        `accessory ${container} did not become healthy: ${why}${logs ? `\n  its last output:\n    ${logs.split('\n').join('\n    ')}` : ''}`,
        { fix: `docker logs ${container}; fix its image or env in the environment file, then deploy again` },
      );
    }
    await deps.sleep(250);
  }
}

export interface AccessoryResult {
  name: string;
  container: string;
  action: AccessoryAction['kind'];
  id: string;
  healthyAfterMs: number;
}

/**
 * Makes sure every accessory of the environment runs and is healthy before any replica starts:
 * created when missing, started when stopped, kept otherwise (never replaced).
 */
export async function ensureAccessories(
  deps: AccessoryDeps,
  config: AccessoryEnvironment,
  env: Record<string, Record<string, string>>,
): Promise<{ results: AccessoryResult[]; warnings: string[] }> {
  const entries = Object.entries(config.accessories);
  if (entries.length === 0) return { results: [], warnings: [] };
  const network = environmentNetwork(config);
  await deps.engine.ensureNetwork(network, environmentLabels(config.app, config.name));
  const results: AccessoryResult[] = [];
  const warnings: string[] = [];
  // Started together, then waited on: PostgreSQL's first initialisation overlaps Redis's start.
  const started: Array<{
    name: string;
    container: string;
    action: AccessoryAction;
    id: string;
    timeoutMs: number;
  }> = [];
  for (const [name, accessory] of entries) {
    const container = accessoryContainerName(config.app, config.name, name);
    const planned = planAccessory(name, accessory, network, await observeAccessory(deps.engine, container));
    warnings.push(...planned.warnings);
    let id: string;
    const action = planned.action;
    if (action.kind === 'create') {
      if (!(await deps.engine.inspectImage(accessory.image)))
        throw new StepFailedError(`accessory ${name}: image ${accessory.image} is not on this engine`, {
          fix: 'build it: scripts/ci-containers.sh (or docker build -t IMAGE docker/<name>)',
        });
      if (accessory.volume)
        await ensureVolume(
          deps.engine,
          accessoryVolumeName(config.app, config.name, name),
          accessoryLabels(config.app, config.name, name),
        );
      deps.log(`  ▸ accessory ${name}: creating ${container} (${accessory.image})`);
      id = await deps.engine.createContainer(
        container,
        accessoryContainerSpec({
          app: config.app,
          environment: config.name,
          name,
          accessory,
          env: env[name] ?? {},
          network,
        }),
      );
      await deps.engine.startContainer(id);
    } else if (action.kind === 'start') {
      deps.log(`  ▸ accessory ${name}: starting the stopped ${container}`);
      id = action.id;
      await deps.engine.startContainer(id);
    } else {
      id = action.id;
    }
    started.push({ name, container, action, id, timeoutMs: accessory.healthTimeoutMs });
  }
  for (const s of started) {
    const ms = await waitAccessoryHealthy(deps, s.container, s.timeoutMs);
    deps.log(
      `  ✓ accessory ${s.name}: ${s.action.kind === 'keep' ? 'running' : s.action.kind === 'create' ? 'created' : 'started'}, healthy${s.action.kind === 'keep' ? '' : ` after ${(ms / 1000).toFixed(1)} s`}`,
    );
    results.push({
      name: s.name,
      container: s.container,
      action: s.action.kind,
      id: s.id,
      healthyAfterMs: ms,
    });
  }
  return { results, warnings };
}

export interface AccessoryStatus {
  name: string;
  container: string;
  image: string;
  state: 'missing' | 'running' | 'stopped';
  health: string | undefined;
  volume: string | undefined;
  published: string | undefined;
}

export async function accessoriesStatus(
  engine: DockerEngine,
  config: AccessoryEnvironment,
): Promise<AccessoryStatus[]> {
  const out: AccessoryStatus[] = [];
  for (const [name, a] of Object.entries(config.accessories)) {
    const container = accessoryContainerName(config.app, config.name, name);
    const o = await observeAccessory(engine, container);
    out.push({
      name,
      container,
      image: o?.image ?? a.image,
      state: !o ? 'missing' : o.running ? 'running' : 'stopped',
      health: o?.health,
      volume: a.volume ? accessoryVolumeName(config.app, config.name, name) : undefined,
      published: a.publish ? `127.0.0.1:${a.publish}` : undefined,
    });
  }
  return out;
}

export function renderAccessoryStatus(a: AccessoryStatus): string {
  return `  accessory ${a.name}: ${a.container} ${a.state}${a.health ? ` (${a.health})` : ''}, ${a.image}${a.volume ? `, volume ${a.volume}` : ''}${a.published ? `, on ${a.published}` : ''}`;
}

/** What a deploy would do with each accessory (for --dry-run): create, start or keep; nothing changes. */
export async function planAccessories(engine: DockerEngine, config: AccessoryEnvironment): Promise<string[]> {
  const network = environmentNetwork(config);
  const lines: string[] = [];
  for (const [name, a] of Object.entries(config.accessories)) {
    const container = accessoryContainerName(config.app, config.name, name);
    const planned = planAccessory(name, a, network, await observeAccessory(engine, container));
    const volume = a.volume ? `, volume ${accessoryVolumeName(config.app, config.name, name)}` : '';
    lines.push(
      `  accessory ${name}: ${planned.action.kind} ${container} (${a.image}${volume}), then wait healthy`,
      ...planned.warnings.map((w) => `    ! ${w}`),
    );
  }
  return lines;
}
