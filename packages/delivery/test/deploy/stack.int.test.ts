import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine } from '@its/docker-engine';
import {
  DOCKER,
  buildTestImages,
  cleanUp,
  freePort,
  makeEnvironments,
  runItsctl,
  type TestEnvironments,
} from './test-support.fixture.js';

// A small stack on the real engine: the test service as two tiers (an "api" of 2 replicas with the
// repository's PostgreSQL image as an accessory, a "web" tier of 1 on the same network), each behind
// its own HAProxy. Asserts what the engine shows afterwards: the accessory reachable from a replica,
// kept (same container, same data) across a redeploy, and what teardown removes and keeps.

const APP = `itsstk${process.pid % 10000}`;
const POSTGRES_IMAGE = 'its-camera-ai/postgres:latest';
const engine = new DockerEngine({ socketPath: '/var/run/docker.sock' });
const NETWORK = `${APP}-stk`;
const VOLUME = `${APP}-stk-postgres`;
const ACCESSORY = `${APP}-stk-postgres`;
let envs: TestEnvironments;
let apiPort: number;
let webPort: number;
let badPort: number;

function docker(args: string[]): { code: number | null; out: string } {
  const r = spawnSync(DOCKER, args, { encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const volumeExists = () => docker(['volume', 'inspect', VOLUME]).code === 0;
const networkExists = () => docker(['network', 'inspect', NETWORK]).code === 0;
const password = () =>
  /POSTGRES_PASSWORD=(.*)/.exec(readFileSync(join(envs.stateDir, 'stk', 'secrets.env'), 'utf8'))![1]!;

function psql(sql: string): { code: number | null; out: string } {
  // Over TCP with the generated password: the same way a replica connects.
  return docker([
    'exec',
    '-e',
    `PGPASSWORD=${password()}`,
    ACCESSORY,
    'psql',
    '-h',
    '127.0.0.1',
    '-U',
    'its',
    '-d',
    'its',
    '-tAc',
    sql,
  ]);
}

async function served(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  return ((await res.json()) as { version: string }).version;
}

beforeAll(async () => {
  if (docker(['image', 'inspect', POSTGRES_IMAGE]).code !== 0)
    throw new Error(`${POSTGRES_IMAGE} is missing: build it with scripts/ci-containers.sh`);
  await cleanUp([APP]);
  docker(['volume', 'rm', '-f', VOLUME]);
  buildTestImages();
  apiPort = await freePort();
  webPort = await freePort();
  badPort = await freePort();
  const testsvc = (port: number, replicas: number) =>
    [
      `app: ${APP}`,
      'image: { repository: its-testsvc, defaultVersion: 1.0.0 }',
      `replicas: ${replicas}`,
      `router: { port: ${port}, drainTimeoutMs: 2000 }`,
      'healthChecks: { api: { retries: 40, intervalMs: 250 }, container: { timeoutMs: 30000 }, performance: { p95Ms: 2000 } }',
      // No traffic to watch here; the post-switch watch is the engine's, tested in canary.int.test.ts.
      'watch: { seconds: 0 }',
    ].join('\n');
  envs = makeEnvironments({
    stk: `${testsvc(apiPort, 2)}
accessories:
  postgres:
    image: ${POSTGRES_IMAGE}
    port: 5432
    env: { POSTGRES_USER: its, POSTGRES_DB: its, POSTGRES_PASSWORD: '\${POSTGRES_PASSWORD}' }
    volume: /var/lib/postgresql/data
secrets: { generate: [POSTGRES_PASSWORD] }
stack: { tiers: [stk-web] }
env: { DATABASE_URL: 'postgres://its:\${POSTGRES_PASSWORD}@postgres:5432/its' }
`,
    'stk-web': `${testsvc(webPort, 1)}\nnetwork: ${NETWORK}\nsecrets: { from: stk }\n`,
    // Broken on purpose: a database that cannot start (no password for its first start), an image that does not exist.
    'stk-bad': `${testsvc(badPort, 1)}\naccessories: { postgres: { image: ${POSTGRES_IMAGE}, port: 5432, healthTimeoutMs: 20000 } }\n`,
    'stk-noimg': `${testsvc(badPort, 1)}\naccessories: { cache: { image: its-camera-ai/no-such-image:latest, port: 6379 } }\n`,
  });
}, 300_000);

afterAll(async () => {
  await cleanUp([APP]);
  docker(['volume', 'rm', '-f', `${APP}-stk-bad-postgres`]);
  docker(['network', 'rm', NETWORK]);
  docker(['volume', 'rm', '-f', VOLUME]);
});

describe('a stack with an accessory on the real engine', () => {
  let accessoryId: string;

  it('deploys the accessory, then every tier, and prints every URL; the password stays secret', async () => {
    const dry = await runItsctl(['deploy', '-e', 'stk', '--dry-run'], envs);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toContain(
      `accessory postgres: create ${ACCESSORY} (${POSTGRES_IMAGE}, volume ${VOLUME})`,
    );
    expect(dry.stdout).toContain('plan: rolling of stk-web');
    expect(await engine.listContainers({ 'its.app': APP })).toEqual([]);

    const run = await runItsctl(['deploy', '-e', 'stk', '--json'], envs);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as {
      stack: { tiers: Array<{ environment: string; url: string; version: string }> };
    };
    expect(summary.stack.tiers.map((t) => [t.environment, t.url, t.version])).toEqual([
      ['stk', `http://127.0.0.1:${apiPort}`, '1.0.0'],
      ['stk-web', `http://127.0.0.1:${webPort}`, '1.0.0'],
    ]);
    expect(run.stderr).toContain('accessory postgres: created, healthy');
    expect([await served(apiPort), await served(webPort)]).toEqual(['1.0.0', '1.0.0']);

    const file = join(envs.stateDir, 'stk', 'secrets.env');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(password()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(`${run.stdout}${run.stderr}`).not.toContain(password());

    const accessory = await engine.inspectContainer(ACCESSORY);
    expect(accessory?.State.Health?.Status).toBe('healthy');
    expect(Object.keys(accessory!.NetworkSettings.Networks)).toEqual([NETWORK]);
    // Not published on the host: reachable only on the stack's network.
    expect(accessory!.NetworkSettings.Ports['5432/tcp'] ?? null).toBeNull();
    accessoryId = accessory!.Id;
  }, 240_000);

  it('the accessory is reachable from a replica by its alias, with the resolved secret in its environment', async () => {
    const replicas = await engine.listContainers({
      'its.app': APP,
      'its.environment': 'stk',
      'its.role': 'replica',
    });
    expect(replicas).toHaveLength(2);
    const name = replicas[0]!.Names[0]!.replace(/^\//, '');
    const probe = docker([
      'exec',
      name,
      'node',
      '-e',
      "require('net').connect(5432,'postgres').on('connect',()=>process.exit(0)).on('error',(e)=>{console.error(e.message);process.exit(1)})",
    ]);
    expect(probe).toEqual({ code: 0, out: '' });
    const env = docker(['inspect', '-f', '{{json .Config.Env}}', name]).out;
    expect(env).toContain(`DATABASE_URL=postgres://its:${password()}@postgres:5432/its`);
    // The web tier shares the network: the same alias answers there too.
    const web = (
      await engine.listContainers({ 'its.app': APP, 'its.environment': 'stk-web', 'its.role': 'replica' })
    )[0]!;
    expect(
      docker([
        'exec',
        web.Names[0]!.replace(/^\//, ''),
        'node',
        '-e',
        "require('net').connect(5432,'postgres').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))",
      ]).code,
    ).toBe(0);
    expect(psql("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('survives deploys')").code).toBe(0);
  }, 60_000);

  it('a redeploy replaces the replicas but keeps the accessory container and its data', async () => {
    const run = await runItsctl(['deploy', '-e', 'stk', '-v', '1.1.0'], envs);
    expect(run.code, run.stderr).toBe(0);
    expect([await served(apiPort), await served(webPort)]).toEqual(['1.1.0', '1.1.0']);
    expect((await engine.inspectContainer(ACCESSORY))?.Id).toBe(accessoryId);
    expect(psql('SELECT v FROM kept').out.trim()).toBe('survives deploys');
    expect(run.stderr).toMatch(/stk +1\.1\.0 +http:\/\/127\.0\.0\.1/);
  }, 240_000);

  it('status shows every tier and the accessory', async () => {
    const run = await runItsctl(['status', '-e', 'stk', '--json'], envs);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as {
      accessories: Array<{ name: string; state: string; health: string; volume: string }>;
      stack: { tiers: Array<{ environment: string; serving: { version: string } }> };
    };
    expect(report.accessories).toEqual([
      expect.objectContaining({ name: 'postgres', state: 'running', health: 'healthy', volume: VOLUME }),
    ]);
    expect(report.stack.tiers.map((t) => [t.environment, t.serving.version])).toEqual([
      ['stk', '1.1.0'],
      ['stk-web', '1.1.0'],
    ]);
  }, 60_000);

  it('teardown without --yes changes nothing; with --yes removes containers and network but keeps the volume', async () => {
    const dry = await runItsctl(['teardown', '-e', 'stk'], envs);
    expect(dry.code).toBe(2);
    expect(dry.stderr).toContain(`remove accessory ${ACCESSORY}`);
    expect(await engine.listContainers({ 'its.app': APP })).toHaveLength(6);

    const run = await runItsctl(['teardown', '-e', 'stk', '--yes'], envs);
    expect(run.code, run.stderr).toBe(0);
    expect(await engine.listContainers({ 'its.app': APP })).toEqual([]);
    expect(networkExists()).toBe(false);
    expect(volumeExists()).toBe(true);
    expect(existsSync(join(envs.stateDir, 'stk', 'secrets.env'))).toBe(true);
    expect(run.stdout).toContain(`kept volume ${VOLUME}`);
    // History is kept.
    const history = await runItsctl(['history', '-e', 'stk', '--json'], envs);
    expect((JSON.parse(history.stdout) as unknown[]).length).toBe(2);
  }, 120_000);

  it('teardown --volumes removes the volume and the generated secrets too', async () => {
    const run = await runItsctl(['teardown', '-e', 'stk', '--volumes', '--yes'], envs);
    expect(run.code, run.stderr).toBe(0);
    expect(volumeExists()).toBe(false);
    expect(existsSync(join(envs.stateDir, 'stk', 'secrets.env'))).toBe(false);
  }, 60_000);

  it('an accessory that cannot start fails the deploy before any replica starts, with its output', async () => {
    const run = await runItsctl(['deploy', '-e', 'stk-bad'], envs);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /accessory itsstk\d+-stk-bad-postgres did not become healthy: it exited with \d+/,
    );
    expect(run.stderr).toContain('POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) must be set');
    expect(
      await engine.listContainers({ 'its.app': APP, 'its.environment': 'stk-bad', 'its.role': 'replica' }),
    ).toEqual([]);
    const missing = await runItsctl(['deploy', '-e', 'stk-noimg'], envs);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      'accessory cache: image its-camera-ai/no-such-image:latest is not on this engine',
    );
    expect(await engine.listContainers({ 'its.app': APP, 'its.environment': 'stk-noimg' })).toEqual([]);
    const down = await runItsctl(['teardown', '-e', 'stk-bad', '--volumes', '--yes'], envs);
    expect(down.code, down.stderr).toBe(0);
    expect(await engine.listContainers({ 'its.app': APP })).toEqual([]);
  }, 120_000);
});
