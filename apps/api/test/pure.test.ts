import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { toErrorBody } from '../src/app.js';
import { extractCredential, generateApiKey, parseApiKey, equalHashes } from '../src/auth/api-keys.js';
import { isConnectionError } from '../src/db/db.js';
import { LATEST_MIGRATION, MIGRATIONS, planMigrations } from '../src/db/migrations.js';
import { ApiError, DatabaseUnavailableError, describeCause } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import {
  countBuckets,
  parseGroupBy,
  planAggregateQuery,
  planCountableMinutes,
  planRollupHours,
} from '../src/store/aggregate-query.js';
import { planTouchedHours } from '../src/store/repository.js';
import { planFairShare } from '../src/store/leases.js';
import { shutDown } from '../src/shutdown.js';
import { formatSse } from '../src/routes/stream-routes.js';
import { isJpeg } from '../src/routes/detect-routes.js';
import { maskStreamUrl } from '../src/routes/camera-routes.js';

describe('aggregate query planning', () => {
  it('parses groupBy into a deduplicated, fixed order', () => {
    expect(parseGroupBy(undefined)).toEqual([]);
    expect(parseGroupBy('class,lane,class')).toEqual(['lane', 'class']);
    expect(parseGroupBy('camera')).toEqual(['camera']);
  });

  it.each([
    ['2025-01-01T00:00:00Z', '2025-01-01T01:00:00Z', '15m', 4],
    ['2025-01-01T00:07:00Z', '2025-01-01T01:00:00Z', '15m', 4],
    ['2025-01-01T00:00:00Z', '2025-01-01T00:00:01Z', '1d', 1],
    ['2025-01-01T00:00:00Z', '2025-01-08T00:00:00Z', '1h', 168],
  ] as const)('%s → %s in %s buckets is %i buckets', (from, to, bucket, n) => {
    expect(countBuckets(from, to, bucket)).toBe(n);
  });

  it('puts only parameters, never values, into the SQL; filters add numbered parameters', () => {
    const { sql, params } = planAggregateQuery({
      from: '2025-01-01T00:00:00Z',
      to: '2025-01-02T00:00:00Z',
      bucket: '1h',
      groupBy: ['lane'],
      cameraId: '0b7f8c1e-4c6a-4d8e-9a43-1f1c2b3d4e5f',
      class: 'bus',
      now: new Date('2025-01-03T00:00:00Z'),
    });
    expect(params).toEqual([
      '3600 seconds',
      '2025-01-01T00:00:00Z',
      '2025-01-02T00:00:00Z',
      '2025-01-01T00:00:00.000Z',
      '2025-01-02T00:00:00.000Z',
      '0b7f8c1e-4c6a-4d8e-9a43-1f1c2b3d4e5f',
      'bus',
      // The rollup's first hour and the hour cut by `to` (none here: `to` is on an hour).
      '2025-01-01T00:00:00.000Z',
      '2025-01-02T00:00:00.000Z',
    ]);
    expect(sql).toContain('camera_id = $6::uuid');
    expect(sql).toContain('class = $7::text');
    expect(sql).toContain(
      'FROM interval_rollups_hourly\n  WHERE hour_start >= $8::timestamptz AND hour_start < $3::timestamptz AND camera_id = $6::uuid AND class = $7::text AND last_minute < $3::timestamptz',
    );
    expect(sql).toContain('interval_start >= $2::timestamptz AND interval_start < $8::timestamptz');
    expect(sql).toContain('interval_start >= $9::timestamptz AND interval_start < $3::timestamptz');
    expect(sql).toContain('hour_start = $9::timestamptz AND last_minute >= $3::timestamptz');
    expect(sql).toMatch(/GROUP BY bucket_start, lane\n/);
    expect(sql).not.toContain('bus');
  });

  it('reads only the minutes for 1m and 15m buckets, when asked to, and when no hour starts in the range', () => {
    const base = {
      from: '2025-01-01T00:00:00Z',
      to: '2025-01-02T00:00:00Z',
      groupBy: [],
      now: new Date('2025-01-03T00:00:00Z'),
    } as const;
    for (const [bucket, opts] of [
      ['15m', {}],
      ['1m', {}],
      ['1h', { rollup: false }],
    ] as const) {
      const { sql, params } = planAggregateQuery({ ...base, bucket }, opts);
      expect(sql).not.toContain('interval_rollups_hourly');
      expect(params).toHaveLength(5);
    }
    const short = planAggregateQuery({
      ...base,
      from: '2025-01-01T00:01:00Z',
      to: '2025-01-01T00:59:00Z',
      bucket: '1h',
    });
    expect(short.sql).not.toContain('interval_rollups_hourly');
  });

  it.each([
    ['whole hours', '1h', '00:00', '03:00', { from: '00:00', tail: '03:00' }],
    ['day buckets use the rollup too', '1d', '00:00', '03:00', { from: '00:00', tail: '03:00' }],
    [
      'from inside an hour: the rollup from the next hour',
      '1h',
      '00:30',
      '03:15',
      { from: '01:00', tail: '03:00' },
    ],
    ['to inside an hour: that hour is the tail', '1h', '00:00', '02:59', { from: '00:00', tail: '02:00' }],
    ['no hour starts inside the range', '1h', '00:10', '00:50', undefined],
    ['from on the hour, to inside it', '1h', '01:00', '01:20', { from: '01:00', tail: '01:00' }],
    ['15-minute buckets never', '15m', '00:00', '03:00', undefined],
    ['1-minute buckets never', '1m', '00:00', '03:00', undefined],
  ] as const)('rollup hours: %s', (_name, bucket, from, to, hours) => {
    const t = (hm: string) => `2025-01-01T${hm}:00.000Z`;
    expect(planRollupHours({ bucket, from: t(from), to: t(to) })).toEqual(
      hours && { from: t(hours.from), tail: t(hours.tail) },
    );
  });

  it('a batch touches each camera × hour × lane × class once, in a fixed order', () => {
    const cam = '0b7f8c1e-4c6a-4d8e-9a43-1f1c2b3d4e5f';
    const row = (intervalStart: string, lane = 'nb-1') => ({
      cameraId: cam,
      intervalStart,
      lane,
      class: 'car' as const,
    });
    expect(
      planTouchedHours([
        row('2025-01-01T01:59:00Z'),
        row('2025-01-01T01:00:00.000Z'),
        row('2025-01-01T00:59:00Z', 'sb-1'),
        row('2025-01-01T02:00:00Z'),
      ]),
    ).toEqual([
      [cam, cam, cam],
      ['2025-01-01T00:00:00.000Z', '2025-01-01T01:00:00.000Z', '2025-01-01T02:00:00.000Z'],
      ['sb-1', 'nb-1', 'nb-1'],
      ['car', 'car', 'car'],
    ]);
  });

  it.each([
    [
      'whole minutes, all in the past',
      '2025-01-01T00:00:00Z',
      '2025-01-01T01:00:00Z',
      '2025-01-02T00:00:00Z',
      '00:00',
      '01:00',
    ],
    [
      'from inside a minute leaves that minute out',
      '2025-01-01T00:10:30Z',
      '2025-01-01T01:00:00Z',
      '2025-01-02T00:00:00Z',
      '00:11',
      '01:00',
    ],
    [
      'to inside a minute takes that minute in',
      '2025-01-01T00:00:00Z',
      '2025-01-01T00:20:30Z',
      '2025-01-02T00:00:00Z',
      '00:00',
      '00:21',
    ],
    [
      'now cuts at the last minute that has ended',
      '2025-01-01T00:00:00Z',
      '2025-01-01T01:00:00Z',
      '2025-01-01T00:20:30Z',
      '00:00',
      '00:20',
    ],
    [
      'now on a minute edge: that minute has not ended',
      '2025-01-01T00:00:00Z',
      '2025-01-01T01:00:00Z',
      '2025-01-01T00:20:00Z',
      '00:00',
      '00:20',
    ],
  ] as const)('countable minutes: %s', (_name, from, to, now, first, end) => {
    expect(planCountableMinutes(from, to, new Date(now))).toEqual({
      first: `2025-01-01T${first}:00.000Z`,
      end: `2025-01-01T${end}:00.000Z`,
    });
  });

  it('refuses more than 10 000 buckets, naming the bucket parameter', () => {
    expect(() =>
      planAggregateQuery({
        from: '2020-01-01T00:00:00Z',
        to: '2021-01-01T00:00:00Z',
        bucket: '1m',
        groupBy: [],
        now: new Date('2021-01-01T00:00:00Z'),
      }),
    ).toThrow(/^querystring\/bucket: 527040 buckets of 1m/);
  });
});

