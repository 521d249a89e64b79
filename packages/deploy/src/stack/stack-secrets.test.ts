import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@its/core';
import {
  generateSecret,
  interpolateEnv,
  loadSecrets,
  referencedNames,
  resolveEnvironmentSecrets,
  secretsToGenerate,
  writeSecrets,
} from './stack-secrets.js';

const fixed = (byte: number) => (n: number) => Buffer.alloc(n, byte);

describe('secrets', () => {
  it('interpolates ${NAME} and collects every unknown reference with its field path', () => {
    expect(
      interpolateEnv(
        { DATABASE_URL: 'postgres://its:${PW}@postgres:5432/its', PLAIN: 'x$y', TWO: '${A}-${B}' },
        { PW: 's3cret', A: 'a' },
        'env',
      ),
    ).toEqual({
      env: { DATABASE_URL: 'postgres://its:s3cret@postgres:5432/its', PLAIN: 'x$y', TWO: 'a-${B}' },
      missing: ['env.TWO: ${B} is not set'],
    });
    expect(referencedNames('${A}:${B_2}:$C')).toEqual(['A', 'B_2']);
  });

  it('generates only what no source sets', () => {
    expect(secretsToGenerate(['A', 'B', 'C', 'D'], [{ A: '1' }, { B: '2' }, { C: '' }])).toEqual(['C', 'D']);
    expect(generateSecret(fixed(0xff))).toBe('_'.repeat(42) + '8');
  });

  it('generates once into secrets.env with mode 600, then reuses it; the environment wins', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'its-secrets-')), 'state');
    const first = loadSecrets({
      secretsDir: dir,
      generate: ['PW', 'TOKEN'],
      processEnv: {},
      fileEnv: {},
      random: fixed(1),
    });
    expect(first.file).toBe(join(dir, 'secrets.env'));
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    expect(first.vars.PW).toBe(Buffer.alloc(32, 1).toString('base64url'));
    const again = loadSecrets({
      secretsDir: dir,
      generate: ['PW', 'TOKEN'],
      processEnv: { TOKEN: 'mine' },
      fileEnv: {},
      random: fixed(2),
    });
    expect(again.vars).toMatchObject({ PW: first.vars.PW, TOKEN: 'mine' });
    // The file still holds what was generated; the environment only overrides it for this run.
    expect(readFileSync(first.file, 'utf8')).toContain(`TOKEN=${Buffer.alloc(32, 1).toString('base64url')}`);
    writeSecrets(first.file, { KEY: 'k' });
    expect(readFileSync(first.file, 'utf8')).toMatch(/PW=.*\nTOKEN=.*\nKEY=k\n$/);
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
  });

  it('a template of the same name is not a value: ADMIN_TOKEN: ${ADMIN_TOKEN} still generates it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'its-secrets-'));
    const fileEnv = { ADMIN_TOKEN: '${ADMIN_TOKEN}', FROM_FILE: 'f' };
    const { vars } = loadSecrets({
      secretsDir: dir,
      generate: ['ADMIN_TOKEN'],
      processEnv: {},
      fileEnv,
      random: fixed(3),
    });
    expect(vars.ADMIN_TOKEN).toBe(Buffer.alloc(32, 3).toString('base64url'));
    expect(vars.FROM_FILE).toBe('f');
    expect(interpolateEnv(fileEnv, vars, 'env').env.ADMIN_TOKEN).toBe(vars.ADMIN_TOKEN);
  });

  it('resolves replicas and accessories together, or names every unresolved reference at once', () => {
    const config = { env: {}, accessories: { postgres: { env: { POSTGRES_PASSWORD: '${PW}' } } } };
    expect(resolveEnvironmentSecrets(config, { URL: 'pg://${PW}' }, { PW: 'p' }, 'f')).toEqual({
      replicaEnv: { URL: 'pg://p' },
      accessoryEnv: { postgres: { POSTGRES_PASSWORD: 'p' } },
    });
    try {
      resolveEnvironmentSecrets(config, { API_KEY: '${KEY}' }, {}, '/s/secrets.env');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).toBe(
        '2 secret reference(s) cannot be resolved:\n  env.API_KEY: ${KEY} is not set\n  accessories.postgres.env.POSTGRES_PASSWORD: ${PW} is not set',
      );
    }
  });
});
