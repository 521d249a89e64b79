import { describe, expect, it } from 'vitest';
import { StepFailedError } from '@its/core';
import {
  type DockerCliProbe,
  chooseDockerCli,
  hasBuiltInBuildKit,
  parseDockerVersion,
  resolveComposeCommand,
  resolveDockerCli,
} from './docker-cli.js';

/** How a client of one version answers `docker version` against a daemon's API range. */
interface FakeClient {
  version: string;
  api: string;
  buildx?: boolean;
}
interface FakeDaemon {
  version: string;
  api: string;
  minApi: string;
}

const minor = (v: string) => Number(v.split('.')[1]);

function answer(client: FakeClient, daemon: FakeDaemon | 'down') {
  const clientJson = { Version: client.version, ApiVersion: client.api, DefaultAPIVersion: client.api };
  if (daemon === 'down')
    return {
      code: 1,
      stdout: JSON.stringify({ Client: clientJson, Server: null }),
      stderr:
        'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
    };
  // Clients negotiate down to the daemon's newest; a client below the daemon's minimum is refused.
  if (minor(client.api) < minor(daemon.minApi))
    return {
      code: 1,
      stdout: JSON.stringify({ Client: clientJson, Server: null }),
      stderr: `Error response from daemon: client version ${client.api} is too old. Minimum supported API version is ${daemon.minApi}, please upgrade your client to a newer version`,
    };
  return {
    code: 0,
    stdout: JSON.stringify({
      Client: clientJson,
      Server: { Version: daemon.version, ApiVersion: daemon.api, MinAPIVersion: daemon.minApi },
    }),
    stderr: '',
  };
}

function fakeProbe(clients: Record<string, FakeClient>, daemon: FakeDaemon | 'down') {
  const asked: string[] = [];
  const where: Record<string, string> = { docker: '/usr/local/bin/docker' };
  const probe: DockerCliProbe = {
    locate: (cli) => {
      const path = where[cli] ?? cli;
      return clients[path] ? path : undefined;
    },
    run: (path, args) => {
      asked.push(`${path} ${args.join(' ')}`);
      const client = clients[path]!;
      if (args[0] === 'buildx') return { code: client.buildx ? 0 : 1, stdout: '', stderr: '' };
      return answer(client, daemon);
    },
  };
  return { probe, asked };
}

const debian: FakeClient = { version: '20.10.24+dfsg1', api: '1.41' };
const modern: FakeClient = { version: '29.0.4', api: '1.52', buildx: true };
const modernNoBuildx: FakeClient = { version: '28.2.2', api: '1.50' };
const docker2010: FakeDaemon = { version: '20.10.24+dfsg1', api: '1.41', minApi: '1.12' };
const docker29: FakeDaemon = { version: '29.0.4', api: '1.52', minApi: '1.44' };

describe('resolveDockerCli', () => {
  const cases: Array<{
    name: string;
    clients: Record<string, FakeClient>;
    daemon: FakeDaemon | 'down';
    purpose: 'run' | 'build';
    env?: Record<string, string>;
    chosen?: string;
    error?: RegExp;
  }> = [
    {
      name: 'Debian 12 (20.10 daemon): Debian’s client first, even with a newer one on PATH',
      clients: { '/usr/bin/docker': debian, '/usr/local/bin/docker': modernNoBuildx },
      daemon: docker2010,
      purpose: 'build',
      chosen: '/usr/bin/docker',
    },
    {
      name: 'Docker 29 host: Debian’s 20.10 is refused, the newer client with buildx builds',
      clients: { '/usr/bin/docker': debian, '/usr/local/bin/docker': modern },
      daemon: docker29,
      purpose: 'build',
      chosen: 'docker',
    },
    {
      name: 'Docker 29 host, no buildx on the newer client: fine to run containers with it',
      clients: { '/usr/bin/docker': debian, '/usr/local/bin/docker': modernNoBuildx },
      daemon: docker29,
      purpose: 'run',
      chosen: 'docker',
    },
    {
      name: 'Docker 29 host, no buildx anywhere: one error naming every client and the fix',
      clients: { '/usr/bin/docker': debian, '/usr/local/bin/docker': modernNoBuildx },
      daemon: docker29,
      purpose: 'build',
      error:
        /no docker client here can build with BuildKit on Docker Engine 29\.0\.4 \(API 1\.44–1\.52\):\n {2}\/usr\/bin\/docker 20\.10\.24\+dfsg1 \(API ≤ 1\.41\): refused by the daemon: .*too old.*\n {2}docker \(\/usr\/local\/bin\/docker\) 28\.2\.2 \(API ≤ 1\.50\): cannot build with BuildKit/,
    },
    {
      name: 'Docker 29 host with only Debian’s client: names the minimum API',
      clients: { '/usr/bin/docker': debian },
      daemon: docker29,
      purpose: 'run',
      error: /no docker client here can talk to the Docker Engine \(minimum API 1\.44\)/,
    },
    {
      name: 'DOCKER_CLI comes first when the daemon accepts it',
      clients: { '/opt/docker': modern, '/usr/bin/docker': debian },
      daemon: docker2010,
      purpose: 'build',
      env: { DOCKER_CLI: '/opt/docker' },
      chosen: '/opt/docker',
    },
    {
      name: 'a DOCKER_CLI the daemon refuses is passed over for one it accepts',
      clients: { '/opt/old-docker': debian, '/usr/local/bin/docker': modern },
      daemon: docker29,
      purpose: 'run',
      env: { DOCKER_CLI: '/opt/old-docker' },
      chosen: 'docker',
    },
    {
      name: 'a DOCKER_CLI that does not exist is returned as is (the runner says it is not installed)',
      clients: { '/usr/bin/docker': debian },
      daemon: docker2010,
      purpose: 'build',
      env: { DOCKER_CLI: '/nonexistent/docker' },
      chosen: '/nonexistent/docker',
    },
    {
      name: 'daemon not running: the first client that could build (ensureDockerRunning explains)',
      clients: { '/usr/bin/docker': debian, '/usr/local/bin/docker': modern },
      daemon: 'down',
      purpose: 'build',
      chosen: '/usr/bin/docker',
    },
    {
      name: 'no client installed at all: `docker` (the runner says how to install one)',
      clients: {},
      daemon: docker2010,
      purpose: 'run',
      chosen: 'docker',
    },
  ];
  it.each(cases)('$name', ({ clients, daemon, purpose, env, chosen, error }) => {
    const { probe } = fakeProbe(clients, daemon);
    const run = () => resolveDockerCli(env ?? {}, { purpose, probe });
    if (error) {
      expect(run).toThrow(StepFailedError);
      expect(run).toThrow(error);
    } else expect(run()).toBe(chosen);
  });

  it('asks no further once a client is accepted, and never asks 20.10 about buildx', () => {
    const { probe, asked } = fakeProbe(
      { '/usr/bin/docker': debian, '/usr/local/bin/docker': modern },
      docker2010,
    );
    resolveDockerCli({}, { purpose: 'build', probe });
    expect(asked).toEqual(['/usr/bin/docker version --format {{json .}}']);
  });

  it('the error’s fix says what to install', () => {
    const { probe } = fakeProbe({ '/usr/bin/docker': debian }, docker29);
    try {
      resolveDockerCli({}, { purpose: 'build', probe });
      expect.unreachable();
    } catch (e) {
      expect((e as StepFailedError).fix).toMatch(
        /install a docker client that speaks API 1\.44 or newer with the buildx plugin .*or point DOCKER_CLI at one/,
      );
    }
  });
});

