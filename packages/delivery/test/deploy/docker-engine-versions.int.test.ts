import { spawn, spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import {
  buildTestImages,
  cleanUp,
  freePort,
  makeEnvironments,
  repoRoot,
  testEnvironment,
  type TestEnvironments,
} from './test-support.fixture.js';
import { Docker29StandInProxy } from '@its/docker-engine/testing';
import { DockerEngine, resolveEngineTarget } from '@its/docker-engine';

// API negotiation against the real Docker Engine 20.10 on /var/run/docker.sock (API 1.41), and against
// stand-ins: a loopback proxy in front of that same engine that answers as Docker Engine 29 does
// (API 1.52, minimum 1.44, Docker's own 400 below it), and one that answers as a daemon too old for us.
// No Docker 29 can be installed on this machine; docker29-stand-in-proxy.fixture.ts says what the
// stand-in does and does not emulate.

const APPS = ['itsv41', 'itsv52', 'itsvold'];
const local = new DockerEngine({ socketPath: '/var/run/docker.sock' });
let envs: TestEnvironments;
let docker29: Docker29StandInProxy;
let tooOld: Docker29StandInProxy;
const ports: Record<string, number> = {};
const tsx = createRequire(import.meta.url).resolve('tsx');

/** A child process, asynchronously: the stand-in in this process must keep answering meanwhile. */
function run(program: string, args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(program, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => (stderr += e.message));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function itsctl(args: string[], env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: {
      ...process.env,
      DOCKER_HOST: undefined,
      DOCKER_API_VERSION: undefined,
      ITS_DEPLOY_ENVIRONMENTS: envs.dir,
      ITS_DEPLOY_STATE_DIR: envs.stateDir,
      ...env,
    },
    cwd: repoRoot,
    now: () => new Date(),
  });
  return { code, stdout, stderr };
}

async function servedVersion(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  return ((await res.json()) as { version: string }).version;
}

beforeAll(async () => {
  await cleanUp(APPS);
  buildTestImages();
  for (const app of APPS) ports[app] = await freePort();
  envs = makeEnvironments(
    Object.fromEntries(APPS.map((app) => [app, testEnvironment(app, ports[app]!, 'rolling', 'replicas: 1')])),
  );
  docker29 = await Docker29StandInProxy.start();
  tooOld = await Docker29StandInProxy.start({ max: '1.30', min: '1.12', engineVersion: '17.06.0' });
}, 300_000);

afterAll(async () => {
  await docker29?.close();
  await tooOld?.close();
  await cleanUp(APPS);
}, 120_000);

