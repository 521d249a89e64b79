import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine } from '@its/docker-engine';
import {
  DOCKER,
  buildTestImages,
  cleanUp,
  freePort,
  makeEnvironments,
  repoRoot,
  runItsctl,
  type TestEnvironments,
} from './test-support.fixture.js';

// The product itself, deployed the way `./scripts/deploy.sh -e development` does: the repository's three
// development files (API + PostgreSQL + Redis, dashboard, vision worker), only renamed (a unique app,
// free ports) so the test never touches a developer's running stack. Needs its-camera-ai:production and
// the accessory images (scripts/ci-containers.sh builds them); about a minute on two cores.

const APP = `itsprod${process.pid % 10000}`;
const IMAGES = ['its-camera-ai:production', 'its-camera-ai/postgres:latest', 'its-camera-ai/redis:latest'];
const engine = new DockerEngine({ socketPath: '/var/run/docker.sock' });
let envs: TestEnvironments;
const ports = { api: 0, web: 0, vision: 0 };

function productFile(name: string): string {
  return readFileSync(join(repoRoot, 'deploy', 'environments', `${name}.yml`), 'utf8')
    .replaceAll('app: its-camera-ai', `app: ${APP}`)
    .replaceAll('its-camera-ai-development', `${APP}-development`)
    .replaceAll('127.0.0.1:8080', `127.0.0.1:${ports.api}`)
    .replaceAll('127.0.0.1:3080', `127.0.0.1:${ports.web}`)
    .replaceAll('localhost:3080', `localhost:${ports.web}`)
    .replace(/port: 8080\n/, `port: ${ports.api}\n`)
    .replace(/port: 3080\n/, `port: ${ports.web}\n`)
    .replace(/port: 8090\n/, `port: ${ports.vision}\n`);
}

const volumes = () =>
  spawnSync(DOCKER, ['volume', 'ls', '-q', '--filter', `label=its.app=${APP}`], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean);

beforeAll(async () => {
  for (const image of IMAGES)
    if (spawnSync(DOCKER, ['image', 'inspect', image], { stdio: 'ignore' }).status !== 0)
      throw new Error(`${image} is missing: build it with scripts/ci-containers.sh`);
  buildTestImages();
  await cleanUp([APP]);
  ports.api = await freePort();
  ports.web = await freePort();
  ports.vision = await freePort();
  envs = makeEnvironments({
    development: productFile('development'),
    'development-web': productFile('development-web'),
    'development-vision': productFile('development-vision'),
  });
}, 300_000);

afterAll(async () => {
  await cleanUp([APP]);
  for (const v of volumes()) spawnSync(DOCKER, ['volume', 'rm', '-f', v]);
});

describe('the product stack (api, web, vision, postgres, redis) from the development files', () => {
  it('deploys and every tier works with the others', async () => {
    const run = await runItsctl(['deploy', '-e', 'development', '--json'], envs);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as {
      stack: { tiers: Array<{ environment: string; url: string }> };
    };
    expect(summary.stack.tiers.map((t) => t.url)).toEqual([
      `http://127.0.0.1:${ports.api}`,
      `http://127.0.0.1:${ports.web}`,
      `http://127.0.0.1:${ports.vision}`,
    ]);
    // The API runs on the PostgreSQL and Redis accessories, not its embedded store.
    const ready = (await (await fetch(`http://127.0.0.1:${ports.api}/health/ready`)).json()) as {
      checks: Array<{ name: string; status: string }>;
    };
    expect(ready.checks.filter((c) => c.name === 'database' || c.name === 'redis')).toEqual([
      expect.objectContaining({ name: 'database', status: 'ok' }),
      expect.objectContaining({ name: 'redis', status: 'ok' }),
    ]);
    const replicas = await engine.listContainers({
      'its.app': APP,
      'its.environment': 'development',
      'its.role': 'replica',
    });
    const env = spawnSync(DOCKER, ['inspect', '-f', '{{json .Config.Env}}', replicas[0]!.Id], {
      encoding: 'utf8',
    }).stdout;
    expect(env).toContain('@postgres:5432/its');
    // The dashboard sends the browser to the API's router.
    const config = (await (await fetch(`http://127.0.0.1:${ports.web}/config.json`)).json()) as {
      apiBaseUrl: string;
    };
    expect(config.apiBaseUrl).toBe(`http://127.0.0.1:${ports.api}`);
    // The worker is up, with the key the stack created, which the API accepts.
    expect(
      ((await (await fetch(`http://127.0.0.1:${ports.vision}/health`)).json()) as { status: string }).status,
    ).toBe('ok');
    const secrets = readFileSync(join(envs.stateDir, 'development', 'secrets.env'), 'utf8');
    const key = /VISION_API_KEY=(.+)/.exec(secrets)![1]!;
    // With the scopes the worker needs (stack.apiKeys[].scopes), and no more: it cannot write cameras.
    const check = await fetch(`http://127.0.0.1:${ports.api}/api/v1/auth/check?scopes=ingest,read`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(check.status).toBe(204);
    const write = await fetch(`http://127.0.0.1:${ports.api}/api/v1/cameras`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', streamUrl: 'rtsp://10.0.0.1/x', location: { lat: 0, lon: 0 } }),
    });
    expect(write.status).toBe(403);
    expect(`${run.stdout}${run.stderr}`).not.toContain(key);
  }, 300_000);

  it('teardown --volumes --yes leaves nothing of it on the engine', async () => {
    const run = await runItsctl(['teardown', '-e', 'development', '--volumes', '--yes'], envs);
    expect(run.code, run.stderr).toBe(0);
    expect(await engine.listContainers({ 'its.app': APP })).toEqual([]);
    expect(volumes()).toEqual([]);
  }, 120_000);
});
