/**
 * Input the database cannot store, or should not: NUL characters and year-0000 timestamps (both were
 * 500s, which the worker retried forever), future-dated aggregates (which became a camera's "latest"),
 * stream URLs that are local files or carry control characters; and authentication before the body
 * is parsed (malformed JSON without a key was a 400, now a 401).
 */
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { API_KEY_SCOPES, API_ROUTES, type Camera } from '@its/contracts';
import { issueApiKey } from '../src/auth/api-key-store.js';
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

const NOW = new Date('2025-03-01T12:00:00.000Z');
const NUL = 'a\u0000b';

let store: Store;
let app: FastifyInstance;
let fileApp: FastifyInstance;
let key: string;
let cam: Camera;
const auth = () => ({ authorization: `Bearer ${key}` });

beforeAll(async () => {
  store = await openStore();
  ({ app } = await buildTestApp(store, { clock: () => NOW }));
  ({ app: fileApp } = await buildTestApp(store, {
    clock: () => NOW,
    env: { ALLOW_FILE_STREAM_URLS: 'true' },
  }));
});
afterAll(async () => {
  await app.close();
  await fileApp.close();
  await store.close();
});
beforeEach(async () => {
  await resetStore(store);
  key = (await issueApiKey(store.db, { name: 'test', scopes: API_KEY_SCOPES })).key;
  const res = await app.inject({
    method: 'POST',
    url: API_ROUTES.cameras,
    headers: auth(),
    payload: cameraInput(),
  });
  expect(res.statusCode).toBe(201);
  cam = res.json();
});

/** Status and message of a request, for table assertions. */
async function answer(target: FastifyInstance, req: InjectOptions): Promise<[number, string]> {
  const res = await target.inject(req);
  return [res.statusCode, res.statusCode >= 400 ? (res.json() as { message: string }).message : ''];
}

const storedCounts = async () => {
  const rows = await store.db.query<{ events: number; aggregates: number }>(
    'SELECT (SELECT count(*)::int FROM crossing_events) AS events, (SELECT count(*)::int FROM interval_aggregates) AS aggregates',
  );
  return rows.rows[0];
};

describe('NUL characters: 400 naming the field, never a 500', () => {
  it.each<[string, () => InjectOptions, RegExp]>([
    [
      'a query parameter',
      () => ({
        url: `${API_ROUTES.aggregates}?from=2025-03-01T00:00:00Z&to=2025-03-01T12:00:00Z&lane=a%00b`,
      }),
      /^querystring\/lane: must not contain NUL/,
    ],
    [
      'a camera name',
      () => ({
        method: 'POST',
        url: API_ROUTES.cameras,
        headers: auth(),
        payload: cameraInput({ name: NUL }),
      }),
      /^body\/name: must not contain NUL/,
    ],
    [
      'a patched count line name',
      () => ({
        method: 'PATCH',
        url: API_ROUTES.camera(cam.id),
        headers: auth(),
        payload: { lines: [{ id: 'l1', name: NUL, a: { x: 0, y: 0 }, b: { x: 1, y: 1 }, lane: 'l' }] },
      }),
      /^body\/lines\/0\/name: must not contain NUL/,
    ],
    [
      'an ingested crossing',
      () => ({
        method: 'POST',
        url: API_ROUTES.ingestEvents,
        headers: auth(),
        payload: { events: [crossing(cam.id), crossing(cam.id, { lane: NUL })] },
      }),
      /^body\/events\/1\/lane: must not contain NUL/,
    ],
    [
      'an ingested aggregate',
      () => ({
        method: 'POST',
        url: API_ROUTES.ingestAggregates,
        headers: auth(),
        payload: { aggregates: [aggregate(cam.id, { lane: NUL })] },
      }),
      /^body\/aggregates\/0\/lane: must not contain NUL/,
    ],
    [
      'a status reason',
      () => ({
        method: 'POST',
        url: API_ROUTES.ingestStatus,
        headers: auth(),
        payload: { cameras: [{ cameraId: cam.id, state: 'offline', reason: NUL }] },
      }),
      /^body\/cameras\/0\/reason: must not contain NUL/,
    ],
    [
      'an API key name',
      () => ({
        method: 'POST',
        url: API_ROUTES.apiKeys,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        payload: { name: NUL },
      }),
      /^body\/name: must not contain NUL/,
    ],
  ])('in %s', async (_name, req, message) => {
    const [status, text] = await answer(app, req());
    expect(status).toBe(400);
    expect(text).toMatch(message);
    expect(await storedCounts()).toEqual({ events: 0, aggregates: 0 });
  });
});