describe('the real Docker Engine 20.10 (API 1.41)', () => {
  it('negotiates 1.41, deploys and reports status through it, with the shortened interval', async () => {
    expect(await local.apiVersion()).toBe('1.41');
    const deployed = await itsctl(['deploy', '-e', 'itsv41', '-v', '1.0.0']);
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(await servedVersion(ports.itsv41!)).toBe('1.0.0');
    const status = await itsctl(['status', '-e', 'itsv41', '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { serving: { version: string } }).serving.version).toBe('1.0.0');
    const [replica] = await local.listContainers({ 'its.app': 'itsv41', 'its.role': 'replica' });
    const inspected = (await local.inspectContainer(replica!.Id)) as unknown as {
      Config: { Healthcheck: { Interval: number; StartPeriod?: number } };
    };
    // 20.10 knows no StartInterval: the interval itself is 2 s; the start period stays the image's (10 s).
    expect(inspected.Config.Healthcheck.Interval).toBe(2_000_000_000);
    expect(inspected.Config.Healthcheck.StartPeriod).toBe(10_000_000_000);
  }, 180_000);
});

describe('a Docker Engine 29 stand-in (API 1.52, minimum 1.44) in front of the real engine', () => {
  it('refuses API 1.41 with Docker 29’s own message, as the pinned client used to get', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: docker29.port, path: '/v1.41/containers/json', method: 'GET' },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({
      message:
        'client version 1.41 is too old. Minimum supported API version is 1.44, please upgrade your client to a newer version',
    });
  });

  it('negotiates 1.52; deploy and status work through it; StartInterval is sent, CheckDuplicate is not', async () => {
    const before = docker29.requests.length;
    expect(await new DockerEngine(resolveEngineTarget(docker29.dockerHost)).apiVersion()).toBe('1.52');
    const env = { DOCKER_HOST: docker29.dockerHost };
    const deployed = await itsctl(['deploy', '-e', 'itsv52', '-v', '1.0.0'], env);
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(await servedVersion(ports.itsv52!)).toBe('1.0.0');
    const status = await itsctl(['status', '-e', 'itsv52', '--json'], env);
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { serving: { version: string } }).serving.version).toBe('1.0.0');

    const seen = docker29.requests.slice(before);
    // Every versioned request spoke 1.52; none was refused.
    const versioned = seen.filter((r) => /^\/v\d/.test(r.path));
    expect(versioned.length).toBeGreaterThan(10);
    expect(versioned.filter((r) => !r.path.startsWith('/v1.52/'))).toEqual([]);
    expect(seen.filter((r) => r.status === 400)).toEqual([]);

    const [replicaBody] = docker29
      .bodiesOf(/\/containers\/create\?name=itsv52-itsv52-/)
      .filter((b) => (b as { Labels: Record<string, string> }).Labels['its.role'] === 'replica');
    expect((replicaBody as { Healthcheck: unknown }).Healthcheck).toEqual({
      StartInterval: 2_000_000_000,
      // healthChecks.container.timeoutMs of the test environment (20 s): the deploy's wait.
      StartPeriod: 20_000_000_000,
    });
    const [network] = docker29.bodiesOf(/\/networks\/create$/);
    expect(network).toMatchObject({ Name: 'itsv52-itsv52', Driver: 'bridge' });
    expect(network).not.toHaveProperty('CheckDuplicate');
  }, 180_000);

  it('streams wait and logs through it (a one-off container)', async () => {
    const engine = new DockerEngine(resolveEngineTarget(docker29.dockerHost));
    const id = await engine.createContainer(`itsv52-oneoff-${process.pid}`, {
      Image: 'its-testsvc:1.0.0',
      Cmd: ['node', '-e', 'console.log("hello from API 1.52"); console.error("on stderr")'],
      Labels: { 'its.app': 'itsv52' },
    });
    try {
      await engine.startContainer(id);
      expect(await engine.waitContainer(id, 60_000)).toBe(0);
      // Two streams, demultiplexed: each line whole, in whichever order the process flushed them.
      const lines = (await engine.logs(id)).split('\n').filter(Boolean).sort();
      expect(lines).toEqual(['hello from API 1.52', 'on stderr']);
    } finally {
      await engine.removeContainer(id);
    }
    expect(docker29.requests.some((r) => r.path.startsWith(`/v1.52/containers/${id}/wait`))).toBe(true);
  }, 90_000);

  it('resolveDockerCli passes over Debian’s 20.10 client, which Docker 29 refuses', async () => {
    const env = { ...process.env, DOCKER_HOST: docker29.dockerHost, DOCKER_CLI: '' };
    // The stand-in runs in this process: the synchronous resolver runs in a child, or it would wait on itself.
    const resolve = async (purpose: 'run' | 'build') =>
      JSON.parse(
        (
          await run(
            process.execPath,
            [
              '--conditions=source',
              '--import',
              tsx,
              '-e',
              `import('${join(repoRoot, 'packages/docker-engine/src/docker-cli.ts')}').then((m) => {
                try { console.log(JSON.stringify({ cli: m.resolveDockerCli(process.env, { purpose: '${purpose}' }) })); }
                catch (e) { console.log(JSON.stringify({ error: e.message })); }
              })`,
            ],
            env,
          )
        ).stdout,
      ) as { cli?: string; error?: string };
    // A client of API ≥ 1.44 may or may not be on this machine's PATH; the refusal is named either way.
    const modern = await run('docker', ['version', '--format', '{{.Client.DefaultAPIVersion}}'], {
      ...env,
      DOCKER_HOST: 'tcp://127.0.0.1:1',
    });
    const modernApi = Number(modern.stdout.trim().split('.')[1] ?? 0);
    const forRun = await resolve('run');
    if (modernApi >= 44) {
      expect(forRun).toEqual({ cli: 'docker' });
      // attach (a hijacked connection) and the container's output, through the stand-in.
      const out = await run(
        'docker',
        ['run', '--rm', '--label', 'its.app=itsv52', 'its-testsvc:1.0.0', 'node', '-e', 'console.log(6*7)'],
        env,
      );
      expect(out.stdout, out.stderr).toBe('42\n');
      expect(docker29.requests.some((r) => /\/attach\?/.test(r.path) && r.status === 101)).toBe(true);
    } else {
      expect(forRun.error).toMatch(
        /\/usr\/bin\/docker 20\.10.*refused by the daemon: .*client version 1\.41 is too old/,
      );
    }
    expect(docker29.clientErrors).toEqual([]);
    // Builds need BuildKit too: 20.10 is refused, and a newer client without buildx cannot build.
    const buildx = (await run('docker', ['buildx', 'version'], env)).code === 0;
    if (!buildx) {
      const forBuild = await resolve('build');
      expect(forBuild.error).toMatch(
        /no docker client here can build with BuildKit on .*\n {2}\/usr\/bin\/docker 20\.10\.\S+ \(API ≤ 1\.41\): refused by the daemon: .*client version 1\.41 is too old/,
      );
    }
  }, 120_000);
});

