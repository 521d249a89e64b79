import { describe, expect, it } from 'vitest';
import { accessoryContainerSpec, planAccessory, type ObservedAccessory } from './accessory-spec.js';

const postgres = {
  image: 'its-camera-ai/postgres:latest',
  port: 5432,
  env: {},
  volume: '/var/lib/postgresql/data',
  healthTimeoutMs: 60_000,
};

describe('accessories', () => {
  it('runs on the network under its own name, data in a named volume, not published by default', () => {
    expect(
      accessoryContainerSpec({
        app: 'its',
        environment: 'dev',
        name: 'postgres',
        accessory: postgres,
        env: { POSTGRES_PASSWORD: 'p' },
        network: 'its-dev',
      }),
    ).toEqual({
      Image: 'its-camera-ai/postgres:latest',
      Env: ['POSTGRES_PASSWORD=p'],
      Labels: {
        'its.managed': 'true',
        'its.app': 'its',
        'its.environment': 'dev',
        'its.role': 'accessory',
        'its.accessory': 'postgres',
        'its.image': 'its-camera-ai/postgres:latest',
      },
      ExposedPorts: { '5432/tcp': {} },
      Healthcheck: { Interval: 2_000_000_000 },
      HostConfig: {
        Mounts: [{ Type: 'volume', Source: 'its-dev-postgres', Target: '/var/lib/postgresql/data' }],
        RestartPolicy: { Name: 'unless-stopped' },
        NetworkMode: 'its-dev',
      },
      NetworkingConfig: { EndpointsConfig: { 'its-dev': { Aliases: ['postgres'] } } },
      StopTimeout: 30,
    });
  });

  it('publishes on 127.0.0.1 only when asked, and passes a command', () => {
    const spec = accessoryContainerSpec({
      app: 'its',
      environment: 'dev',
      name: 'redis',
      accessory: {
        image: 'r',
        port: 6379,
        env: {},
        publish: 16379,
        command: ['--appendonly', 'no'],
        healthTimeoutMs: 1,
      },
      env: {},
      network: 'n',
    });
    expect(spec.Cmd).toEqual(['--appendonly', 'no']);
    expect(spec.HostConfig).toEqual({
      PortBindings: { '6379/tcp': [{ HostIp: '127.0.0.1', HostPort: '16379' }] },
      RestartPolicy: { Name: 'unless-stopped' },
      NetworkMode: 'n',
    });
  });

  const observed = (o: Partial<ObservedAccessory>): ObservedAccessory => ({
    id: 'c1',
    running: true,
    image: postgres.image,
    health: 'healthy',
    networks: ['its-dev'],
    ...o,
  });

  it.each([
    ['missing: create', undefined, { kind: 'create', name: 'postgres' }, 0],
    [
      'stopped: start it (same container, same data)',
      observed({ running: false }),
      { kind: 'start', name: 'postgres', id: 'c1' },
      0,
    ],
    ['running: keep', observed({}), { kind: 'keep', name: 'postgres', id: 'c1' }, 0],
    [
      'another image: still kept, with a warning',
      observed({ image: 'old' }),
      { kind: 'keep', name: 'postgres', id: 'c1' },
      1,
    ],
    [
      'off the network: kept, with a warning',
      observed({ networks: ['bridge'] }),
      { kind: 'keep', name: 'postgres', id: 'c1' },
      1,
    ],
  ] as const)('%s', (_name, o, action, warnings) => {
    const plan = planAccessory('postgres', postgres, 'its-dev', o);
    expect(plan.action).toEqual(action);
    expect(plan.warnings).toHaveLength(warnings);
  });
});