describe('timestamps out of range: 400 naming the field', () => {
  it.each<[string, () => InjectOptions, RegExp]>([
    [
      'year 0000 in a query',
      () => ({ url: `${API_ROUTES.aggregates}?from=0000-01-01T00:00:00Z&to=2025-03-01T12:00:00Z` }),
      /^querystring\/from: must be from 2000-01-01T00:00:00.000Z/,
    ],
    [
      'year 0000 in totals',
      () => ({ url: `${API_ROUTES.totals}?from=0000-01-01T00:00:00Z` }),
      /^querystring\/from: must be from 2000-01-01/,
    ],
    [
      'year 9999 in a query',
      () => ({ url: `${API_ROUTES.aggregates}?from=2025-03-01T00:00:00Z&to=9999-12-31T00:00:00Z` }),
      /^querystring\/to: must be from 2000-01-01T00:00:00.000Z up to \(not including\) 2100-01-01/,
    ],
    [
      'a crossing in year 0000',
      () => ({
        method: 'POST',
        url: API_ROUTES.ingestEvents,
        headers: auth(),
        payload: { events: [crossing(cam.id, { ts: '0000-01-01T00:00:00.000Z' })] },
      }),
      /^body\/events\/0\/ts: must not be before 2000-01-01T00:00:00.000Z/,
    ],
    [
      'an aggregate dated 9999-12-31',
      () => ({
        method: 'POST',
        url: API_ROUTES.ingestAggregates,
        headers: auth(),
        payload: {
          aggregates: [aggregate(cam.id), aggregate(cam.id, { intervalStart: '9999-12-31T00:00:00.000Z' })],
        },
      }),
      /^body\/aggregates\/1\/intervalStart: is \d+ days ahead of the API's clock \(2025-03-01T12:00:00.000Z\); at most 5 minutes/,
    ],
    [
      'a crossing 6 minutes ahead',
      () => ({
        method: 'POST',
        url: API_ROUTES.ingestEvents,
        headers: auth(),
        payload: { events: [crossing(cam.id, { ts: '2025-03-01T12:06:00.000Z' })] },
      }),
      /^body\/events\/0\/ts: is 6 minutes ahead of the API's clock/,
    ],
  ])('%s', async (_name, req, message) => {
    const [status, text] = await answer(app, req());
    expect(status).toBe(400);
    expect(text).toMatch(message);
    expect(await storedCounts()).toEqual({ events: 0, aggregates: 0 });
  });

  it('a future aggregate never becomes the camera’s latest; a few minutes of clock skew are accepted', async () => {
    const ok = await app.inject({
      method: 'POST',
      url: API_ROUTES.ingestAggregates,
      headers: auth(),
      payload: {
        aggregates: [
          aggregate(cam.id, { intervalStart: '2025-03-01T11:59:00.000Z' }),
          // 4 minutes ahead of the API's clock: a worker whose clock runs fast.
          aggregate(cam.id, { intervalStart: '2025-03-01T12:04:00.000Z', lane: 'skewed' }),
        ],
      },
    });
    expect(ok.statusCode).toBe(200);
    const future = await app.inject({
      method: 'POST',
      url: API_ROUTES.ingestAggregates,
      headers: auth(),
      payload: {
        aggregates: [aggregate(cam.id, { intervalStart: '9999-12-31T00:00:00.000Z', volume: 999 })],
      },
    });
    expect(future.statusCode).toBe(400);
    const latest = (
      await app.inject({
        url: `${API_ROUTES.latestCounts}?cameraId=${cam.id}`,
        headers: { 'cache-control': 'no-cache' },
      })
    ).json() as { items: Array<{ intervalStart: string; volume: number }> };
    expect(latest.items[0]).toMatchObject({ intervalStart: '2025-03-01T12:04:00.000Z', volume: 10 });
  });
});

