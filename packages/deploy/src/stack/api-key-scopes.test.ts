/**
 * The worker key's scopes: asked for when the key is created, checked when a stored one is reused, so a
 * key kept from before the API had scopes (or created with too few) is replaced, never kept lacking one.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@its/core';
import { parseEnvironment } from '../config/environment-config.js';
import { checkUrl, ensureApiKeys } from './deploy-stack.js';
import { writeSecrets } from './stack-secrets.js';

function keysOf(apiKeys: string) {
  const parsed = parseEnvironment(
    `app: its\nimage: { repository: r }\nrouter: { port: 8080 }\nsecrets: { generate: [ADMIN_TOKEN] }\nstack: { tiers: [dev-vision], apiKeys: [${apiKeys}] }\n`,
    'dev',
    'dev.yml',
  );
  if (!parsed.config) throw new Error(parsed.errors.join('\n'));
  return parsed.config.stack!.apiKeys;
}

/** A fake API: `held` maps a key to its scopes; the check answers as apps/api does (204, 401, 403). */
function fakeApi(held: Record<string, string[]>) {
  const requests: string[] = [];
  const fetch = (async (
    url: string,
    init: { method: string; headers: Record<string, string>; body?: string },
  ) => {
    requests.push(`${init.method} ${url}${init.body ? ` ${init.body}` : ''}`);
    const u = new URL(url);
    if (u.pathname === '/api/v1/auth/check') {
      const key = init.headers.authorization!.replace('Bearer ', '');
      const scopes = held[key];
      if (!scopes) return new Response(null, { status: 401 });
      const wanted = (u.searchParams.get('scopes') ?? '').split(',').filter(Boolean);
      return new Response(null, { status: wanted.every((s) => scopes.includes(s)) ? 204 : 403 });
    }
    return new Response(JSON.stringify({ key: 'fresh-key' }), { status: 201 });
  }) as unknown as typeof globalThis.fetch;
  return { fetch, requests };
}

describe('worker key scopes', () => {
  it.each([
    [{ checkPath: '/api/v1/auth/check', scopes: [] }, 'http://a/api/v1/auth/check'],
    [
      { checkPath: '/api/v1/auth/check', scopes: ['ingest', 'read'] },
      'http://a/api/v1/auth/check?scopes=ingest%2Cread',
    ],
    [{ checkPath: '/check?v=1', scopes: ['ingest'] }, 'http://a/check?v=1&scopes=ingest'],
  ])('checkUrl(%j) → %s', (k, url) => {
    expect(checkUrl('http://a', k)).toBe(url);
  });

  it('a field-path error for a malformed scope name', () => {
    const parsed = parseEnvironment(
      `app: its\nimage: { repository: r }\nstack: { tiers: [x], apiKeys: [{ secret: K, name: w, scopes: ['Ingest All'] }] }\n`,
      'dev',
      'dev.yml',
    );
    expect(parsed.errors.join('\n')).toMatch(/stack\.apiKeys\.0\.scopes\.0: a scope name such as ingest/);
  });

  it('creates the key with the scopes; keeps a stored key holding them; replaces one lacking a scope', async () => {
    const keys = keysOf('{ secret: VISION_API_KEY, name: vision-worker, scopes: [ingest, read] }');
    const dir = mkdtempSync(join(tmpdir(), 'its-stack-scopes-'));
    const file = join(dir, 'secrets.env');
    writeSecrets(file, { ADMIN_TOKEN: 'admin' });
    const api = fakeApi({ full: ['ingest', 'read'], 'ingest-only': ['ingest'] });
    const logs: string[] = [];

    expect((await ensureApiKeys(api.fetch, 'http://a', keys, file, {}, (l) => logs.push(l)))[0]!.action).toBe(
      'created',
    );
    writeSecrets(file, { VISION_API_KEY: 'full' });
    expect((await ensureApiKeys(api.fetch, 'http://a', keys, file, {}, (l) => logs.push(l)))[0]!.action).toBe(
      'kept',
    );
    writeSecrets(file, { VISION_API_KEY: 'ingest-only' });
    expect((await ensureApiKeys(api.fetch, 'http://a', keys, file, {}, (l) => logs.push(l)))[0]!.action).toBe(
      'created',
    );
    expect(readFileSync(file, 'utf8')).toContain('VISION_API_KEY=fresh-key');
    expect(api.requests).toEqual([
      'POST http://a/api/v1/admin/api-keys {"name":"vision-worker","scopes":["ingest","read"]}',
      'GET http://a/api/v1/auth/check?scopes=ingest%2Cread',
      'GET http://a/api/v1/auth/check?scopes=ingest%2Cread',
      'POST http://a/api/v1/admin/api-keys {"name":"vision-worker","scopes":["ingest","read"]}',
    ]);
    expect(logs.join('\n')).toContain(
      'the stored key lacks a scope of ingest, read (403); creating a new one',
    );
  });

  it('a key set in the environment that lacks a scope is a config error naming the scopes', async () => {
    const keys = keysOf('{ secret: VISION_API_KEY, name: vision-worker, scopes: [ingest, read] }');
    const file = join(mkdtempSync(join(tmpdir(), 'its-stack-scopes-')), 'secrets.env');
    const api = fakeApi({ 'ingest-only': ['ingest'] });
    const err = await ensureApiKeys(
      api.fetch,
      'http://a',
      keys,
      file,
      { VISION_API_KEY: 'ingest-only' },
      () => {},
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain(
      'VISION_API_KEY (set in the environment) lacks a scope of ingest, read',
    );
    expect(JSON.stringify(err)).not.toContain('ingest-only');
  });

  it('without scopes, the body and the check are as before (services without scopes)', async () => {
    const keys = keysOf('{ secret: K, name: w }');
    const file = join(mkdtempSync(join(tmpdir(), 'its-stack-scopes-')), 'secrets.env');
    writeSecrets(file, { ADMIN_TOKEN: 'admin' });
    const api = fakeApi({});
    await ensureApiKeys(api.fetch, 'http://a', keys, file, {}, () => {});
    expect(api.requests).toEqual(['POST http://a/api/v1/admin/api-keys {"name":"w"}']);
  });
});