describe('refusals before anything changes', () => {
  it('a daemon too old for us (max API 1.30): named versions, exit 2, no container created', async () => {
    const run = await itsctl(['deploy', '-e', 'itsvold', '-v', '1.0.0'], { DOCKER_HOST: tooOld.dockerHost });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /Docker Engine 17\.06\.0 speaks API 1\.12–1\.30; itsctl speaks Docker Engine API 1\.41–1\.52 \(at tcp:\/\/127\.0\.0\.1:\d+\)/,
    );
    expect(run.stderr).toMatch(/fix: upgrade Docker Engine to 20\.10 or newer/);
    // Only the unversioned question reached it: not one versioned request, so nothing was created.
    expect([...new Set(tooOld.requests.map((r) => r.path))]).toEqual(['/version']);
    expect(await local.listContainers({ 'its.app': 'itsvold' })).toEqual([]);
    expect((await local.raw('GET', '/networks/itsvold-itsvold')).status).toBe(404);
  }, 60_000);

  it('an unreachable DOCKER_HOST: the real itsctl exits 1 naming DOCKER_HOST, the cause and the fix', async () => {
    const closed = await freePort();
    const run = spawnSync(
      process.execPath,
      [join(repoRoot, 'packages', 'delivery', 'bin', 'itsctl.js'), 'status', '-e', 'itsv41'],
      {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 60_000,
        env: {
          ...process.env,
          DOCKER_HOST: `tcp://127.0.0.1:${closed}`,
          ITS_DEPLOY_ENVIRONMENTS: envs.dir,
          ITS_DEPLOY_STATE_DIR: envs.stateDir,
        },
      },
    );
    expect(run.status, run.stderr).toBe(1);
    expect(run.stderr).toContain(
      `Docker Engine unreachable at tcp://127.0.0.1:${closed} (DOCKER_HOST): connect ECONNREFUSED 127.0.0.1:${closed}`,
    );
    expect(run.stderr).toMatch(
      new RegExp(`fix: check that a Docker Engine listens on 127\\.0\\.0\\.1:${closed}.*unset DOCKER_HOST`),
    );
  }, 90_000);
});
