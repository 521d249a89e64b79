/**
 * What an anonymous flood can no longer do (the security probe of 2026-12): ask for a million-row
 * aggregate, make the database work with Cache-Control: no-cache, or send requests without ever
 * seeing a 429. Each limit is also shown not to touch what the dashboard and the worker do.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { API_KEY_SCOPES, API_ROUTES, type IntervalAggregate } from '@its/contracts';
import { issueApiKey } from '../src/auth/api-key-store.js';
import { loadConfig } from '../src/config.js';
import type { Db } from '../src/db/db.js';
import { storeFromDb, type Store } from '../src/store/create-store.js';
import { ADMIN_TOKEN, aggregate, buildTestApp, cameraInput, openStore, resetStore } from './fixtures.js';

const NOW = new Date('2025-03-07T12:00:00.000Z');
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

let store: Store;
let key: string;
const auth = () => ({ authorization: `Bearer ${key}` });

beforeAll(async () => {
  store = await openStore();
});
afterAll(async () => {
  await store.close();
});
beforeEach(async () => {
  await resetStore(store);
  key = (await issueApiKey(store.db, { name: 'test', scopes: API_KEY_SCOPES })).key;
});

describe('defaults', () => {
  it('are documented values the dashboard and the worker stay below', () => {
    const cfg = loadConfig({});
    expect(cfg.AGGREGATE_MAX_ROWS).toBe(20_000);
    expect(cfg.RATE_LIMIT_ANONYMOUS_PER_MIN).toBe(1200);
    expect(cfg.RATE_LIMIT_PER_KEY_PER_MIN).toBe(120_000);
    expect(cfg.TRUST_PROXY).toBe(false);
    expect(() => loadConfig({ AGGREGATE_MAX_ROWS: '0' })).toThrow(/AGGREGATE_MAX_ROWS: must be an integer/);
  });
});

describe('aggregate row limit: the API', () => {
  let app: FastifyInstance;
  const statements: string[] = [];
  beforeAll(async () => {
    // The store as the app sees it, recording every statement, to show what reached the database.
    const recording: Db = {
      ...store.db,
      kind: store.db.kind,
      query: (sql, params) => {
        statements.push(sql);
        return store.db.query(sql, params);
      },
    };
    ({ app } = await buildTestApp(storeFromDb(recording), { clock: () => NOW }));
  });
  afterAll(async () => {
    await app.close();
  });

  /** Two cameras × two lanes × six classes, one stored minute each: 24 series. */
  async function seed(): Promise<string[]> {
    const ids: string[] = [];
    for (let c = 0; c < 2; c++) {
      const res = await app.inject({
        method: 'POST',
        url: API_ROUTES.cameras,
        headers: auth(),
        payload: cameraInput({ name: `cam ${c}` }),
      });
      ids.push(res.json().id);
    }
    const rows: IntervalAggregate[] = [];
    for (const id of ids)
      for (const lane of ['nb-1', 'nb-2'])
        for (const cls of ['car', 'bus', 'truck', 'motorcycle', 'bicycle', 'person'] as const)
          rows.push(aggregate(id, { lane, class: cls, intervalStart: iso(NOW.getTime() - 2 * DAY) }));
    const res = await app.inject({
      method: 'POST',
      url: API_ROUTES.ingestAggregates,
      headers: auth(),
      payload: { aggregates: rows },
    });
    expect(res.statusCode).toBe(200);
    return ids;
  }

  it('refuses 1-minute buckets of every camera × lane × class over six days with a 400, before the query runs', async () => {
    await seed();
    statements.length = 0;
    const res = await app.inject({
      url: `${API_ROUTES.aggregates}?from=${iso(NOW.getTime() - 6 * DAY)}&to=${NOW.toISOString()}&bucket=1m&groupBy=camera,lane,class`,
      headers: { 'cache-control': 'no-cache' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      statusCode: 400,
      error: 'Bad Request',
      message: expect.stringMatching(
        /^querystring: bucket=1m from .* is 8640 buckets × 24 groups by camera, lane, class = 207360 rows, above the limit of 20000 rows per query \(AGGREGATE_MAX_ROWS\); narrow it: a larger bucket \(bucket=15m: 13824 rows\), a shorter range .*fewer groupBy keys/,
      ),
    });
    // What reached the database: the groups counted, never the aggregate query itself.
    expect(statements.some((s) => s.includes('interval_rollups_hourly') && s.includes('DISTINCT'))).toBe(
      true,
    );
    expect(statements.some((s) => s.includes('date_bin'))).toBe(false);
  });

  it('with a lower AGGREGATE_MAX_ROWS, refuses an ungrouped query over more buckets than that with the same 400', async () => {
    const { app: strict } = await buildTestApp(store, {
      clock: () => NOW,
      env: { AGGREGATE_MAX_ROWS: '100' },
    });
    try {
      const over = await strict.inject(
        `${API_ROUTES.aggregates}?from=${iso(NOW.getTime() - 3 * 3_600_000)}&to=${NOW.toISOString()}&bucket=1m`,
      );
      expect(over.statusCode).toBe(400);
      expect(over.json().message).toMatch(
        /is 180 buckets × 1 groups = 180 rows, above the limit of 100 rows per query \(AGGREGATE_MAX_ROWS\); narrow it: a larger bucket \(bucket=15m: 12 rows\), a shorter range \(at most 100 buckets of 1m, 1 h 40 min, between from and to\)$/,
      );
      const fits = await strict.inject(
        `${API_ROUTES.aggregates}?from=${iso(NOW.getTime() - 3_600_000)}&to=${NOW.toISOString()}&bucket=1m`,
      );
      expect(fits.statusCode).toBe(200);
    } finally {
      await strict.close();
    }
  });

  it('answers every query the dashboard sends', async () => {
    const [camera] = await seed();
    const hour = 3_600_000;
    const end = (size: number) => Math.floor(NOW.getTime() / size) * size + size;
    const queries = [
      // Overview: every camera's last day in hourly buckets, by camera.
      `from=${iso(end(hour) - DAY)}&to=${iso(end(hour))}&bucket=1h&groupBy=camera`,
      // Camera page: 1 h / 24 h / 7 d, by class and overall.
      `cameraId=${camera}&from=${iso(end(60_000) - hour)}&to=${iso(end(60_000))}&bucket=1m&groupBy=class`,
      `cameraId=${camera}&from=${iso(end(900_000) - DAY)}&to=${iso(end(900_000))}&bucket=15m&groupBy=class`,
      `cameraId=${camera}&from=${iso(end(hour) - 7 * DAY)}&to=${iso(end(hour))}&bucket=1h&groupBy=class`,
      `cameraId=${camera}&from=${iso(end(hour) - 7 * DAY)}&to=${iso(end(hour))}&bucket=1h`,
      // Live counts: the last hour of one camera, by lane and class.
      `cameraId=${camera}&from=${iso(end(60_000) - hour)}&to=${iso(end(60_000))}&bucket=1m&groupBy=lane,class`,
    ];
    for (const q of queries) {
      const res = await app.inject(`${API_ROUTES.aggregates}?${q}`);
      expect(res.statusCode, q).toBe(200);
    }
  });
});

