import { describe, expect, it } from 'vitest';
import { ConfigError } from '@its/core';
import { engineFeatures } from '@its/docker-engine';
import {
  environmentNetwork,
  migrationContainerSpec,
  replicaContainerSpec,
  replicaHealthcheck,
  routerContainerSpec,
} from './container-spec.js';
import { publishedPort, resolveEngineTarget, type ContainerInspect } from '@its/docker-engine';

describe('container specifications', () => {
  it('labels a replica, publishes it on 127.0.0.1 only and restarts it unless stopped', () => {
    const spec = replicaContainerSpec({
      app: 'app',
      environment: 'staging',
      spec: {
        name: 'app-staging-green-d2-0',
        server: 'g-d2-0',
        slot: 'green',
        index: 0,
        version: '1.1.0',
        image: 'r@sha256:x',
        digest: 'sha256:x',
        deploymentId: 'd2',
      },
      containerPort: 8000,
      env: { NODE_ENV: 'production' },
      command: ['api'],
    });
    expect(spec).toEqual({
      Image: 'r@sha256:x',
      Cmd: ['api'],
      Env: ['NODE_ENV=production', 'APP_VERSION=1.1.0'],
      Labels: {
        'its.managed': 'true',
        'its.app': 'app',
        'its.environment': 'staging',
        'its.role': 'replica',
        'its.version': '1.1.0',
        'its.digest': 'sha256:x',
        'its.image': 'r@sha256:x',
        'its.slot': 'green',
        'its.deployment-id': 'd2',
        'its.server': 'g-d2-0',
        'its.index': '0',
      },
      ExposedPorts: { '8000/tcp': {} },
      // Only the interval: the engine keeps the image's Test, Timeout, Retries and StartPeriod.
      Healthcheck: { Interval: 2_000_000_000 },
      HostConfig: {
        PortBindings: { '8000/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
        RestartPolicy: { Name: 'unless-stopped' },
        NetworkMode: 'app-staging',
        Init: true,
      },
      NetworkingConfig: { EndpointsConfig: { 'app-staging': { Aliases: ['app-staging-green-d2-0'] } } },
      StopTimeout: 15,
    });
  });

  it.each([
    {
      api: '1.41',
      // Docker 20.10 has no StartInterval: the whole interval is shortened; the rest stays the image's.
      healthcheck: { Interval: 2_000_000_000 },
    },
    {
      api: '1.43',
      healthcheck: { Interval: 2_000_000_000 },
    },
    {
      api: '1.44',
      // Probed every 2 s while the deploy waits (90 s here), then at the image's own interval.
      healthcheck: { StartInterval: 2_000_000_000, StartPeriod: 90_000_000_000 },
    },
    {
      api: '1.52',
      healthcheck: { StartInterval: 2_000_000_000, StartPeriod: 90_000_000_000 },
    },
  ])('sets the replica healthcheck for API $api', ({ api, healthcheck }) => {
    const spec = replicaContainerSpec({
      app: 'app',
      environment: 'staging',
      spec: {
        name: 'n',
        server: 's',
        slot: 'blue',
        index: 0,
        version: '1',
        image: 'i',
        digest: 'd',
        deploymentId: 'x',
      },
      containerPort: 8000,
      env: {},
      command: [],
      features: engineFeatures(api),
      healthStartPeriodMs: 90_000,
    });
    expect(spec.Healthcheck).toEqual(healthcheck);
  });

  it('uses the container check’s default timeout (60 s) as the start period when none is given', () => {
    expect(replicaHealthcheck(engineFeatures('1.52'))).toEqual({
      StartInterval: 2_000_000_000,
      StartPeriod: 60_000_000_000,
    });
  });

  it('puts a replica, the router and a migration on a shared network when the environment names one', () => {
    const replica = replicaContainerSpec({
      app: 'app',
      environment: 'dev-web',
      spec: {
        name: 'n',
        server: 's',
        slot: 'blue',
        index: 0,
        version: '1',
        image: 'i',
        digest: 'd',
        deploymentId: 'x',
      },
      containerPort: 3000,
      env: {},
      command: [],
      network: 'app-dev',
    });
    expect((replica.HostConfig as { NetworkMode: string }).NetworkMode).toBe('app-dev');
    expect(replica.NetworkingConfig).toEqual({ EndpointsConfig: { 'app-dev': { Aliases: ['n'] } } });
    const router = routerContainerSpec({
      app: 'app',
      environment: 'dev-web',
      image: 'h',
      bind: '127.0.0.1',
      port: 3080,
      stateDir: '/s',
      network: 'app-dev',
    });
    expect((router.HostConfig as { NetworkMode: string }).NetworkMode).toBe('app-dev');
    expect(migrationContainerSpec('app', 'dev-web', 'i', ['m'], {}, 'app-dev').HostConfig).toEqual({
      NetworkMode: 'app-dev',
      Init: true,
    });
    expect(environmentNetwork({ app: 'app', name: 'dev' })).toBe('app-dev');
    expect(environmentNetwork({ app: 'app', name: 'dev-web', network: 'shared' })).toBe('shared');
  });

  it('runs the router with its state directory mounted and its port on the bind address', () => {
    const spec = routerContainerSpec({
      app: 'app',
      environment: 'dev',
      image: 'its-haproxy:latest',
      bind: '127.0.0.1',
      port: 8080,
      stateDir: '/s/router',
    }) as { HostConfig: Record<string, unknown>; Labels: Record<string, string>; User: string };
    expect(spec.User).toBe('100:101');
    expect(spec.HostConfig).toEqual({
      PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] },
      Binds: ['/s/router:/var/run/its-router'],
      RestartPolicy: { Name: 'unless-stopped' },
      NetworkMode: 'app-dev',
      LogConfig: { Type: 'json-file', Config: { 'max-size': '20m', 'max-file': '3' } },
    });
    expect(spec.Labels['its.role']).toBe('router');
  });

  it('runs a migration as a one-off container on the environment network', () => {
    expect(migrationContainerSpec('app', 'dev', 'img', ['migrate'], { A: '1' })).toMatchObject({
      Image: 'img',
      Cmd: ['migrate'],
      Env: ['A=1'],
      HostConfig: { NetworkMode: 'app-dev' },
      Labels: { 'its.role': 'migration' },
    });
  });
});

