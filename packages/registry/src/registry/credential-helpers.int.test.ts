/**
 * A credential helper end to end: openRegistry reads $DOCKER_CONFIG/config.json, runs the stand-in
 * helper `docker-credential-standin` (a shell script on PATH that plays pass/secretservice), and the
 * client logs in through the ghcr-like token proxy (a stand-in for ghcr.io's auth) in front of a real
 * docker-registry on loopback.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthProxy, type AuthProxy } from './ghcr-stand-in-token-proxy.fixture.js';
import { pushTestImage } from './image-fixtures.fixture.js';
import { startLocalRegistry, type LocalRegistry } from './local-registry.js';
import { openRegistry } from './open-registry.js';
import { RegistryClient } from './registry-client.js';

const PASSWORD = 'helper-held-token';
let registry: LocalRegistry;
let proxy: AuthProxy;
let dir: string;

beforeAll(async () => {
  registry = await startLocalRegistry();
  proxy = await startAuthProxy({
    upstream: registry.host,
    username: 'ci-bot',
    password: PASSWORD,
    scheme: 'bearer',
  });
  await pushTestImage(new RegistryClient({ registry: registry.host }), 'acme/app', 'v1', {
    files: [{ path: 'hello', data: 'hi' }],
  });
  dir = await mkdtemp(join(tmpdir(), 'its-cred-helper-int-'));
  const helper = join(dir, 'docker-credential-standin');
  await writeFile(
    helper,
    [
      '#!/bin/sh',
      '# A stand-in for a Docker credential helper, written by credential-helpers.int.test.ts.',
      'read -r server',
      `[ "$1" = get ] && [ "$server" = "${proxy.host}" ] || { echo "credentials not found in native keychain"; exit 1; }`,
      `printf '{"ServerURL":"%s","Username":"ci-bot","Secret":"${PASSWORD}"}\\n' "$server"`,
      '',
    ].join('\n'),
  );
  await chmod(helper, 0o755);
});
afterAll(async () => {
  await proxy?.close();
  await registry?.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('credentials from a Docker credential helper', () => {
  it('logs in with what credHelpers[host] holds', async () => {
    await writeFile(join(dir, 'config.json'), JSON.stringify({ credHelpers: { [proxy.host]: 'standin' } }));
    const logged: string[] = [];
    const { client } = await openRegistry(
      { DOCKER_REGISTRY: proxy.host, DOCKER_CONFIG: dir, PATH: `${dir}:${process.env.PATH ?? ''}` },
      { log: (line) => logged.push(line) },
    );
    await expect(client.listTags('acme/app')).resolves.toEqual(['v1']);
    expect(proxy.issued.length).toBeGreaterThan(0);
    expect(logged.join('\n')).not.toContain(PASSWORD);
  });

  it('fails naming the helper when it is not installed', async () => {
    await writeFile(join(dir, 'config.json'), JSON.stringify({ credsStore: 'not-installed' }));
    await expect(
      openRegistry({ DOCKER_REGISTRY: proxy.host, DOCKER_CONFIG: dir, PATH: dir }),
    ).rejects.toThrow(/docker-credential-not-installed \(credsStore in .*config\.json\) is not installed/);
  });
});