describe('migrations', () => {
  it('plans only what is missing, in version order', () => {
    const all = MIGRATIONS.map((m) => m.version);
    expect(planMigrations([]).map((m) => m.version)).toEqual(all);
    expect(planMigrations([1]).map((m) => m.version)).toEqual(all.slice(1));
    expect(planMigrations(all)).toEqual([]);
    expect(all).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
    expect(LATEST_MIGRATION).toBe(MIGRATIONS.length);
  });

  it('runs versions in order whatever their order in the list, and fills a gap left by a later one', () => {
    // Two migrations written at once may land in either order; a database that took the later one
    // first still gets the earlier one next.
    const m = (version: number) => ({ version, name: `m${version}`, statements: [] });
    expect(planMigrations([1, 2], [m(1), m(2), m(4), m(3)]).map((x) => x.version)).toEqual([3, 4]);
    expect(planMigrations([1, 2, 4], [m(1), m(2), m(3), m(4)]).map((x) => x.version)).toEqual([3]);
  });

  it('only expands: released migrations never drop or rename (the expand/contract rule)', () => {
    for (const m of MIGRATIONS) {
      for (const sql of m.statements) expect(sql).not.toMatch(/\b(DROP|RENAME)\b/i);
    }
  });
});

describe('API keys', () => {
  it('generates keys whose prefix parses back; hashes are hex SHA-256', () => {
    const { key, prefix, hash } = generateApiKey();
    expect(parseApiKey(key)).toBe(prefix);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(parseApiKey('its_zz_short')).toBeUndefined();
    expect(equalHashes(hash, hash)).toBe(true);
    expect(equalHashes(hash, '')).toBe(false);
  });

  it('reads Bearer or X-API-Key credentials', () => {
    expect(extractCredential({ authorization: 'Bearer abc' })).toBe('abc');
    expect(extractCredential({ authorization: 'bearer  abc ' })).toBe('abc');
    expect(extractCredential({ authorization: 'Basic abc' })).toBeUndefined();
    expect(extractCredential({ 'x-api-key': ' k ' })).toBe('k');
    expect(extractCredential({ 'x-api-key': '' })).toBeUndefined();
    expect(extractCredential({})).toBeUndefined();
  });
});

