import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRegistry, type LocalRegistry } from '@its/registry/testing';
import { RegistryClient } from '@its/registry';
import { generateSigningKeyPair, signImage } from '@its/registry';
import { DockerEngine } from '@its/docker-engine';
import {
  DOCKER,
  buildTestImages,
  cleanUp,
  freePort,
  makeEnvironments,
  runItsctl,
  testEnvironment,
  type TestEnvironments,
} from './test-support.fixture.js';

// Deploying from a registry: versions listed from its tags, images pulled and run by digest,
// signatures verified before anything runs, and the pre-deploy migration as a one-off container.

const APPS = ['itsreg', 'itsmig'];
const engine = new DockerEngine({ socketPath: '/var/run/docker.sock' });
let registry: LocalRegistry;
let envs: TestEnvironments;
let repo: string;
let signedDigest: string;
const pushed: string[] = [];

function docker(...args: string[]): string {
  const r = spawnSync(DOCKER, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  await cleanUp(APPS);
  buildTestImages();
  registry = await startLocalRegistry();
  repo = `${registry.host}/itsreg/production`;
  for (const v of ['1.0.0', '1.1.0']) {
    docker('tag', `its-testsvc:${v}`, `${repo}:${v}`);
    docker('push', `${repo}:${v}`);
    pushed.push(`${repo}:${v}`);
  }
  const client = new RegistryClient({ registry: registry.host });
  signedDigest = (await client.headManifest('itsreg/production', '1.0.0'))!.digest;
  const keys = generateSigningKeyPair();
  await signImage(client, 'itsreg/production', signedDigest, keys.privateKeyPem);
  envs = makeEnvironments({});
  writeFileSync(join(envs.dir, 'cosign.pub'), keys.publicKeyPem);
  const image = `image: { repository: ${repo}, source: registry, requireSignature: true, publicKeys: [${join(envs.dir, 'cosign.pub')}] }`;
  writeFileSync(
    join(envs.dir, 'itsreg.yml'),
    testEnvironment(
      'itsreg',
      await freePort(),
      'blue-green',
      `migrations: { command: [node, -e, "console.log('migrated')"] }`,
    ).replace(/^image: .*$/m, image),
  );
  writeFileSync(
    join(envs.dir, 'itsmig.yml'),
    testEnvironment(
      'itsmig',
      await freePort(),
      'rolling',
      `migrations: { command: [node, -e, "console.error('relation exists'); process.exit(3)"] }`,
    ),
  );
}, 300_000);

afterAll(async () => {
  await cleanUp(APPS);
  for (const ref of pushed) spawnSync(DOCKER, ['rmi', ref], { stdio: 'ignore' });
  spawnSync(DOCKER, ['rmi', `${repo}@${signedDigest}`], { stdio: 'ignore' });
  await registry?.destroy();
}, 120_000);

describe('deploying from a registry', () => {
  it('runs a signed version by digest after its migration', async () => {
    const run = await runItsctl(['deploy', '-e', 'itsreg', '-v', '1.0.0', '--json'], envs);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/run migrations: .* node -e/);
    const summary = JSON.parse(run.stdout) as { digest: string; image: string; strategy: string };
    expect(summary).toMatchObject({
      digest: signedDigest,
      image: `${repo}@${signedDigest}`,
      strategy: 'blue-green',
    });
    const replicas = await engine.listContainers({ 'its.app': 'itsreg', 'its.role': 'replica' });
    expect(replicas.map((c) => c.Labels['its.digest'])).toEqual([signedDigest, signedDigest]);
    // The one-off migration container is gone.
    expect(await engine.listContainers({ 'its.app': 'itsreg', 'its.role': 'migration' })).toEqual([]);
  }, 180_000);

  it('refuses an unsigned version before anything runs', async () => {
    const before = (await engine.listContainers({ 'its.app': 'itsreg' })).map((c) => c.Id).sort();
    const run = await runItsctl(['deploy', '-e', 'itsreg', '-v', '1.1.0'], envs);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/signature verification of .*itsreg\/production:?@?.* failed/);
    expect((await engine.listContainers({ 'its.app': 'itsreg' })).map((c) => c.Id).sort()).toEqual(before);
  }, 60_000);

  it('lists the registry tags for an unknown version', async () => {
    const run = await runItsctl(['deploy', '-e', 'itsreg', '-v', '9.9.9'], envs);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /version "9\.9\.9" is not in .*itsreg\/production[\s\S]*versions that exist: 1\.0\.0, 1\.1\.0/,
    );
  }, 60_000);
});

describe('pre-deploy migration', () => {
  it('stops the deployment before any replica starts when the migration fails', async () => {
    const run = await runItsctl(['deploy', '-e', 'itsmig', '-v', '1.0.0'], envs);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/migration node -e .* exited with 3:\s+relation exists/);
    expect(await engine.listContainers({ 'its.app': 'itsmig', 'its.role': 'replica' })).toEqual([]);
    expect(await engine.listContainers({ 'its.app': 'itsmig', 'its.role': 'migration' })).toEqual([]);
  }, 120_000);
});
