/**
 * Docker credential helpers, through a stand-in helper on PATH: `docker-credential-standin` is a
 * shell script written by the test that plays a real helper (pass, secretservice, osxkeychain …):
 * it reads the server on stdin, logs its arguments and stdin, and prints {ServerURL, Username, Secret}
 * for ghcr.io only, "credentials not found" otherwise, as docker-credential-helpers do.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ConfigError } from '@its/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planCredentials, readDockerConfig, resolveCredentials, type DockerConfig } from './credentials.js';

let dir: string;
let env: Record<string, string>;
const calls = () => readFile(join(dir, 'calls.log'), 'utf8').catch(() => '');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'its-cred-helpers-'));
  const script = (name: string, body: string) =>
    writeFile(join(dir, `docker-credential-${name}`), `#!/bin/sh\n${body}\n`).then(() =>
      chmod(join(dir, `docker-credential-${name}`), 0o755),
    );
  await script(
    'standin',
    [
      '# A stand-in for a Docker credential helper, written by credential-helpers.test.ts.',
      'read -r server',
      `printf '%s|%s\\n' "$*" "$server" >> "${join(dir, 'calls.log')}"`,
      'case "$server" in',
      '  ghcr.io) printf \'{"ServerURL":"%s","Username":"helper-user","Secret":"helper-secret"}\\n\' "$server" ;;',
      '  *) echo "credentials not found in native keychain"; exit 1 ;;',
      'esac',
    ].join('\n'),
  );
  await script('broken', 'echo "gpg: decryption failed: No secret key"; exit 2');
  await script('chatty', 'echo "Username: u, Secret: leaked-secret"');
  await script('token', 'echo \'{"ServerURL":"ghcr.io","Username":"<token>","Secret":"refresh"}\'');
  env = { PATH: `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}`, DOCKER_CONFIG: dir };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const auth = Buffer.from('auths-user:auths-secret').toString('base64');
const resolve = (registry: string, dockerConfig: DockerConfig, extra: Record<string, string> = {}) =>
  resolveCredentials({ registry, env: { ...env, ...extra }, dockerConfig });

describe('Docker credential helpers', () => {
  it('asks credHelpers[host] first, with `get` and the server on stdin, never a shell', async () => {
    const creds = resolve('ghcr.io', {
      credHelpers: { 'ghcr.io': 'standin' },
      credsStore: 'broken',
      auths: { 'ghcr.io': { auth } },
    });
    expect(creds?.username).toBe('helper-user');
    expect(creds?.password.reveal()).toBe('helper-secret');
    expect(creds?.source).toBe(`docker-credential-standin (credHelpers["ghcr.io"] in ${dir}/config.json)`);
    expect(await calls()).toBe('get|ghcr.io\n');
  });

  it('asks credsStore over auths', () => {
    const creds = resolve('ghcr.io', { credsStore: 'standin', auths: { 'ghcr.io': { auth } } });
    expect(creds?.username).toBe('helper-user');
    expect(creds?.source).toBe(`docker-credential-standin (credsStore in ${dir}/config.json)`);
  });

  it('goes on anonymously when the store has nothing for the host (as Docker does)', () => {
    expect(resolve('r.example', { credsStore: 'standin', auths: { 'r.example': { auth } } })).toBeUndefined();
  });

  it('uses auths when no helper covers the host, and the variables over every helper', () => {
    expect(
      resolve('r.example', { credHelpers: { 'ghcr.io': 'broken' }, auths: { 'r.example': { auth } } })
        ?.source,
    ).toBe('Docker config auths["r.example"]');
    expect(
      resolve(
        'ghcr.io',
        { credHelpers: { 'ghcr.io': 'broken' } },
        { DOCKER_REGISTRY: 'ghcr.io', REGISTRY_USERNAME: 'ci', REGISTRY_PASSWORD: 'p' },
      )?.source,
    ).toBe('REGISTRY_USERNAME/REGISTRY_PASSWORD');
  });

  it('plans without running anything', () => {
    expect(
      planCredentials({
        registry: 'ghcr.io',
        env,
        dockerConfig: { credHelpers: { 'https://ghcr.io': 'pass' } },
      }),
    ).toEqual({
      kind: 'helper',
      program: 'docker-credential-pass',
      serverUrl: 'ghcr.io',
      source: `credHelpers["https://ghcr.io"] in ${dir}/config.json`,
    });
  });

  it('never prints the secret a helper gave', () => {
    const creds = resolve('ghcr.io', { credHelpers: { 'ghcr.io': 'standin' } });
    expect(inspect(creds)).not.toContain('helper-secret');
    expect(JSON.stringify(creds)).not.toContain('helper-secret');
  });

  it('names a missing helper, the config entry and the fix', () => {
    const error = (() => {
      try {
        return resolve('ghcr.io', { credsStore: 'desktop' });
      } catch (e) {
        return e;
      }
    })() as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      `the Docker credential helper docker-credential-desktop (credsStore in ${dir}/config.json) is not installed or not on PATH`,
    );
    expect(error.fix).toContain('install docker-credential-desktop on PATH, or remove that entry');
    expect(error.fix).toContain('REGISTRY_USERNAME and REGISTRY_PASSWORD');
  });

  it('names a failing helper with what it said', () => {
    expect(() => resolve('ghcr.io', { credHelpers: { 'ghcr.io': 'broken' } })).toThrow(
      `the Docker credential helper docker-credential-broken (credHelpers["ghcr.io"] in ${dir}/config.json) failed for ghcr.io with exit code 2: gpg: decryption failed: No secret key`,
    );
  });

  it('refuses output that is not the credentials JSON without quoting it, and identity tokens', () => {
    let message = '';
    try {
      resolve('ghcr.io', { credsStore: 'chatty' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/printed something other than \{"ServerURL","Username","Secret"\}/);
    expect(message).not.toContain('leaked-secret');
    expect(() => resolve('ghcr.io', { credsStore: 'token' })).toThrow(/holds an identity token/);
  });

  it('reads credHelpers and credsStore from config.json, refusing names that are paths', async () => {
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({ credsStore: 'standin', credHelpers: { 'ghcr.io': 'pass' } }),
    );
    expect(await readDockerConfig(env)).toEqual({
      credsStore: 'standin',
      credHelpers: { 'ghcr.io': 'pass' },
    });
    await writeFile(join(dir, 'config.json'), JSON.stringify({ credsStore: '../../bin/sh' }));
    await expect(readDockerConfig(env)).rejects.toThrow(
      `${dir}/config.json: credsStore: should be a credential helper name, e.g. pass or secretservice`,
    );
  });
});
