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
import type { CheckName, ObservedReplica, ObservedRouter, ObservedState, Slot } from '../plan/types.js';
import { renderHaproxyConfig, renderSlotMap, type PersistedServer } from '../router/haproxy-config.js';
import { HaproxyRouter } from '../router/haproxy-runtime.js';
import { parseRouterLog } from '../router/router-log.js';
import {
  describeRouterLoss,
  diagnoseRouter,
  planRouterRestore,
  type RouterCondition,
  type RouterRestore,
} from '../router/router-recovery.js';
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

/** Replicas of the environment as their container labels describe them. */
export async function observeReplicas(rt: Runtime): Promise<ObservedReplica[]> {
  const { app, name } = rt.config;
  const containers = await rt.engine.listContainers({
    ...environmentLabels(app, name),
    [LABEL.role]: 'replica',
  });
  return containers.map((c) => toReplica(c.Labels, c.Id, c.Names[0] ?? c.Id, c.State === 'running', c.Image));
}

/** A router whose state directory (or admin socket) was deleted while it ran: nothing can drive it. */
export class RouterLostError extends StepFailedError {
  constructor(
    readonly router: string,
    readonly dir: string,
    readonly what: 'directory' | 'socket',
    environment: string,
  ) {
    super(describeRouterLoss(router, dir, what), {
      fix: `\`itsctl deploy -e ${environment}\` recreates it from the running replicas and restarts the router (new connections are refused for about a second)`,
    });
  }
}

/** The router container's condition, from the engine and the state directory (router/router-recovery.ts). */
export async function routerCondition(
  rt: Runtime,
): Promise<{ condition: RouterCondition; id: string | undefined }> {
  const c = await rt.engine.inspectContainer(routerName(rt.config.app, rt.config.name));
  const startedAt = Date.parse((c?.State as { StartedAt?: string } | undefined)?.StartedAt ?? '');
  const condition = diagnoseRouter({
    exists: c !== undefined,
    running: c?.State.Running === true,
    startedAtMs: Number.isFinite(startedAt) && startedAt > 0 ? startedAt : undefined,
    nowMs: rt.now(),
    dirExists: existsSync(rt.routerDir),
    socketExists: existsSync(join(rt.routerDir, 'admin.sock')),
  });
  return { condition, id: c?.Id };
}

export interface ObserveOptions {
  /**
   * A dry run's view of a lost router: as the deploy will recreate it (restoreLostRouter), from the
   * last successful deployment's digest. Without it, a lost router is a RouterLostError.
   */
  lostRouter?: { lastDigest: string | undefined };
}

/** The environment as it is: replicas from container labels, traffic from the router itself. */
export async function observe(rt: Runtime, options: ObserveOptions = {}): Promise<ObservedState> {
  const replicas = await observeReplicas(rt);
  const { condition, id } = await routerCondition(rt);
  if (condition.kind === 'absent' || condition.kind === 'stopped')
    return { replicas, router: { running: false, activeSlot: readPersistedSlot(rt.routerDir), servers: [] } };
  if (condition.kind === 'lost') {
    if (!options.lostRouter)
      throw new RouterLostError(
        routerName(rt.config.app, rt.config.name),
        rt.routerDir,
        condition.what,
        rt.config.name,
      );
    const restore = await planRestore(rt, id!, replicas, options.lostRouter.lastDigest);
    if (!restore.ok) throw cannotRestore(rt, condition.what, restore);
    return { replicas, router: restoredView(restore) };
  }
  await waitForRouter(rt);
  return {
    replicas,
    router: { running: true, activeSlot: await rt.router.activeSlot(), servers: await rt.router.servers() },
  };
}

function readPersistedSlot(dir: string): Slot {
  return readSlotMap(dir) ?? 'blue';
}

function readSlotMap(dir: string): Slot | undefined {
  try {
    const text = readFileSync(join(dir, 'slot.map'), 'utf8');
    return /active green/.test(text) ? 'green' : /active blue/.test(text) ? 'blue' : undefined;
  } catch {
    return undefined;
  }
}

/** What a recreated router will hold, from the replicas' labels and whatever evidence of the slot is left. */
async function planRestore(
  rt: Runtime,
  routerId: string,
  replicas: ObservedReplica[],
  lastDigest: string | undefined,
): Promise<RouterRestore> {
  // The router's own per-request log (its container's output) survives the directory.
  const logged = parseRouterLog(await rt.engine.logs(routerId, 500)).filter(
    (r) => r.backend === 'blue' || r.backend === 'green',
  );
  return planRouterRestore({
    replicas,
    containerPort: rt.config.containerPort,
    persistedSlot: readSlotMap(rt.routerDir),
    lastDigest,
    lastLoggedBackend: logged[logged.length - 1]?.backend as Slot | undefined,
    dir: rt.routerDir,
  });
}

