import type { ReplicaSpec } from '../plan/types.js';
import { type EngineFeatures, OLDEST_FEATURES } from '@its/docker-engine';

/**
 * Container specifications as data (the Engine API's create body), built by pure functions so tests
 * assert them exactly — Kamal's "commands are data".
 */

export const LABEL = {
  managed: 'its.managed',
  app: 'its.app',
  environment: 'its.environment',
  role: 'its.role',
  version: 'its.version',
  digest: 'its.digest',
  /** The image reference the replica was created from (repository@digest or repository:tag). */
  image: 'its.image',
  slot: 'its.slot',
  deploymentId: 'its.deployment-id',
  server: 'its.server',
  index: 'its.index',
  /** `baseline` on a canary's fresh baseline replica (plan/types.ts ObservedReplica.baseline). */
  canaryRole: 'its.canary-role',
} as const;

export type Role = 'replica' | 'router' | 'migration' | 'accessory';

export function networkName(app: string, environment: string): string {
  return `${app}-${environment}`;
}

/** The environment's network: the file's `network` when tiers of a stack share one, else `<app>-<env>`. */
export function environmentNetwork(config: {
  app: string;
  name: string;
  network?: string | undefined;
}): string {
  return config.network ?? networkName(config.app, config.name);
}

export function routerName(app: string, environment: string): string {
  return `${app}-${environment}-router`;
}

export function environmentLabels(app: string, environment: string): Record<string, string> {
  return { [LABEL.managed]: 'true', [LABEL.app]: app, [LABEL.environment]: environment };
}

export interface ReplicaContainerInput {
  app: string;
  environment: string;
  spec: ReplicaSpec;
  containerPort: number;
  env: Record<string, string>;
  command: string[];
  /** Default `<app>-<environment>` (environmentNetwork). */
  network?: string | undefined;
  /** What the negotiated API version allows (DockerEngine.features()); default: API 1.41's. */
  features?: EngineFeatures | undefined;
  /**
   * How long the deploy waits for the engine's "healthy" (healthChecks.container.timeoutMs): the start
   * period during which the engine probes every REPLICA_HEALTH_INTERVAL_NS (API ≥ 1.44 only).
   */
  healthStartPeriodMs?: number | undefined;
}

/**
 * The image's HEALTHCHECK probes every 15 s (the product's interval): a new replica would wait that
 * long before the engine first says "healthy". Docker 20.10 (API 1.41) has no StartInterval, so the
 * interval itself is shortened; Test, Timeout, Retries and StartPeriod stay the image's (the engine
 * merges the unset fields from the image). 2 s, not 1 s: each probe of the product spawns a Node
 * process, and a 2-core machine runs several replicas. From API 1.44 (replicaHealthcheck) this is the
 * StartInterval instead and the image keeps its own interval once the replica is healthy.
 */
export const REPLICA_HEALTH_INTERVAL_NS = 2_000_000_000;

/** healthChecks.container.timeoutMs's default: the start period when the caller names none. */
export const REPLICA_HEALTH_START_PERIOD_MS = 60_000;

/**
 * The Healthcheck override of a replica. API ≥ 1.44: probe every 2 s during a start period as long as
 * the deploy waits for "healthy" (a success ends the start period at once), then at the image's own
 * interval — the probes stop costing a process every 2 s for the replica's whole life. The start period
 * is set, not left to the image, because an image without one (Docker's default 0) would make
 * StartInterval do nothing. The cost: a replica that never becomes healthy reads "starting" until the
 * check's timeout instead of "unhealthy" after Retries × 2 s; the check's reason carries the last
 * probe's output either way. Below 1.44 the daemon knows no StartInterval: the interval is shortened.
 */