describe('error mapping', () => {
  const conn = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

  it('maps typed, framework and unknown errors to one body shape', () => {
    expect(toErrorBody(new ApiError('not-found', 'x'), 'r1', 10)).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'x',
      reqId: 'r1',
    });
    expect(toErrorBody(new DatabaseUnavailableError(conn), 'r', 10)).toMatchObject({
      statusCode: 503,
      message: 'database unavailable; retry later',
    });
    expect(toErrorBody(conn, 'r', 10).statusCode).toBe(503);
    expect(
      toErrorBody(
        Object.assign(new Error('too big'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }),
        'r',
        99,
      ),
    ).toMatchObject({
      statusCode: 413,
      message: 'body: larger than the limit of 99 bytes (BODY_LIMIT_BYTES)',
    });
    expect(
      toErrorBody(
        Object.assign(new Error('nope'), { code: 'FST_ERR_CTP_INVALID_JSON_BODY', statusCode: 400 }),
        'r',
        1,
      ).message,
    ).toBe('body: invalid JSON (nope)');
    expect(
      toErrorBody(Object.assign(new Error('teapot'), { statusCode: 418, name: 'Teapot' }), 'r', 1),
    ).toMatchObject({ statusCode: 418, error: "I'm a Teapot" });
    expect(toErrorBody(new Error('secret detail'), 'r', 1)).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'internal error; the request id identifies it in the logs',
      reqId: 'r',
    });
  });

  it('recognises connection failures by code and message, not query errors', () => {
    expect(isConnectionError(conn)).toBe(true);
    expect(isConnectionError(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(
      true,
    );
    expect(isConnectionError(Object.assign(new Error('x'), { code: '08006' }))).toBe(true);
    expect(isConnectionError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionError(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isConnectionError('string')).toBe(false);
    expect(describeCause(conn)).toBe('connect ECONNREFUSED 127.0.0.1:5432');
    expect(describeCause(Object.assign(new Error('boom'), { code: 'E1' }))).toBe('boom (E1)');
    expect(describeCause(42)).toBe('42');
  });
});

describe('small helpers', () => {
  it('formats SSE events with the LiveEvent type as the event name', () => {
    expect(formatSse({ type: 'camera-status', data: { cameraId: 'c', state: 'online', reason: null } })).toBe(
      'event: camera-status\ndata: {"cameraId":"c","state":"online","reason":null}\n\n',
    );
  });

  it('recognises JPEG by its start-of-image marker', () => {
    expect(isJpeg(Buffer.from([0xff, 0xd8, 0xff, 0xdb]))).toBe(true);
    expect(isJpeg(Buffer.from([0xff, 0xd8]))).toBe(false);
    expect(isJpeg('ffd8ff')).toBe(false);
  });

  it('redacts credentials in request logs', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = createLogger('info', sink);
    log.info(
      {
        req: {
          id: '1',
          method: 'GET',
          url: '/',
          headers: { authorization: 'Bearer its_secret', 'x-api-key': 'its_other' },
        },
      },
      'x',
    );
    expect(lines.join('')).not.toContain('its_secret');
    expect(lines.join('')).not.toContain('its_other');
    expect(lines.join('')).toContain('[REDACTED]');
  });
});