describe('parseDockerVersion / hasBuiltInBuildKit / chooseDockerCli', () => {
  it('reads a refusal printed by a too-old client', () => {
    expect(
      parseDockerVersion('/usr/bin/docker', {
        code: 1,
        stdout:
          '{"Client":{"Version":"20.10.24+dfsg1","ApiVersion":"1.41","DefaultAPIVersion":"1.41"},"Server":null}\n',
        stderr:
          'Error response from daemon: client version 1.41 is too old. Minimum supported API version is 1.44, please upgrade your client to a newer version\n',
      }),
    ).toEqual({
      cli: '/usr/bin/docker',
      found: true,
      clientVersion: '20.10.24+dfsg1',
      clientApi: '1.41',
      refusal:
        'Error response from daemon: client version 1.41 is too old. Minimum supported API version is 1.44, please upgrade your client to a newer version',
    });
  });

  it('takes the client’s newest API from DefaultAPIVersion (ApiVersion is the negotiated one)', () => {
    const r = parseDockerVersion('docker', {
      code: 0,
      stdout: JSON.stringify({
        Client: { Version: '28.2.2', ApiVersion: '1.41', DefaultAPIVersion: '1.50' },
        Server: { Version: '20.10.24', ApiVersion: '1.41', MinAPIVersion: '1.12' },
      }),
      stderr: '',
    });
    expect(r.clientApi).toBe('1.50');
    expect(r.server).toEqual({ version: '20.10.24', api: '1.41', minApi: '1.12' });
  });

  it.each([
    ['20.10.24+dfsg1', true],
    ['22.06.0', true],
    ['23.0.0', false],
    ['29.0.4', false],
    [undefined, false],
  ])('client %s builds with BuildKit on its own: %s', (version, builtIn) => {
    expect(hasBuiltInBuildKit(version)).toBe(builtIn);
  });

  it('an empty candidate list is an error, not a crash', () => {
    expect(chooseDockerCli([], 'run')).toMatchObject({ message: /no docker client here/ });
  });
});

describe('resolveComposeCommand', () => {
  const probe = (working: string[]) => ({
    run: (cli: string, args: string[]) => ({
      code: working.includes([cli, ...args.slice(0, -1)].join(' ')) ? 0 : 1,
      stdout: '',
      stderr: '',
    }),
  });
  it.each([
    {
      name: 'Compose v2 (Docker 29) preferred',
      working: ['docker compose', 'docker-compose'],
      want: ['docker', 'compose'],
    },
    { name: 'Compose v1 (Debian 12) otherwise', working: ['docker-compose'], want: ['docker-compose'] },
    { name: 'neither: undefined', working: [], want: undefined },
  ])('$name', ({ working, want }) => {
    expect(resolveComposeCommand({ PATH: '/x' }, probe(working))).toEqual(want);
  });
  it('honours COMPOSE_CMD', () => {
    expect(resolveComposeCommand({ COMPOSE_CMD: 'docker compose' }, probe([]))).toEqual([
      'docker',
      'compose',
    ]);
  });
});