describe('Cache-Control: no-cache', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    ({ app } = await buildTestApp(store, { clock: () => NOW }));
  });
  afterAll(async () => {
    await app.close();
  });

  it('is honoured for an API key or the ADMIN_TOKEN only; anonymous and made-up keys are served from the cache', async () => {
    const url = API_ROUTES.latestCounts;
    expect((await app.inject(url)).headers['x-cache']).toBe('miss');
    const noCache = (headers: Record<string, string> = {}) =>
      app.inject({ url, headers: { 'cache-control': 'no-cache', ...headers } });
    expect((await noCache()).headers['x-cache']).toBe('hit');
    const madeUp = `its_${'0'.repeat(12)}_${'a'.repeat(32)}`;
    expect((await noCache({ authorization: `Bearer ${madeUp}` })).headers['x-cache']).toBe('hit');
    expect((await noCache({ 'x-api-key': 'not-a-key' })).headers['x-cache']).toBe('hit');
    expect((await noCache(auth())).headers['x-cache']).toBe('bypass');
    expect((await noCache({ 'x-api-key': key })).headers['x-cache']).toBe('bypass');
    expect((await noCache({ authorization: `Bearer ${ADMIN_TOKEN}` })).headers['x-cache']).toBe('bypass');
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After past the anonymous limit per address; keys have their own bucket; health never', async () => {
    const { app } = await buildTestApp(store, {
      env: { RATE_LIMIT_ANONYMOUS_PER_MIN: '3', RATE_LIMIT_PER_KEY_PER_MIN: '5' },
    });
    try {
      const get = (headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') =>
        app.inject({ url: API_ROUTES.cameras, headers, remoteAddress });
      for (let i = 0; i < 3; i++) expect((await get()).statusCode).toBe(200);
      const limited = await get();
      expect(limited.statusCode).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(limited.json()).toEqual({
        statusCode: 429,
        error: 'Too Many Requests',
        message: expect.stringMatching(
          /^rate limit: more than 3 requests a minute from client address 127\.0\.0\.1 \(no valid API key\); retry in .* \(the limit is RATE_LIMIT_ANONYMOUS_PER_MIN\)$/,
        ),
        reqId: expect.any(String),
      });
      // A made-up key is anonymous: it counts against its address, it does not open a new bucket.
      const madeUp = `its_${'1'.repeat(12)}_${'b'.repeat(32)}`;
      expect((await get({ authorization: `Bearer ${madeUp}` })).statusCode).toBe(429);
      // Another address has its own budget.
      expect((await get({}, '10.1.2.3')).statusCode).toBe(200);
      // A valid key is limited per key, whatever its address.
      for (let i = 0; i < 5; i++) expect((await get(auth())).statusCode).toBe(200);
      const keyLimited = await get(auth(), '10.9.9.9');
      expect(keyLimited.statusCode).toBe(429);
      expect(keyLimited.json().message).toContain('from this API key');
      expect(keyLimited.json().message).toContain('RATE_LIMIT_PER_KEY_PER_MIN');
      // Orchestrators and Prometheus keep polling.
      for (const url of [API_ROUTES.health, API_ROUTES.ready, API_ROUTES.metrics])
        for (let i = 0; i < 10; i++) expect((await app.inject(url)).statusCode, url).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('with the defaults, a flood from one address gets 429 after 1200 requests in a minute', async () => {
    const { app } = await buildTestApp(store);
    try {
      const codes: number[] = [];
      for (let i = 0; i < 1210; i++) codes.push((await app.inject(API_ROUTES.latestCounts)).statusCode);
      expect(codes.slice(0, 1200).every((c) => c === 200)).toBe(true);
      expect(codes.slice(1200).every((c) => c === 429)).toBe(true);
      // The worker's key is not held back by the flood from its address.
      expect((await app.inject({ url: API_ROUTES.latestCounts, headers: auth() })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('counts the socket’s address unless TRUST_PROXY says a proxy in front sets X-Forwarded-For', async () => {
    const env = { RATE_LIMIT_ANONYMOUS_PER_MIN: '2' };
    const from = (forwardedFor: string) => ({
      url: API_ROUTES.cameras,
      headers: { 'x-forwarded-for': forwardedFor },
    });
    const { app: direct } = await buildTestApp(store, { env });
    const { app: proxied } = await buildTestApp(store, { env: { ...env, TRUST_PROXY: '127.0.0.1' } });
    try {
      // Without TRUST_PROXY a forged header buys nothing: every request is 127.0.0.1's.
      const codes = [];
      for (const client of ['10.0.0.1', '10.0.0.2', '10.0.0.3'])
        codes.push((await direct.inject(from(client))).statusCode);
      expect(codes).toEqual([200, 200, 429]);
      // Behind the trusted proxy, each client has its own bucket.
      for (const client of ['10.0.0.1', '10.0.0.2', '10.0.0.3'])
        expect((await proxied.inject(from(client))).statusCode).toBe(200);
      await proxied.inject(from('10.0.0.1'));
      expect((await proxied.inject(from('10.0.0.1'))).statusCode).toBe(429);
    } finally {
      await direct.close();
      await proxied.close();
    }
    expect(() => loadConfig({ TRUST_PROXY: 'yes please' })).toThrow(/TRUST_PROXY: use true, false/);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).TRUST_PROXY).toBe('10.0.0.0/8, 127.0.0.1');
    expect(loadConfig({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
  });

  it('RATE_LIMIT_*=0 turns the limits off', async () => {
    const { app } = await buildTestApp(store, {
      env: { RATE_LIMIT_ANONYMOUS_PER_MIN: '0', RATE_LIMIT_PER_KEY_PER_MIN: '0' },
    });
    try {
      for (let i = 0; i < 30; i++) expect((await app.inject(API_ROUTES.latestCounts)).statusCode).toBe(200);
      expect((await app.inject(API_ROUTES.latestCounts)).headers['x-ratelimit-limit']).toBeUndefined();
    } finally {
      await app.close();
    }
  });
});
