import { randomUUID } from 'node:crypto';
import {
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
  chmodSync,
  chownSync,
  existsSync,
} from 'node:fs';
import { join } from 'node:path';
import { StepFailedError } from '@its/core';
import type { EnvironmentConfig } from '../config/environment-schema.js';
import {
  LABEL,
  environmentLabels,
  migrationContainerSpec,
  environmentNetwork,
  routerContainerSpec,
  routerName,
  ROUTER_DIR,
  ROUTER_GID,
  ROUTER_UID,
} from '../containers/container-spec.js';
import type { DockerEngine } from '@its/docker-engine';
import { publishedPort } from '@its/docker-engine';
import {
  httpGet,
  runChecks,
  tcpConnect,
  type CheckDeps,
  type CheckResult,
  type ReplicaEndpoint,
} from '../health/checks.js';
import type { CheckName, ObservedReplica, ObservedState, Slot } from '../plan/types.js';
import { renderHaproxyConfig, renderSlotMap, type PersistedServer } from '../router/haproxy-config.js';
import { HaproxyRouter } from '../router/haproxy-runtime.js';
import type { EvidenceEntry } from './evidence.js';

/** Everything a deployment touches, built once per command. */
export interface Runtime {
  config: EnvironmentConfig;
  engine: DockerEngine;
  router: HaproxyRouter;
  /** Host directory bind-mounted into the router (config, slot map, admin socket). */
  routerDir: string;
  replicaEnv: Record<string, string>;
  progress: (line: string) => void;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  signal: AbortSignal;
  /** Keeps one piece of analysis evidence (canary step or watch) as soon as it exists. */
  evidence: (entry: EvidenceEntry) => void;
  /**
   * When each server this command added joined the router ("slot/server" → epoch ms): a canary's
   * and a fresh baseline's warm-up is measured from it.
   */
  joinedAt: Map<string, number>;
}

export class CheckFailedError extends StepFailedError {
  constructor(
    readonly result: CheckResult,
    readonly results: CheckResult[],
  ) {
    super(`health check "${result.check}" failed on ${result.target}: ${result.reason}`);
  }
}

