import type { AccessoryConfig } from '../config/environment-schema.js';
import { LABEL, REPLICA_HEALTH_INTERVAL_NS, environmentLabels } from '../containers/container-spec.js';

/**
 * Accessories (Kamal's word): long-lived servers of an environment — PostgreSQL, Redis — as data.
 * They are created when missing, started when stopped and otherwise left alone: a deploy never
 * replaces one, so its data and connections survive every deploy.
 */

export const ACCESSORY_LABEL = 'its.accessory';

export function accessoryContainerName(app: string, environment: string, name: string): string {
  return `${app}-${environment}-${name}`;
}

export function accessoryVolumeName(app: string, environment: string, name: string): string {
  return `${app}-${environment}-${name}`;
}

export function accessoryLabels(app: string, environment: string, name: string): Record<string, string> {
  return { ...environmentLabels(app, environment), [LABEL.role]: 'accessory', [ACCESSORY_LABEL]: name };
}

export interface AccessoryContainerInput {
  app: string;
  environment: string;
  name: string;
  accessory: AccessoryConfig;
  env: Record<string, string>;
  network: string;
}

/** The Engine API create body: on the network under its own name as a DNS alias, loopback-only publish. */
export function accessoryContainerSpec(input: AccessoryContainerInput): Record<string, unknown> {
  const { accessory: a, name } = input;
  const portKey = `${a.port}/tcp`;
  return {
    Image: a.image,
    ...(a.command ? { Cmd: a.command } : {}),
    Env: Object.entries(input.env).map(([k, v]) => `${k}=${v}`),
    Labels: { ...accessoryLabels(input.app, input.environment, name), [LABEL.image]: a.image },
    ExposedPorts: { [portKey]: {} },
    // Probed every 2 s instead of the image's 5 s: the first replica waits on this (container-spec.ts).
    Healthcheck: { Interval: REPLICA_HEALTH_INTERVAL_NS },
    HostConfig: {
      ...(a.volume
        ? {
            Mounts: [
              {
                Type: 'volume',
                Source: accessoryVolumeName(input.app, input.environment, name),
                Target: a.volume,
              },
            ],
          }
        : {}),
      // Never on another address than loopback: these servers have no TLS and, for Redis, no password.
      ...(a.publish
        ? { PortBindings: { [portKey]: [{ HostIp: '127.0.0.1', HostPort: String(a.publish) }] } }
        : {}),
      // A daemon restart brings the database back with the replicas that need it.
      RestartPolicy: { Name: 'unless-stopped' },
      NetworkMode: input.network,
    },
    NetworkingConfig: { EndpointsConfig: { [input.network]: { Aliases: [name] } } },
    // PostgreSQL's smart shutdown may take a while; a killed server replays its WAL at next start.
    StopTimeout: 30,
  };
}

export interface ObservedAccessory {
  id: string;
  running: boolean;
  image: string;
  health: string | undefined;
  networks: string[];
}

export type AccessoryAction =
  | { kind: 'create'; name: string }
  | { kind: 'start'; name: string; id: string }
  | { kind: 'keep'; name: string; id: string };

/**
 * What to do with one accessory (pure): create, start or keep. A kept accessory whose image or
 * network differs from the file is still kept (deploys never replace one), with a warning saying how
 * to change it on purpose.
 */
export function planAccessory(
  name: string,
  accessory: AccessoryConfig,
  network: string,
  observed: ObservedAccessory | undefined,
): { action: AccessoryAction; warnings: string[] } {
  if (!observed) return { action: { kind: 'create', name }, warnings: [] };
  const warnings: string[] = [];
  if (observed.image !== accessory.image)
    warnings.push(
      `accessory ${name} runs ${observed.image} but the file says ${accessory.image}: accessories are never replaced by a deploy; \`itsctl teardown\` (keeps the volume) then deploy to change it`,
    );
  if (!observed.networks.includes(network))
    warnings.push(
      `accessory ${name} is not on network ${network}: replicas cannot reach it; teardown and deploy again`,
    );
  return {
    action: observed.running
      ? { kind: 'keep', name, id: observed.id }
      : { kind: 'start', name, id: observed.id },
    warnings,
  };
}