describe('shutDown', () => {
  it('returns 0 when closing finishes in time', async () => {
    const log: string[] = [];
    expect(
      await shutDown(
        { close: async () => {} },
        { timeoutMs: 1000, forceClose: () => log.push('forced'), log: (m) => log.push(m) },
      ),
    ).toBe(0);
    expect(log).toEqual([]);
  });

  it('forces the rest closed and returns 1 after the deadline', async () => {
    const log: string[] = [];
    let release = () => {};
    const never = new Promise<void>((r) => (release = r));
    const code = await shutDown(
      { close: () => never },
      { timeoutMs: 20, forceClose: () => log.push('forced'), log: (m) => log.push(m) },
    );
    release();
    expect(code).toBe(1);
    expect(log).toEqual([expect.stringMatching(/after 20 ms/), 'forced']);
  });

  it('returns 1 when closing fails', async () => {
    const log: string[] = [];
    const code = await shutDown(
      { close: async () => Promise.reject(new Error('pool stuck')) },
      { timeoutMs: 1000, forceClose: () => {}, log: (m) => log.push(m) },
    );
    expect(code).toBe(1);
    expect(log).toEqual(['shutdown failed: pool stuck']);
  });
});

describe('maskStreamUrl', () => {
  it('masks the user-info of a stream URL and leaves URLs without it unchanged', () => {
    expect(maskStreamUrl('rtsp://user:pass@host:554/a/b?x=1')).toBe('rtsp://***@host:554/a/b?x=1');
    expect(maskStreamUrl('rtsp://user@host/a')).toBe('rtsp://***@host/a');
    expect(maskStreamUrl('rtsp://us%40er:p%3Ass@host/a')).toBe('rtsp://***@host/a');
    expect(maskStreamUrl('rtsp://host:554/a')).toBe('rtsp://host:554/a');
    expect(maskStreamUrl('rtsp://host/a@b')).toBe('rtsp://host/a@b');
    expect(maskStreamUrl('file:///videos/a.mp4')).toBe('file:///videos/a.mp4');
  });
  it('masks what the old pattern let through: a query password, an @ or a / in the password', () => {
    expect(maskStreamUrl('http://cam/video.cgi?user=admin&password=S3cretQ')).toBe(
      'http://cam/video.cgi?user=admin&password=***',
    );
    expect(maskStreamUrl('rtsp://admin:p@ssw0rd@h')).toBe('rtsp://***@h');
    expect(maskStreamUrl('rtsp://admin:pa/ss@h/live')).toBe('rtsp://***@h/live');
  });
});