export function replicaHealthcheck(
  features: EngineFeatures,
  startPeriodMs: number = REPLICA_HEALTH_START_PERIOD_MS,
): Record<string, number> {
  if (!features.healthStartInterval) return { Interval: REPLICA_HEALTH_INTERVAL_NS };
  return { StartInterval: REPLICA_HEALTH_INTERVAL_NS, StartPeriod: startPeriodMs * 1_000_000 };
}

export function replicaContainerSpec(input: ReplicaContainerInput): Record<string, unknown> {
  const { spec } = input;
  const network = input.network ?? networkName(input.app, input.environment);
  return {
    Image: spec.image,
    ...(input.command.length > 0 ? { Cmd: input.command } : {}),
    Env: Object.entries({ ...input.env, APP_VERSION: spec.version }).map(([k, v]) => `${k}=${v}`),
    Labels: {
      ...environmentLabels(input.app, input.environment),
      [LABEL.role]: 'replica',
      [LABEL.version]: spec.version,
      [LABEL.digest]: spec.digest,
      [LABEL.image]: spec.image,
      [LABEL.slot]: spec.slot,
      [LABEL.deploymentId]: spec.deploymentId,
      [LABEL.server]: spec.server,
      [LABEL.index]: String(spec.index),
      ...(spec.baseline ? { [LABEL.canaryRole]: 'baseline' } : {}),
    },
    ExposedPorts: { [`${input.containerPort}/tcp`]: {} },
    Healthcheck: replicaHealthcheck(input.features ?? OLDEST_FEATURES, input.healthStartPeriodMs),
    HostConfig: {
      // Checks reach each replica directly, before any traffic: loopback only, an ephemeral port.
      PortBindings: { [`${input.containerPort}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '' }] },
      // A daemon restart brings the environment back; a stop we asked for stays stopped.
      RestartPolicy: { Name: 'unless-stopped' },
      NetworkMode: network,
      Init: true,
    },
    NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [spec.name] } } },
    StopTimeout: 15,
  };
}

export interface RouterContainerInput {
  app: string;
  environment: string;
  image: string;
  bind: string;
  port: number;
  /** Host directory holding haproxy.cfg, slot.map and the admin socket. */
  stateDir: string;
  /** Default `<app>-<environment>` (environmentNetwork). */
  network?: string | undefined;
}

export const ROUTER_DIR = '/var/run/its-router';

/**
 * The uid/gid the router runs as: the haproxy user of docker/haproxy (Debian's haproxy package,
 * uid=100 gid=101). Pinned in the container spec so it always matches the owner of the state directory.
 */
export const ROUTER_UID = 100;
export const ROUTER_GID = 101;

export function routerContainerSpec(input: RouterContainerInput): Record<string, unknown> {
  return {
    Image: input.image,
    Cmd: ['-W', '-db', '-f', `${ROUTER_DIR}/haproxy.cfg`],
    User: `${ROUTER_UID}:${ROUTER_GID}`,
    Labels: { ...environmentLabels(input.app, input.environment), [LABEL.role]: 'router' },
    ExposedPorts: { '8080/tcp': {} },
    HostConfig: {
      PortBindings: { '8080/tcp': [{ HostIp: input.bind, HostPort: String(input.port) }] },
      Binds: [`${input.stateDir}:${ROUTER_DIR}`],
      RestartPolicy: { Name: 'unless-stopped' },
      // One log line per request: bounded on disk (3 × 20 MB ≈ 600 k requests).
      LogConfig: { Type: 'json-file', Config: { 'max-size': '20m', 'max-file': '3' } },
      NetworkMode: input.network ?? networkName(input.app, input.environment),
    },
  };
}

export function migrationContainerSpec(
  app: string,
  environment: string,
  image: string,
  command: string[],
  env: Record<string, string>,
  network: string = networkName(app, environment),
): Record<string, unknown> {
  return {
    Image: image,
    Cmd: command,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: { ...environmentLabels(app, environment), [LABEL.role]: 'migration' },
    HostConfig: { NetworkMode: network, Init: true },
  };
}
