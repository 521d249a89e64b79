/**
 * API-key scopes on the embedded store (PGlite): every guarded route × every kind of credential, the
 * admin endpoint and the key check, the CLI's flags, and the migration of keys made before scopes.
 * auth-scopes.int.test.ts runs the migration case on real PostgreSQL.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { API_KEY_SCOPES, API_ROUTES, type ApiKeyScope, type Camera } from '@its/contracts';
import { authenticateApiKey, issueApiKey } from '../src/auth/api-key-store.js';
import { findMissingScopes, normaliseScopes } from '../src/auth/api-keys.js';
import { parseApiKeyCliArgs } from '../src/auth/apikey-cli-args.js';
import type { Store } from '../src/store/create-store.js';
import {
  ADMIN_TOKEN,
  aggregate,
  buildTestApp,
  cameraInput,
  crossing,
  openStore,
  resetStore,
} from './fixtures.js';
import { assertLegacyKeysMigrate } from './auth-scopes-cases.js';

const NOW = new Date('2025-03-01T12:00:00.000Z');

let store: Store;
let app: FastifyInstance;
let readApp: FastifyInstance;
let camera: Camera;
/** One key per credential kind, created fresh for each test. */
let keys: Record<string, string>;

beforeAll(async () => {
  store = await openStore();
  ({ app } = await buildTestApp(store, { clock: () => NOW }));
  ({ app: readApp } = await buildTestApp(store, {
    clock: () => NOW,
    env: { API_KEYS_READ_REQUIRED: 'true' },
  }));
});
afterAll(async () => {
  await app.close();
  await readApp.close();
  await store.close();
});
beforeEach(async () => {
  await resetStore(store);
  const make = async (name: string, scopes: readonly ApiKeyScope[]) =>
    (await issueApiKey(store.db, { name, scopes }, NOW)).key;
  keys = {
    ingest: await make('worker', ['ingest']),
    read: await make('reader', ['read']),
    'cameras:write': await make('operator', ['cameras:write']),
    'ingest+read': await make('default', ['ingest', 'read']),
  };
  const res = await app.inject({
    method: 'POST',
    url: API_ROUTES.cameras,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    payload: cameraInput({ streamUrl: 'rtsp://user:s3cret@10.0.0.5/cam' }),
  });
  expect(res.statusCode).toBe(201);
  camera = res.json();
});

type Credential = 'none' | 'admin' | 'ingest' | 'read' | 'cameras:write' | 'ingest+read';
const headersFor = (c: Credential): Record<string, string> =>
  c === 'none' ? {} : { authorization: `Bearer ${c === 'admin' ? ADMIN_TOKEN : keys[c]}` };

interface RouteCase {
  route: string;
  scope: ApiKeyScope;
  /** Reads are guarded only with API_KEYS_READ_REQUIRED. */
  app: () => FastifyInstance;
  request: () => { method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; url: string; payload?: unknown };
  ok: number;
}