describe('planFairShare', () => {
  const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  const all = ids('c', 13);
  const w = (id: string, holding: number, capacity = 100, filter: string[] | null = null) => ({
    id,
    holding,
    capacity,
    filter,
  });
  const plan = (eligible: string[], mine: string[], workers: ReturnType<typeof w>[], me: string) =>
    planFairShare({ eligible, mine, workers, me });

  it('targets ceil(cameras / workers) and sheds the excess', () => {
    expect(plan(all.slice(0, 12), [], [w('a', 0)], 'a')).toEqual({ target: 12, shed: 0 });
    const four = [w('a', 4), w('b', 4), w('c', 4), w('d', 0)];
    expect(plan(all.slice(0, 12), all.slice(0, 4), four, 'a')).toEqual({ target: 3, shed: 1 });
    expect(plan(all.slice(0, 12), [], four, 'd')).toEqual({ target: 3, shed: 0 });
  });
  it('above the floor while a peer is below it: one back per heartbeat', () => {
    // 13 cameras, 4 workers: ceil 4, floor 3; d holds 1.
    const workers = [w('a', 4), w('b', 4), w('c', 4), w('d', 1)];
    expect(plan(all, all.slice(0, 4), workers, 'a')).toEqual({ target: 4, shed: 1 });
    const settled = [w('a', 4), w('b', 3), w('c', 3), w('d', 3)];
    expect(plan(all, all.slice(0, 4), settled, 'a')).toEqual({ target: 4, shed: 0 });
  });
  it('workers with disjoint camera filters do not share: each takes its own cameras', () => {
    const fleet = all.slice(0, 12);
    const workers = [
      w('a', 8, 8, fleet),
      w('b', 4, 8, fleet),
      w('c', 0, 8, fleet),
      w('solo', 1, 8, [all[12]!]),
    ];
    expect(plan(fleet, fleet.slice(0, 8), workers, 'a')).toEqual({ target: 4, shed: 4 });
    expect(plan(fleet, [], workers, 'c')).toEqual({ target: 4, shed: 0 });
    expect(plan([all[12]!], [all[12]!], workers, 'solo')).toEqual({ target: 1, shed: 0 });
  });
  it('an unfiltered worker does not shed for a filtered one that cannot take its cameras', () => {
    const workers = [w('a', 4), w('b', 4), w('c', 4), w('solo', 1, 8, [all[12]!])];
    expect(plan(all, all.slice(0, 4), workers, 'a')).toEqual({ target: 4, shed: 0 });
  });
  it('a worker with little capacity leaves the rest to the others, who go above the even share', () => {
    const six = all.slice(0, 6);
    expect(plan(six, [], [w('big', 0), w('small', 1, 1)], 'big')).toEqual({ target: 5, shed: 0 });
    expect(plan(six, [], [w('big', 5), w('small', 0, 1)], 'small')).toEqual({ target: 1, shed: 0 });
  });
});