/** A sleep that ends early, with an error, when the command is interrupted. */
export function abortableSleep(signal: AbortSignal): (ms: number) => Promise<void> {
  return (ms) =>
    new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new StepFailedError('interrupted'));
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(new StepFailedError('interrupted'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
}

export function createRouter(
  routerDir: string,
  sleep: (ms: number) => Promise<void>,
  now: () => number,
): HaproxyRouter {
  return new HaproxyRouter(join(routerDir, 'admin.sock'), `${ROUTER_DIR}/slot.map`, sleep, now);
}

function toReplica(
  labels: Record<string, string>,
  id: string,
  name: string,
  running: boolean,
  image: string,
): ObservedReplica {
  return {
    id,
    name: name.replace(/^\//, ''),
    server: labels[LABEL.server] ?? '',
    slot: (labels[LABEL.slot] as Slot) ?? 'blue',
    version: labels[LABEL.version] ?? '',
    // Replicas created before the label existed: the reference Docker recorded at creation.
    image: labels[LABEL.image] ?? image,
    digest: labels[LABEL.digest] ?? '',
    deploymentId: labels[LABEL.deploymentId] ?? '',
    index: Number(labels[LABEL.index] ?? 0),
    running,
    ...(labels[LABEL.canaryRole] === 'baseline' ? { baseline: true as const } : {}),
  };
}

/** The environment as it is: replicas from container labels, traffic from the router itself. */
export async function observe(rt: Runtime): Promise<ObservedState> {
  const { app, name } = rt.config;
  const containers = await rt.engine.listContainers({
    ...environmentLabels(app, name),
    [LABEL.role]: 'replica',
  });
  const replicas = containers.map((c) =>
    toReplica(c.Labels, c.Id, c.Names[0] ?? c.Id, c.State === 'running', c.Image),
  );
  const router = await rt.engine.inspectContainer(routerName(app, name));
  if (!router?.State.Running)
    return { replicas, router: { running: false, activeSlot: readPersistedSlot(rt.routerDir), servers: [] } };
  await waitForRouter(rt);
  return {
    replicas,
    router: { running: true, activeSlot: await rt.router.activeSlot(), servers: await rt.router.servers() },
  };
}

function readPersistedSlot(dir: string): Slot {
  try {
    return /active green/.test(readFileSync(join(dir, 'slot.map'), 'utf8')) ? 'green' : 'blue';
  } catch {
    return 'blue';
  }
}

function writeAtomically(file: string, text: string): void {
  // An unpredictable name, created exclusively: nothing planted in the directory is followed.
  const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(tmp, text, { flag: 'wx', mode: 0o644 });
  renameSync(tmp, file);
}

/** Writes the router's file from its live state, so a restarted router comes back serving the same set. */
export async function persistRouter(rt: Runtime): Promise<void> {
  const servers = await rt.router.servers();
  const containers = await rt.engine.listContainers({
    ...environmentLabels(rt.config.app, rt.config.name),
    [LABEL.role]: 'replica',
  });
  const byServer = new Map(
    containers.map((c) => [
      `${c.Labels[LABEL.slot]}/${c.Labels[LABEL.server]}`,
      (c.Names[0] ?? '').replace(/^\//, ''),
    ]),
  );
  const persisted: PersistedServer[] = servers.flatMap((s) => {
    const host = byServer.get(`${s.slot}/${s.server}`);
    return host
      ? [
          {
            slot: s.slot,
            server: s.server,
            host,
            port: rt.config.containerPort,
            state: s.state,
            weight: s.weight,
          },
        ]
      : [];
  });
  writeAtomically(join(rt.routerDir, 'haproxy.cfg'), renderHaproxyConfig(persisted));
  writeAtomically(join(rt.routerDir, 'slot.map'), renderSlotMap(await rt.router.activeSlot()));
}

async function waitForRouter(rt: Runtime, timeoutMs = 15_000): Promise<void> {
  const start = rt.now();
  for (;;) {
    try {
      await rt.router.command('show info');
      return;
    } catch (error) {
      if (rt.now() - start > timeoutMs)
        throw new StepFailedError(`the router's admin socket did not answer in ${timeoutMs} ms`, {
          cause: error,
        });
      await rt.sleep(100);
    }
  }
}

export async function ensureRouter(rt: Runtime): Promise<void> {
  const { app, name, router } = rt.config;
  await rt.engine.ensureNetwork(environmentNetwork(rt.config), environmentLabels(app, name));
  mkdirSync(rt.routerDir, { recursive: true });
  // The router runs as the haproxy user: it must be able to create its socket here; no one else may.
  chownSync(rt.routerDir, ROUTER_UID, ROUTER_GID);
  chmodSync(rt.routerDir, 0o770);
  if (!existsSync(join(rt.routerDir, 'haproxy.cfg')))
    writeAtomically(join(rt.routerDir, 'haproxy.cfg'), renderHaproxyConfig([]));
  if (!existsSync(join(rt.routerDir, 'slot.map')))
    writeAtomically(join(rt.routerDir, 'slot.map'), renderSlotMap('blue'));
  const existing = await rt.engine.inspectContainer(routerName(app, name));
  if (!existing) {
    if (!(await rt.engine.inspectImage(router.image)))
      throw new StepFailedError(`router image ${router.image} is not on this engine`, {
        fix: 'build it: /usr/bin/docker build -t its-haproxy:latest docker/haproxy',
      });
    const id = await rt.engine.createContainer(
      routerName(app, name),
      routerContainerSpec({
        app,
        environment: name,
        image: router.image,
        bind: router.bind,
        port: router.port,
        stateDir: rt.routerDir,
        network: environmentNetwork(rt.config),
      }),
    );
    await rt.engine.startContainer(id);
  } else if (!existing.State.Running) {
    await rt.engine.startContainer(existing.Id);
  }
  await waitForRouter(rt);
}

export async function endpoint(rt: Runtime, name: string): Promise<ReplicaEndpoint> {
  const c = await rt.engine.inspectContainer(name);
  const port = c ? publishedPort(c, rt.config.containerPort) : undefined;
  if (!c || port === undefined)
    throw new StepFailedError(`replica ${name} has no published port ${rt.config.containerPort}`);
  return { name, baseUrl: `http://127.0.0.1:${port}` };
}

export function checkDeps(rt: Runtime): CheckDeps {
  return {
    now: rt.now,
    sleep: rt.sleep,
    httpGet,
    tcpConnect,
    containerHealth: async (name) => {
      const c = await rt.engine.inspectContainer(name);
      if (!c) return { running: false, health: undefined, output: 'no such container' };
      const log = c.State.Health?.Log ?? [];
      const output =
        log.length > 0
          ? log[log.length - 1]!.Output
          : c.State.Running
            ? ''
            : `exited with ${c.State.ExitCode}`;
      return { running: c.State.Running, health: c.State.Health?.Status, output };
    },
  };
}

/** Runs the checks and throws CheckFailedError at the first failure; returns every result. */
export async function checkReplicas(
  rt: Runtime,
  names: string[],
  checks: CheckName[],
): Promise<CheckResult[]> {
  const endpoints = [];
  for (const n of names) endpoints.push(await endpoint(rt, n));
  const results = await runChecks(checkDeps(rt), endpoints, checks, rt.config.healthChecks);
  for (const r of results)
    rt.progress(`    ${r.ok ? '✓' : '✗'} ${r.check} ${r.target}: ${r.reason} (${r.durationMs} ms)`);
  const failed = results.find((r) => !r.ok);
  if (failed) throw new CheckFailedError(failed, results);
  return results;
}

export async function containerAddress(rt: Runtime, name: string): Promise<string> {
  const c = await rt.engine.inspectContainer(name);
  const ip = c?.NetworkSettings.Networks[environmentNetwork(rt.config)]?.IPAddress;
  if (!ip)
    throw new StepFailedError(`replica ${name} has no address on network ${environmentNetwork(rt.config)}`);
  return `${ip}:${rt.config.containerPort}`;
}

export async function runMigration(rt: Runtime, image: string, command: string[]): Promise<void> {
  const { app, name } = rt.config;
  const id = await rt.engine.createContainer(
    `${app}-${name}-migrate-${rt.now()}`,
    migrationContainerSpec(app, name, image, command, rt.replicaEnv, environmentNetwork(rt.config)),
  );
  try {
    await rt.engine.startContainer(id);
    const code = await rt.engine.waitContainer(id, rt.config.migrations?.timeoutMs ?? 300_000);
    if (code !== 0)
      throw new StepFailedError(
        `migration ${command.join(' ')} exited with ${code}:\n${(await rt.engine.logs(id)).trim()}`,
      );
  } finally {
    await rt.engine.removeContainer(id);
  }
}
