/**
 * Auth flows against a real docker-registry behind a stand-in for ghcr.io's token auth (ghcr.io
 * itself cannot be reached from here): bearer challenge → token with basic creds → retry, basic auth,
 * refused credentials, and credentials from the environment and from Docker's config.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/program.js';
import { exitCodeFor } from '@its/core';
import { openRecordStore } from '@its/registry';
import { promoteImage } from '@its/registry';
import { copyManifestTree, emptyCopyStats } from '@its/registry';
import { Secret } from '@its/core';
import type { Credentials } from '@its/registry';
import { startAuthProxy, type AuthProxy } from '@its/registry/testing';
import { pushTestImage } from '@its/registry/testing';
import { startLocalRegistry, type LocalRegistry } from '@its/registry/testing';
import { openRegistry } from '@its/registry';
import { RegistryClient } from '@its/registry';
import { RegistryAuthError } from '@its/registry';

const PASSWORD = 'pw-that-must-never-be-printed';
const creds = (password = PASSWORD): Credentials => ({
  username: 'ci-bot',
  password: new Secret(password),
  source: 'test',
});
let registry: LocalRegistry;
let bearer: AuthProxy;
let basic: AuthProxy;
let dir: string;

beforeAll(async () => {
  registry = await startLocalRegistry();
  bearer = await startAuthProxy({
    upstream: registry.host,
    username: 'ci-bot',
    password: PASSWORD,
    scheme: 'bearer',
  });
  basic = await startAuthProxy({
    upstream: registry.host,
    username: 'ci-bot',
    password: PASSWORD,
    scheme: 'basic',
  });
  dir = await mkdtemp(join(tmpdir(), 'its-auth-'));
});
afterAll(async () => {
  await bearer?.close();
  await basic?.close();
  await registry?.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('bearer-token challenge (the flow ghcr.io uses)', () => {
  it('gets a token per scope with basic creds, then pushes, reads and mounts', async () => {
    const client = new RegistryClient({ registry: bearer.host, credentials: creds() });
    await client.ping();
    const image = await pushTestImage(client, 'acme/app', 'v1', { files: [{ path: 'f', data: 'bearer' }] });
    expect((await client.getManifest('acme/app', 'v1')).digest).toBe(image.digest);
    expect(await client.listTags('acme/app')).toEqual(['v1']);
    expect(await client.mountBlob('acme/other', image.layers[0]!.digest, 'acme/app')).toBe(true);
    expect(bearer.issued.map((t) => t.scopes.join(' '))).toEqual(
      expect.arrayContaining([
        'repository:acme/app:pull,push',
        'repository:acme/other:pull,push repository:acme/app:pull',
      ]),
    );
  });

  it('refuses wrong credentials with a config error that names the registry and never the password', async () => {
    const client = new RegistryClient({ registry: bearer.host, credentials: creds('wrong-password') });
    const error = (await client.getManifest('acme/app', 'v1').catch((e: unknown) => e)) as RegistryAuthError;
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect(exitCodeFor(error)).toBe(2);
    expect(error.message).toContain(`registry ${bearer.host} refused access`);
    expect(error.message).toContain('token service');
    expect(error.fix).toContain('REGISTRY_USERNAME and REGISTRY_PASSWORD');
    expect(`${error.message} ${error.fix} ${inspect(error)}`).not.toContain('wrong-password');
  });

  it('tries an anonymous token without credentials, and says anonymous access was refused', async () => {
    const client = new RegistryClient({ registry: bearer.host });
    await expect(client.getManifest('acme/app', 'v1')).rejects.toThrow(/an anonymous token request/);
  });

  it('copies blobs between registries when a mount cannot work (different registry)', async () => {
    const direct = new RegistryClient({ registry: registry.host });
    const viaProxy = new RegistryClient({ registry: bearer.host, credentials: creds() });
    const image = await pushTestImage(direct, 'its/dev', 'v9', { files: [{ path: 'g', data: 'cross' }] });
    const stats = emptyCopyStats();
    await copyManifestTree(
      { client: direct, repository: 'its/dev' },
      { client: viaProxy, repository: 'mirror/app' },
      image.digest,
      stats,
    );
    expect(stats.blobsCopied).toBe(2);
    expect(stats.blobsMounted).toBe(0);
    expect((await direct.getManifest('mirror/app', image.digest)).bytes.equals(image.bytes)).toBe(true);
  });
});

describe('basic auth', () => {
  it('answers the Basic challenge with the configured credentials', async () => {
    const client = new RegistryClient({ registry: basic.host, credentials: creds() });
    const image = await pushTestImage(client, 'basic/app', 'v1', { files: [{ path: 'h', data: 'basic' }] });
    expect((await client.headManifest('basic/app', 'v1'))?.digest).toBe(image.digest);
  });

  it('says credentials are needed when there are none', async () => {
    const client = new RegistryClient({ registry: basic.host });
    await expect(client.listTags('basic/app')).rejects.toThrow(
      /wants a username and password and none is configured/,
    );
  });

  it('reports refused basic credentials after one retry', async () => {
    const client = new RegistryClient({ registry: basic.host, credentials: creds('nope') });
    await expect(client.listTags('basic/app')).rejects.toThrow(/credentials from test was refused/);
  });
});

describe('credentials from the environment and from Docker config', () => {
  it('uses REGISTRY_USERNAME/REGISTRY_PASSWORD for DOCKER_REGISTRY', async () => {
    const { client } = await openRegistry({
      DOCKER_REGISTRY: bearer.host,
      REGISTRY_USERNAME: 'ci-bot',
      REGISTRY_PASSWORD: PASSWORD,
      DOCKER_CONFIG: dir,
    });
    await expect(client.listTags('acme/app')).resolves.toEqual(['v1']);
  });

  it('uses the auths entry of $DOCKER_CONFIG/config.json', async () => {
    const config = join(dir, 'dockercfg');
    await mkdir(config);
    const auth = Buffer.from(`ci-bot:${PASSWORD}`).toString('base64');
    await writeFile(
      join(config, 'config.json'),
      JSON.stringify({ auths: { [`http://${basic.host}`]: { auth } } }),
    );
    const { client } = await openRegistry({ DOCKER_REGISTRY: basic.host, DOCKER_CONFIG: config });
    await expect(client.listTags('basic/app')).resolves.toEqual(['v1']);
  });

  it('itsctl exits 2 on refused credentials and prints neither password nor auth header', async () => {
    let out = '';
    const code = await runCli(['registry', 'status'], {
      stdout: (t) => (out += t),
      stderr: (t) => (out += t),
      env: {
        DOCKER_REGISTRY: basic.host,
        REGISTRY_USERNAME: 'ci-bot',
        REGISTRY_PASSWORD: 'leaky-secret',
        DOCKER_CONFIG: dir,
        ITS_STATE_DIR: dir,
      },
      cwd: dir,
      now: () => new Date(),
    });
    expect(code).toBe(2);
    expect(out).toContain(`registry ${basic.host} refused access`);
    expect(out).not.toContain('leaky-secret');
    expect(out).not.toContain(Buffer.from('ci-bot:leaky-secret').toString('base64'));
  });

  it('promotes into a registry that needs a token', async () => {
    const direct = new RegistryClient({ registry: registry.host });
    const target = new RegistryClient({ registry: bearer.host, credentials: creds() });
    const image = await pushTestImage(direct, 'its/production', 'v7', {
      files: [{ path: 'k', data: 'release' }],
    });
    const store = openRecordStore(join(dir, 'records.json'));
    await store.append({
      digest: image.digest,
      environment: 'production',
      kind: 'deploy',
      name: 'blue-green',
      result: 'pass',
      at: '2026-11-26T00:00:00Z',
    });
    const result = await promoteImage(
      { image: 'its', from: 'production', to: 'release', tags: ['v7'] },
      { source: direct, target, store, now: () => new Date('2026-11-26T01:00:00Z') },
    );
    expect(result.digest).toBe(image.digest);
    expect((await target.headManifest('its', 'v7'))?.digest).toBe(image.digest);
  });
});

describe('between two real registries', () => {
  it('streams blobs (chunked PUT) and keeps the manifest bytes', async () => {
    const second = await startLocalRegistry();
    try {
      const a = new RegistryClient({ registry: registry.host });
      const b = new RegistryClient({ registry: second.host });
      const big = Buffer.alloc(3 * 1024 * 1024);
      for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
      const image = await pushTestImage(a, 'its/staging', 'v8', { files: [{ path: 'big', data: big }] });
      const stats = emptyCopyStats();
      await copyManifestTree(
        { client: a, repository: 'its/staging' },
        { client: b, repository: 'its/production' },
        image.digest,
        stats,
      );
      expect(stats).toMatchObject({ blobsCopied: 2, blobsMounted: 0, manifests: 1 });
      const copied = await b.getManifest('its/production', image.digest);
      expect(copied.bytes.equals(image.bytes)).toBe(true);
      expect((await b.getBlob('its/production', image.layers[0]!.digest)).length).toBe(image.layers[0]!.size);
    } finally {
      await second.destroy();
    }
  });
});