describe('authentication comes before the body', () => {
  it.each<[string, string]>([
    ['POST', API_ROUTES.cameras],
    ['PATCH', '/api/v1/cameras/00000000-0000-4000-8000-000000000001'],
    ['POST', API_ROUTES.ingestEvents],
    ['POST', API_ROUTES.ingestAggregates],
    ['POST', API_ROUTES.ingestStatus],
    ['POST', API_ROUTES.apiKeys],
  ])('%s %s with malformed JSON and no credential is a 401, with one a 400', async (method, url) => {
    const req = (headers: Record<string, string>): InjectOptions => ({
      method: method as 'POST',
      url,
      headers: { 'content-type': 'application/json', ...headers },
      payload: '{"name": ',
    });
    const [anonymous] = await answer(app, req({}));
    expect(anonymous).toBe(401);
    const [wrong] = await answer(app, req({ authorization: 'Bearer its_000000000000_nonsense' }));
    expect(wrong).toBe(401);
    const good = url === API_ROUTES.apiKeys ? `Bearer ${ADMIN_TOKEN}` : `Bearer ${key}`;
    const [status, message] = await answer(app, req({ authorization: good }));
    expect([status, message]).toEqual([400, expect.stringMatching(/^body: invalid JSON/)]);
  });
});

describe('stream URLs', () => {
  it.each<[string, RegExp]>([
    [
      'file:///etc/shadow',
      /^body\/streamUrl: use an rtsp:\/\/, rtsps:\/\/ or http\(s\):\/\/ URL \(file:\/\/ only where the API sets ALLOW_FILE_STREAM_URLS=true\)/,
    ],
    ['FILE:///etc/shadow', /^body\/streamUrl: use an rtsp/],
    ['gopher://10.0.0.5/x', /^body\/streamUrl: use an rtsp/],
    ['rtsp://10.0.0.5/live\r\nX-Injected: 1', /^body\/streamUrl: must not contain control characters/],
    ['rtsp://10.0.0.5/li\u0000ve', /^body\/streamUrl: must not contain control characters/],
    ['http://10.0.0.5/\tvideo', /^body\/streamUrl: must not contain control characters/],
  ])('%j is refused on create and update', async (url, message) => {
    const created = await answer(app, {
      method: 'POST',
      url: API_ROUTES.cameras,
      headers: auth(),
      payload: cameraInput({ streamUrl: url }),
    });
    expect(created).toEqual([400, expect.stringMatching(message)]);
    const patched = await answer(app, {
      method: 'PATCH',
      url: API_ROUTES.camera(cam.id),
      headers: auth(),
      payload: { streamUrl: url },
    });
    expect(patched).toEqual([400, expect.stringMatching(message)]);
  });

  it('accepts rtsp, rtsps, http and https; file:// only with ALLOW_FILE_STREAM_URLS=true', async () => {
    for (const url of [
      'rtsp://10.0.0.5/a',
      'rtsps://10.0.0.5/a',
      'http://10.0.0.5/a.mjpg',
      'https://cam.example/a',
    ]) {
      const [status] = await answer(app, {
        method: 'POST',
        url: API_ROUTES.cameras,
        headers: auth(),
        payload: cameraInput({ streamUrl: url }),
      });
      expect(status, url).toBe(201);
    }
    const file = (target: FastifyInstance, streamUrl: string) =>
      answer(target, {
        method: 'POST',
        url: API_ROUTES.cameras,
        headers: auth(),
        payload: cameraInput({ streamUrl }),
      });
    expect((await file(app, 'file:///videos/demo.mp4'))[0]).toBe(400);
    expect((await file(fileApp, 'file:///videos/demo.mp4'))[0]).toBe(201);
    expect(await file(fileApp, 'file:///videos/demo\n.mp4')).toEqual([
      400,
      expect.stringMatching(/^body\/streamUrl: must not contain control characters/),
    ]);
  });
});