const routes: RouteCase[] = [
  {
    route: 'POST /cameras',
    scope: 'cameras:write',
    app: () => app,
    request: () => ({ method: 'POST', url: API_ROUTES.cameras, payload: cameraInput({ name: 'new' }) }),
    ok: 201,
  },
  {
    route: 'PATCH /cameras/:id',
    scope: 'cameras:write',
    app: () => app,
    request: () => ({ method: 'PATCH', url: API_ROUTES.camera(camera.id), payload: { name: 'renamed' } }),
    ok: 200,
  },
  {
    route: 'DELETE /cameras/:id',
    scope: 'cameras:write',
    app: () => app,
    request: () => ({ method: 'DELETE', url: API_ROUTES.camera(camera.id) }),
    ok: 204,
  },
  {
    route: 'POST /ingest/events',
    scope: 'ingest',
    app: () => app,
    request: () => ({
      method: 'POST',
      url: API_ROUTES.ingestEvents,
      payload: { events: [crossing(camera.id)] },
    }),
    ok: 200,
  },
  {
    route: 'POST /ingest/aggregates',
    scope: 'ingest',
    app: () => app,
    request: () => ({
      method: 'POST',
      url: API_ROUTES.ingestAggregates,
      payload: { aggregates: [aggregate(camera.id)] },
    }),
    ok: 200,
  },
  {
    route: 'POST /ingest/status',
    scope: 'ingest',
    app: () => app,
    request: () => ({
      method: 'POST',
      url: API_ROUTES.ingestStatus,
      payload: { cameras: [{ cameraId: camera.id, state: 'online' }] },
    }),
    ok: 200,
  },
  {
    route: 'GET /cameras (reads keyed)',
    scope: 'read',
    app: () => readApp,
    request: () => ({ method: 'GET', url: API_ROUTES.cameras }),
    ok: 200,
  },
  {
    route: 'GET /aggregates (reads keyed)',
    scope: 'read',
    app: () => readApp,
    request: () => ({
      method: 'GET',
      url: `${API_ROUTES.aggregates}?from=2025-03-01T10:00:00.000Z&to=2025-03-01T12:00:00.000Z`,
    }),
    ok: 200,
  },
  {
    route: 'GET /counts/latest (reads keyed)',
    scope: 'read',
    app: () => readApp,
    request: () => ({ method: 'GET', url: API_ROUTES.latestCounts }),
    ok: 200,
  },
];

const credentials: Credential[] = ['none', 'admin', 'ingest', 'read', 'cameras:write', 'ingest+read'];
const expected = (r: RouteCase, c: Credential): number => {
  if (c === 'none') return 401;
  if (c === 'admin') return r.ok;
  return c.split('+').includes(r.scope) ? r.ok : 403;
};
const table = routes.flatMap((r) => credentials.map((c) => [r.route, c, expected(r, c), r] as const));

