/** The build command's edges: bad input and an unreachable engine end in messages, not stack traces. */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/program.js';
import { isDaemonUnreachable, resolveDockerCli } from '@its/docker-engine';

async function itsctl(argv: string[], env: NodeJS.ProcessEnv = process.env) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env,
    cwd: process.cwd(),
    now: () => new Date('2026-11-26T01:00:00Z'),
  });
  return { code, stdout, stderr };
}

describe('itsctl build: bad input', () => {
  it('an unknown target lists the valid ones and exits 2 before touching Docker', async () => {
    const res = await itsctl(['build', '--target', 'prod'], {
      ...process.env,
      DOCKER_CLI: '/nonexistent/docker',
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(
      "--target: unknown target 'prod'; valid targets: development, testing, production, gpu-production, edge",
    );
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });
  it('an unknown platform lists the valid ones; --json gives one error document', async () => {
    const res = await itsctl(['build', '--platform', 'linux/riscv64', '--json']);
    expect(res.code).toBe(2);
    expect(JSON.parse(res.stdout)).toEqual({
      error: {
        kind: 'usage',
        message: "--platform: unknown platform 'linux/riscv64'; valid platforms: linux/amd64, linux/arm64",
      },
    });
  });
});

describe('itsctl build / structure-test: Docker Engine not running', () => {
  // A real client against a socket nobody listens on: the same answer as a stopped daemon.
  const env = { ...process.env, DOCKER_HOST: 'unix:///tmp/its-no-docker-here.sock' };
  for (const argv of [
    ['build', '--target', 'edge'],
    ['structure-test', '--image', 'x', '--config', 'docker/structure-tests/edge.yaml'],
  ]) {
    it(`${argv[0]} says how to start it, exit 1, no stack trace`, async () => {
      const res = await itsctl(argv, env);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/Docker Engine is not reachable: Cannot connect to the Docker daemon/);
      expect(res.stderr).toMatch(/fix: start Docker Engine: `dockerd > \/var\/log\/dockerd\.log 2>&1 &`/);
      expect(res.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('a missing docker client says how to install it', async () => {
    const res = await itsctl(['build', '--target', 'edge'], {
      ...process.env,
      DOCKER_CLI: '/nonexistent/docker',
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/docker client \/nonexistent\/docker is not installed/);
    expect(res.stderr).toMatch(/apt-get install -y docker\.io/);
  });
});

describe('docker-cli helpers', () => {
  it('prefers Debian’s client, honours DOCKER_CLI (more cases in docker-cli.test.ts)', () => {
    // Every client answers as Debian's 20.10 would against a 20.10 daemon.
    const answer = {
      code: 0,
      stdout: '{"Client":{"Version":"20.10.24"},"Server":{"Version":"20.10.24"}}',
      stderr: '',
    };
    const probe = (installed: (p: string) => boolean) => ({
      locate: (cli: string) => (installed(cli) ? cli : undefined),
      run: () => answer,
    });
    expect(resolveDockerCli({}, { probe: probe((p) => p === '/usr/bin/docker') })).toBe('/usr/bin/docker');
    expect(resolveDockerCli({}, { probe: probe(() => false) })).toBe('docker');
    expect(resolveDockerCli({ DOCKER_CLI: '/opt/docker' }, { probe: probe(() => true) })).toBe('/opt/docker');
  });
  it('recognises an unreachable daemon', () => {
    expect(
      isDaemonUnreachable(
        'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
      ),
    ).toBe(true);
    expect(isDaemonUnreachable('Error response from daemon: No such image: x')).toBe(false);
  });
});