function cannotRestore(
  rt: Runtime,
  what: 'directory' | 'socket',
  restore: Extract<RouterRestore, { ok: false }>,
): StepFailedError {
  return new StepFailedError(
    `${describeRouterLoss(routerName(rt.config.app, rt.config.name), rt.routerDir, what)}; it cannot be recreated safely: ${restore.reason}`,
    { fix: restore.fix },
  );
}

/** The router as the recreated files describe it (a dry run plans against this). */
function restoredView(restore: Extract<RouterRestore, { ok: true }>): ObservedRouter {
  return {
    running: true,
    activeSlot: restore.activeSlot,
    servers: restore.servers.map((s) => ({
      slot: s.slot,
      server: s.server,
      address: `${s.host}:${s.port}`,
      state: s.state,
      status: 'UP',
      weight: s.weight ?? 100,
      sessions: 0,
    })),
  };
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

/** The router's directory, owned by the user it runs as: it must create its socket here; no one else may. */
function prepareRouterDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  chownSync(dir, ROUTER_UID, ROUTER_GID);
  chmodSync(dir, 0o770);
}

/**
 * How long a lost router is given to finish the requests it is answering after SIGUSR1 (HAProxy's soft
 * stop: it stops listening at once, then waits for them). New connections are refused all that time,
 * so it is short: an API request takes milliseconds; a longer one is cut when the stop turns hard.
 */
const SOFT_STOP_MS = 2000;

/**
 * A router whose state directory (or admin socket) was deleted while it ran is recreated: the files
 * written again from the running replicas' labels and the slot traffic went to (router-recovery.ts),
 * then the container restarted, which re-reads them — the only way, since the container still sees the
 * deleted directory and the published port belongs to it alone. Returns what it did, or undefined when
 * the router was not lost. Run under the environment's lock, with a runtime that is never interrupted:
 * stopping half-way would leave the router stopped.
 */
export async function restoreLostRouter(
  rt: Runtime,
  lastDigest: string | undefined,
): Promise<string | undefined> {
  const { condition, id } = await routerCondition(rt);
  if (condition.kind !== 'lost' || id === undefined) return undefined;
  const router = routerName(rt.config.app, rt.config.name);
  const restore = await planRestore(rt, id, await observeReplicas(rt), lastDigest);
  if (!restore.ok) throw cannotRestore(rt, condition.what, restore);
  rt.progress(describeRouterLoss(router, rt.routerDir, condition.what));
  rt.progress(
    `  recreating ${rt.routerDir} from ${restore.servers.length} running replica(s), traffic on slot ${restore.activeSlot} (${restore.because}), and restarting the router`,
  );
  prepareRouterDir(rt.routerDir);
  writeAtomically(join(rt.routerDir, 'haproxy.cfg'), renderHaproxyConfig(restore.servers));
  writeAtomically(join(rt.routerDir, 'slot.map'), renderSlotMap(restore.activeSlot));
  const started = rt.now();
  await restartRouter(rt, id);
  const refusedMs = rt.now() - started;
  await persistRouter(rt);
  return `router ${router} recreated (its state directory had been deleted): ${restore.servers.length} server(s), traffic on slot ${restore.activeSlot}; it did not accept connections for about ${refusedMs} ms while it restarted`;
}

/** Soft stop (SIGUSR1), a hard stop if requests outlast SOFT_STOP_MS, then start: the files are read anew. */
async function restartRouter(rt: Runtime, id: string): Promise<void> {
  const path = `/containers/${encodeURIComponent(id)}`;
  const kill = await rt.engine.raw('POST', `${path}/kill?signal=SIGUSR1`);
  if (kill.status !== 204 && kill.status !== 409)
    throw new StepFailedError(`Docker Engine: signal the router: ${kill.status} ${kill.text.trim()}`);
  const deadline = rt.now() + SOFT_STOP_MS;
  while ((await rt.engine.inspectContainer(id))?.State.Running && rt.now() < deadline) await rt.sleep(50);
  await rt.engine.stopContainer(id, 1);
  await rt.engine.startContainer(id);
  await waitForRouter(rt);
}

export async function ensureRouter(rt: Runtime): Promise<void> {
  const { app, name, router } = rt.config;
  await rt.engine.ensureNetwork(environmentNetwork(rt.config), environmentLabels(app, name));
  prepareRouterDir(rt.routerDir);
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