describe('engine addressing', () => {
  it('understands DOCKER_HOST', () => {
    expect(resolveEngineTarget(undefined)).toEqual({ socketPath: '/var/run/docker.sock' });
    expect(resolveEngineTarget('unix:///run/d.sock')).toEqual({
      socketPath: '/run/d.sock',
      dockerHost: 'unix:///run/d.sock',
    });
    expect(resolveEngineTarget('tcp://127.0.0.1:2375')).toEqual({
      host: '127.0.0.1',
      port: 2375,
      dockerHost: 'tcp://127.0.0.1:2375',
    });
    expect(resolveEngineTarget('ssh://deploy@edge-1')).toEqual({
      ssh: 'deploy@edge-1',
      dockerHost: 'ssh://deploy@edge-1',
    });
    // DOCKER_API_VERSION travels with the target; it is validated against the daemon at the first request.
    expect(resolveEngineTarget(undefined, undefined, '1.44')).toEqual({
      socketPath: '/var/run/docker.sock',
      apiVersion: '1.44',
    });
    expect(resolveEngineTarget(undefined, undefined, '')).toEqual({ socketPath: '/var/run/docker.sock' });
    expect(() => resolveEngineTarget('http://x')).toThrow(ConfigError);
  });

  it('finds the loopback-published port', () => {
    const c = {
      NetworkSettings: { Ports: { '8000/tcp': [{ HostIp: '127.0.0.1', HostPort: '49153' }] }, Networks: {} },
    } as unknown as ContainerInspect;
    expect(publishedPort(c, 8000)).toBe(49153);
    expect(publishedPort(c, 9000)).toBeUndefined();
  });
});