describe('route × credential', () => {
  it.each(table)('%s with %s → %i', async (_route, credential, status, r) => {
    const res = await r.app().inject({ ...r.request(), headers: headersFor(credential) } as never);
    expect(res.statusCode, res.body).toBe(status);
    if (status === 403) {
      const body = res.json();
      expect(body).toMatchObject({ statusCode: 403, error: 'Forbidden' });
      // Names the missing scope, what the key has, and both ways to get one.
      expect(body.message).toContain(`lacks the "${r.scope}" scope`);
      expect(body.message).toContain(`(it has: ${credential.split('+').join(', ')})`);
      expect(body.message).toContain(`"scopes": ["${r.scope}"]`);
      expect(body.message).toContain(`--scopes ${r.scope}`);
      expect(body.message).toContain('ADMIN_TOKEN');
    }
  });

  it('a worker (ingest) key creating a camera gets 403 and nothing is stored', async () => {
    const res = await app.inject({
      method: 'POST',
      url: API_ROUTES.cameras,
      headers: headersFor('ingest'),
      payload: cameraInput({ name: 'sneaky' }),
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().message).toMatch(
      /^API key [0-9a-f]{12} lacks the "cameras:write" scope \(it has: ingest\)/,
    );
    const list = await app.inject({ url: API_ROUTES.cameras, headers: headersFor('admin') });
    expect((list.json().items as Camera[]).map((c) => c.name)).not.toContain('sneaky');
  });

  it('authenticates before validating, then checks the scope before the body: 403 with an invalid body', async () => {
    const res = await app.inject({
      method: 'POST',
      url: API_ROUTES.cameras,
      headers: headersFor('ingest'),
      payload: { nonsense: true },
    });
    expect(res.statusCode).toBe(403);
  });

  // Was: unmasked for admin and cameras:write too, `rtsp://***@…` for read-only and anonymous callers
  // (security probe: only the worker needs the credentials; the others learnt where they were).
  it('stream URLs: as stored for ingest keys; redacted for admin and cameras:write; public for read-only and anonymous', async () => {
    const url = async (c: Credential) =>
      ((await app.inject({ url: API_ROUTES.camera(camera.id), headers: headersFor(c) })).json() as Camera)
        .streamUrl;
    expect(await url('admin')).toBe('rtsp://***@10.0.0.5/cam');
    expect(await url('ingest')).toBe('rtsp://user:s3cret@10.0.0.5/cam');
    expect(await url('ingest+read')).toBe('rtsp://user:s3cret@10.0.0.5/cam');
    expect(await url('cameras:write')).toBe('rtsp://***@10.0.0.5/cam');
    expect(await url('read')).toBe('rtsp://10.0.0.5/cam');
    expect(await url('none')).toBe('rtsp://10.0.0.5/cam');
  });

  it('camera responses (get, list, create, update) give read-only callers publicUrl and camera writers redactUrl', async () => {
    const secret = 'rtsp://admin:pa55@10.0.0.7:554/live?channel=1&password=hunter2#frag';
    const created = await app.inject({
      method: 'POST',
      url: API_ROUTES.cameras,
      headers: headersFor('cameras:write'),
      payload: cameraInput({ streamUrl: secret }),
    });
    expect(created.statusCode).toBe(201);
    const redacted = 'rtsp://***@10.0.0.7:554/live?channel=1&password=***#frag';
    const shown = 'rtsp://10.0.0.7:554/live';
    expect((created.json() as Camera).streamUrl).toBe(redacted);
    const id = (created.json() as Camera).id;
    const patched = await app.inject({
      method: 'PATCH',
      url: API_ROUTES.camera(id),
      headers: headersFor('cameras:write'),
      payload: { name: 'renamed' },
    });
    expect((patched.json() as Camera).streamUrl).toBe(redacted);

    const views = async (target: FastifyInstance, c: Credential) => {
      const one = (
        await target.inject({ url: API_ROUTES.camera(id), headers: headersFor(c) })
      ).json() as Camera;
      const list = (await target.inject({ url: API_ROUTES.cameras, headers: headersFor(c) })).json() as {
        items: Camera[];
      };
      return [one.streamUrl, list.items.find((x) => x.id === id)!.streamUrl];
    };
    expect(await views(app, 'none')).toEqual([shown, shown]);
    expect(await views(readApp, 'read')).toEqual([shown, shown]);
    expect(await views(app, 'cameras:write')).toEqual([redacted, redacted]);
    expect(await views(app, 'ingest')).toEqual([secret, secret]);
    for (const c of ['none', 'read', 'cameras:write'] as const) {
      const text = JSON.stringify(await views(c === 'read' ? readApp : app, c));
      expect(text).not.toContain('pa55');
      expect(text).not.toContain('hunter2');
    }
  });
});

describe('admin endpoint and key check', () => {
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

  it('creates keys with the scopes asked for (sorted, deduplicated); default ingest, read', async () => {
    const named = await app.inject({
      method: 'POST',
      url: API_ROUTES.apiKeys,
      headers: admin,
      payload: { name: 'ops', scopes: ['cameras:write', 'read', 'read'] },
    });
    expect(named.statusCode).toBe(201);
    expect(named.json().scopes).toEqual(['read', 'cameras:write']);
    expect((await authenticateApiKey(store.db, named.json().key))?.scopes).toEqual(['read', 'cameras:write']);

    const plain = await app.inject({
      method: 'POST',
      url: API_ROUTES.apiKeys,
      headers: admin,
      payload: { name: 'w' },
    });
    expect(plain.json().scopes).toEqual(['ingest', 'read']);
  });

  it.each([
    [
      'an unknown scope',
      { name: 'x', scopes: ['cameras:admin'] },
      /body\/scopes\/0: unknown scope "cameras:admin"; valid scopes: ingest, read, cameras:write/,
    ],
    ['an empty list', { name: 'x', scopes: [] }, /body\/scopes: /],
    ['a string instead of a list', { name: 'x', scopes: 'ingest' }, /body\/scopes: /],
  ])('400 for %s, naming the field', async (_what, payload, message) => {
    const res = await app.inject({ method: 'POST', url: API_ROUTES.apiKeys, headers: admin, payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(message);
  });

  it('GET /auth/check?scopes=…: 204 when held, 403 naming what is missing, 401 without a key, 400 for an unknown scope', async () => {
    const check = (c: Credential, scopes?: string) =>
      app.inject({
        url:
          scopes === undefined
            ? API_ROUTES.authCheck
            : `${API_ROUTES.authCheck}?scopes=${encodeURIComponent(scopes)}`,
        headers: headersFor(c),
      });
    expect((await check('ingest+read', 'ingest,read')).statusCode).toBe(204);
    expect((await check('ingest+read')).statusCode).toBe(204);
    expect((await check('admin', 'ingest,read,cameras:write')).statusCode).toBe(204);
    const lacking = await check('ingest', 'ingest, read');
    expect(lacking.statusCode).toBe(403);
    expect(lacking.json().message).toContain('lacks the "read" scope');
    const both = await check('read', 'ingest,cameras:write');
    expect(both.json().message).toContain('lacks the "ingest", "cameras:write" scopes');
    expect((await check('none', 'ingest')).statusCode).toBe(401);
    const unknown = await check('ingest', 'ingest,everything');
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().message).toMatch(
      /querystring\/scopes: unknown scope "everything"; valid scopes: ingest, read, cameras:write/,
    );
  });

  it('OpenAPI names the scopes: the key-create body, the check query and each guarded route', async () => {
    const doc = (await app.inject('/openapi.json')).json();
    const create = doc.paths['/api/v1/admin/api-keys'].post;
    const body = create.requestBody.content['application/json'].schema;
    expect(body.properties.scopes.items.enum).toEqual([...API_KEY_SCOPES]);
    const check = doc.paths['/api/v1/auth/check'].get;
    expect(check.parameters.map((p: { name: string }) => p.name)).toContain('scopes');
    expect(check.responses['403']).toBeDefined();
    expect(doc.paths['/api/v1/cameras'].post.description).toContain('`cameras:write`');
    expect(doc.paths['/api/v1/cameras'].post.responses['403']).toBeDefined();
    expect(doc.paths['/api/v1/ingest/events'].post.description).toContain('`ingest`');
  });
});

describe('pure helpers', () => {
  it.each([
    [
      ['read', 'ingest', 'ingest'],
      ['ingest', 'read'],
    ],
    [['cameras:write', 'future:scope'], ['cameras:write']],
    [[], []],
  ])('normaliseScopes(%j) → %j', (input, out) => {
    expect(normaliseScopes(input)).toEqual(out);
  });

  it.each([
    [['ingest', 'read'], ['ingest'], []],
    [['ingest'], ['read', 'ingest'], ['read']],
    [[], ['cameras:write', 'ingest'], ['ingest', 'cameras:write']],
  ] as const)('findMissingScopes(%j, %j) → %j', (held, required, missing) => {
    expect(findMissingScopes(held, required)).toEqual(missing);
  });
});

describe('apikey:create flags', () => {
  it.each([
    [['--name', 'w'], { name: 'w', scopes: ['ingest', 'read'], json: false }],
    [
      ['--name', 'ops', '--scopes', 'cameras:write,read', '--json'],
      { name: 'ops', scopes: ['read', 'cameras:write'], json: true },
    ],
    [
      ['--name', 'ops', '--scope', 'ingest', '--scope', 'cameras:write'],
      { name: 'ops', scopes: ['ingest', 'cameras:write'], json: false },
    ],
  ])('%j → %j', (argv, args) => {
    expect(parseApiKeyCliArgs(argv)).toEqual({ args });
  });

  it.each([
    [
      ['--name', 'w', '--scopes', 'ingest,admin'],
      /^--scopes: unknown scope "admin"; valid scopes: ingest, read, cameras:write\n/,
    ],
    [['--name', 'w', '--scopes', ','], /^--scopes: empty/],
    [['--scopes', 'ingest'], /^--name: required/],
    [['--name', 'w', '--bogus'], /Unknown option '--bogus'/],
  ])('%j → usage error', (argv, message) => {
    const parsed = parseApiKeyCliArgs(argv);
    expect('error' in parsed && parsed.error).toMatch(message);
  });
});

describe('migration 4 on the embedded store', () => {
  it('keys made before scopes keep ingest and read, and lose camera writes', async () => {
    await assertLegacyKeysMigrate();
  }, 60_000);
});
