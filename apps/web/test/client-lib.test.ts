/**
 * The dashboard's pure logic (ranges, live counts, formatting, wire parsing, the workers view), tested
 * without a browser.
 */
import { describe, expect, it } from 'vitest';
import type { AggregateBucket, CrossingEvent, IntervalAggregate, WorkerList } from '@its/contracts';
import { ApiError, createApiClient, toQuery } from '../src/client/lib/api-client.js';
import {
  formatAgo,
  formatDuration,
  formatRelative,
  planAxis,
  planTimeTicks,
} from '../src/client/lib/format.js';
import { parseLiveMessage } from '../src/client/lib/live-hub.js';
import {
  applyLiveEvent,
  reseedLiveCounts,
  seedLiveCounts,
  summarizeLiveCounts,
} from '../src/client/lib/live-counts.js';
import {
  fillSeries,
  parseRangeId,
  pivotVolume,
  planRangeWindow,
  summarizeSeries,
} from '../src/client/lib/ranges.js';
import { matchRoute } from '../src/client/lib/router.js';
import { summarizeWorkers } from '../src/client/lib/workers.js';

const CAM = '6c1f0b7e-1111-4000-8000-000000000001';
const OTHER = '6c1f0b7e-2222-4000-8000-000000000002';
const T0 = Date.parse('2026-11-25T10:00:00.000Z');
const MIN = 60_000;

const bucket = (
  startMs: number,
  lane: string,
  cls: AggregateBucket['class'],
  volume: number,
): AggregateBucket => ({
  start: new Date(startMs).toISOString(),
  lane,
  class: cls,
  volume,
  occupancyPct: 1,
  meanSpeedKmh: 50,
  p85SpeedKmh: 58,
});
const crossing = (
  id: number,
  tsMs: number,
  lane = 'NB-1',
  cls: CrossingEvent['class'] = 'car',
  cameraId = CAM,
): CrossingEvent => ({
  id: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`,
  cameraId,
  lineId: 'l1',
  lane,
  class: cls,
  direction: 'forward',
  ts: new Date(tsMs).toISOString(),
  speedKmh: null,
  trackId: null,
});
const aggregate = (
  startMs: number,
  lane: string,
  cls: IntervalAggregate['class'],
  volume: number,
  cameraId = CAM,
): IntervalAggregate => ({
  cameraId,
  intervalStart: new Date(startMs).toISOString(),
  lane,
  class: cls,
  volume,
  occupancyPct: 2,
  meanSpeedKmh: 40,
  p85SpeedKmh: 48,
});

describe('live counts', () => {
  const seeded = seedLiveCounts(CAM, [
    bucket(T0 - 2 * MIN, 'NB-1', 'car', 5),
    bucket(T0 - MIN, 'NB-1', 'car', 3),
    bucket(T0 - MIN, 'NB-2', 'truck', 1),
  ]);
  const cell = (s: typeof seeded, now: number, key: string) =>
    summarizeLiveCounts(s, now, 60 * MIN).cells.get(key) ?? 0;

  it('seeds from minute aggregates and sets the watermark to the end of the newest minute', () => {
    expect(seeded.watermarkMs).toBe(T0);
    expect(cell(seeded, T0 + 10_000, 'NB-1|car')).toBe(8);
    expect(cell(seeded, T0 + 10_000, 'NB-2|truck')).toBe(1);
  });

  it('adds a crossing after the watermark once, however often it is delivered', () => {
    let s = applyLiveEvent(seeded, { type: 'crossing', data: crossing(1, T0 + 5_000) });
    s = applyLiveEvent(s, { type: 'crossing', data: crossing(1, T0 + 5_000) });
    expect(cell(s, T0 + 10_000, 'NB-1|car')).toBe(9);
  });

  it('ignores crossings already covered by an aggregate and other cameras’ events', () => {
    const s1 = applyLiveEvent(seeded, { type: 'crossing', data: crossing(2, T0 - 30_000) });
    const s2 = applyLiveEvent(s1, { type: 'crossing', data: crossing(3, T0 + 1_000, 'NB-1', 'car', OTHER) });
    const s3 = applyLiveEvent(s2, { type: 'aggregate', data: aggregate(T0, 'NB-1', 'car', 99, OTHER) });
    const s4 = applyLiveEvent(s3, {
      type: 'camera-status',
      data: { cameraId: CAM, state: 'offline', reason: 'x' },
    });
    expect(s4).toBe(seeded);
  });

  it('replaces pending crossings with the minute’s aggregate, so nothing is counted twice', () => {
    let s = applyLiveEvent(seeded, { type: 'crossing', data: crossing(4, T0 + 5_000) });
    s = applyLiveEvent(s, { type: 'crossing', data: crossing(5, T0 + 20_000) });
    s = applyLiveEvent(s, { type: 'crossing', data: crossing(6, T0 + MIN + 1_000) });
    expect(cell(s, T0 + MIN + 2_000, 'NB-1|car')).toBe(11);
    s = applyLiveEvent(s, { type: 'aggregate', data: aggregate(T0, 'NB-1', 'car', 2) });
    expect(s.watermarkMs).toBe(T0 + MIN);
    expect(s.pending.size).toBe(1);
    expect(cell(s, T0 + MIN + 2_000, 'NB-1|car')).toBe(8 + 2 + 1);
  });

  it('a re-sent aggregate replaces its interval instead of adding', () => {
    let s = applyLiveEvent(seeded, { type: 'aggregate', data: aggregate(T0 - MIN, 'NB-1', 'car', 4) });
    s = applyLiveEvent(s, { type: 'aggregate', data: aggregate(T0 - MIN, 'NB-1', 'car', 4) });
    expect(cell(s, T0 + 1_000, 'NB-1|car')).toBe(5 + 4);
  });

  it('drops intervals that have left the rolling window', () => {
    expect(cell(seeded, T0 + 59 * MIN, 'NB-1|car')).toBe(3);
    expect(cell(seeded, T0 + 60 * MIN, 'NB-1|car')).toBe(0);
  });

  it('re-seeding keeps crossings that no aggregate covers yet, and replays early events', () => {
    const s = applyLiveEvent(seeded, { type: 'crossing', data: crossing(7, T0 + 5_000) });
    const re = reseedLiveCounts(CAM, [bucket(T0 - MIN, 'NB-1', 'car', 3)], s, [
      { type: 'crossing', data: crossing(8, T0 + 6_000, 'NB-3') },
    ]);
    expect(re.pending.size).toBe(2);
    expect(reseedLiveCounts(OTHER, [], s).pending.size).toBe(0);
  });

  it('summarises with known lanes first-class, classes in the given order, and totals', () => {
    const sum = summarizeLiveCounts(seeded, T0, 60 * MIN, ['NB-3', 'NB-10'], ['truck', 'car']);
    expect(sum.lanes).toEqual(['NB-1', 'NB-2', 'NB-3', 'NB-10']);
    expect(sum.classes).toEqual(['truck', 'car']);
    expect(sum.laneTotals.get('NB-1')).toBe(8);
    expect(sum.classTotals.get('truck')).toBe(1);
    expect(sum.total).toBe(9);
  });
});

describe('ranges', () => {
  it('maps each range to its bucket and a window that ends with the current bucket', () => {
    const now = Date.parse('2026-11-25T10:07:30.000Z');
    const h = planRangeWindow('1h', now);
    expect(h).toMatchObject({
      bucket: '1m',
      from: '2026-11-25T09:08:00.000Z',
      to: '2026-11-25T10:08:00.000Z',
    });
    expect(h.starts).toHaveLength(60);
    const d = planRangeWindow('24h', now);
    expect(d).toMatchObject({
      bucket: '15m',
      from: '2026-11-24T10:15:00.000Z',
      to: '2026-11-25T10:15:00.000Z',
    });
    expect(d.starts).toHaveLength(96);
    const w = planRangeWindow('7d', now);
    expect(w).toMatchObject({ bucket: '1h', to: '2026-11-25T11:00:00.000Z' });
    expect(w.starts).toHaveLength(168);
  });

  it('parses a range from the URL, falling back to 24 h', () => {
    expect(parseRangeId('7d')).toBe('7d');
    expect(parseRangeId('1y')).toBe('24h');
    expect(parseRangeId(null)).toBe('24h');
  });

  it('fills missing buckets with zero volume and no speed', () => {
    const pts = fillSeries([bucket(T0 + MIN, 'x', 'car', 4)], [T0, T0 + MIN]);
    expect(pts).toEqual([
      { start: T0, volume: 0, meanSpeedKmh: null, p85SpeedKmh: null, occupancyPct: 0 },
      { start: T0 + MIN, volume: 4, meanSpeedKmh: 50, p85SpeedKmh: 58, occupancyPct: 1 },
    ]);
  });

  it('pivots volume by key', () => {
    const p = pivotVolume(
      [bucket(T0, 'a', 'car', 2), bucket(T0, 'a', 'bus', 1), bucket(T0 + MIN, 'a', 'car', 5)],
      [T0, T0 + MIN],
      (b) => b.class,
    );
    expect(p.keys).toEqual(['bus', 'car']);
    expect(p.rows).toEqual([
      { start: T0, values: { car: 2, bus: 1 } },
      { start: T0 + MIN, values: { car: 5 } },
    ]);
  });

  it('summarises volume-weighted speeds and ignores empty buckets for speed', () => {
    const w = { starts: [T0, T0 + MIN, T0 + 2 * MIN], bucketMs: MIN };
    const s = summarizeSeries(
      [
        { ...bucket(T0, 'a', 'car', 3), meanSpeedKmh: 40, p85SpeedKmh: 50, occupancyPct: 2 },
        { ...bucket(T0 + MIN, 'a', 'car', 1), meanSpeedKmh: 80, p85SpeedKmh: 90, occupancyPct: 4 },
        {
          ...bucket(T0 + 2 * MIN, 'a', 'car', 0),
          meanSpeedKmh: null,
          p85SpeedKmh: null,
          occupancyPct: 0,
        },
      ],
      w,
      T0 + 3 * MIN,
    );
    // Occupancy: (2 + 4 + 0) over 3 one-minute buckets = 2.
    expect(s).toEqual({ volume: 4, meanSpeedKmh: 50, p85SpeedKmh: 60, occupancyPct: 2 });
    expect(summarizeSeries([], w, T0 + 3 * MIN)).toEqual({
      volume: 0,
      meanSpeedKmh: null,
      p85SpeedKmh: null,
      occupancyPct: null,
    });
  });

  it('weighs occupancy by the minutes of each bucket that have ended; a bucket not returned counts as 0 %', () => {
    const Q = 15 * MIN;
    const w = { starts: [T0, T0 + Q, T0 + 2 * Q, T0 + 3 * Q], bucketMs: Q };
    // Asked 5.5 minutes into the fourth bucket: 15 + 15 + 15 + 5 = 50 countable minutes. Only the first
    // bucket (8 %) and the current one (6 % over its 5 elapsed minutes) were returned:
    // (8 × 15 + 6 × 5) / 50 = 3, where a mean of the returned buckets would say 7.
    const s = summarizeSeries(
      [
        { ...bucket(T0, 'a', 'car', 5), occupancyPct: 8 },
        { ...bucket(T0 + 3 * Q, 'a', 'car', 1), occupancyPct: 6 },
      ],
      w,
      T0 + 3 * Q + 5.5 * MIN,
    );
    expect(s.occupancyPct).toBe(3);
  });
});

describe('formatting', () => {
  it.each([
    [null, 'never'],
    ['2026-11-25T09:59:40.000Z', 'just now'],
    ['2026-11-25T09:58:50.000Z', '1 min ago'],
    ['2026-11-25T09:40:00.000Z', '20 min ago'],
    ['2026-11-25T05:00:00.000Z', '5 h ago'],
    ['2026-11-20T10:00:00.000Z', '5 d ago'],
  ])('formatRelative(%s) → %s', (iso, expected) => {
    expect(formatRelative(iso, T0)).toBe(expected);
  });

  it.each([
    [0, '0 s'],
    [3.9, '3 s'],
    [59.9, '59 s'],
    [60, '1 min'],
    [3599, '59 min'],
    [3600, '1 h'],
    [3900, '1 h 5 min'],
    [86_400, '1 d'],
    [2 * 86_400 + 3 * 3600 + 59, '2 d 3 h'],
    [-4, '0 s'],
    [Number.NaN, '0 s'],
  ])('formatDuration(%s) → %s', (s, expected) => {
    expect(formatDuration(s)).toBe(expected);
  });

  it('formats an age as "… ago"', () => {
    expect(formatAgo(3.2)).toBe('3 s ago');
    expect(formatAgo(125)).toBe('2 min ago');
  });

  it('plans nice axes', () => {
    expect(planAxis(0)).toEqual({ max: 1, step: 1, ticks: [0, 1] });
    expect(planAxis(7)).toMatchObject({ max: 8, step: 2, ticks: [0, 2, 4, 6, 8] });
    expect(planAxis(173)).toMatchObject({ max: 200, step: 50 });
  });

  it('labels the time axis on clock-aligned steps, within the label budget', () => {
    const starts = Array.from({ length: 60 }, (_, i) => T0 + i * MIN);
    const ticks = planTimeTicks(starts, MIN, 7);
    expect(ticks.length).toBeGreaterThan(0);
    expect(ticks.length).toBeLessThanOrEqual(7);
    const steps = ticks.slice(1).map((t, i) => t - ticks[i]!);
    expect(new Set(steps).size).toBe(1);
    expect(planTimeTicks([], MIN, 5)).toEqual([]);
  });
});

describe('summarizeWorkers', () => {
  const W1 = '0a000000-0000-4000-8000-000000000001';
  const W2 = '0a000000-0000-4000-8000-000000000002';
  const W3 = '0a000000-0000-4000-8000-000000000003';
  const GONE = '6c1f0b7e-9999-4000-8000-000000000009';
  const at = '2026-11-25T10:00:00.000Z';
  const lease = (cameraId: string, epoch: number, handOffRequested = false) => ({
    cameraId,
    epoch,
    grantedAt: at,
    leaseAgeS: 120,
    renewedAgeS: 2,
    handOffRequested,
  });
  const worker = (id: string, name: string, over: Partial<WorkerList['workers'][number]> = {}) => ({
    id,
    name,
    version: '1.0.0',
    capacity: 2,
    live: true,
    registeredAt: at,
    heartbeatAt: at,
    heartbeatAgeS: 3,
    cameras: [],
    ...over,
  });
  const list: WorkerList = {
    ttlMs: 15_000,
    workers: [
      worker(W1, 'zeta', { live: false, heartbeatAgeS: 900, cameras: [] }),
      worker(W2, 'beta', { cameras: [lease(CAM, 3), lease(OTHER, 1, true)] }),
      worker(W3, 'alpha', { version: null, heartbeatAgeS: 10, cameras: [lease(GONE, 2)] }),
    ],
    unassigned: [OTHER, CAM],
  };
  const cameras = [
    { id: CAM, name: 'Main St' },
    { id: OTHER, name: 'Harbor Bridge' },
  ];

  it('lists live workers first, by name, with camera names, links, load and hand-off markers', () => {
    const view = summarizeWorkers(list, cameras, 0);
    expect(view.workers.map((w) => [w.name, w.live, w.held])).toEqual([
      ['alpha', true, 1],
      ['beta', true, 2],
      ['zeta', false, 0],
    ]);
    expect(view.workers[1]!.cameras).toEqual([
      {
        id: OTHER,
        name: 'Harbor Bridge',
        known: true,
        href: `/cameras/${OTHER}`,
        epoch: 1,
        leaseAgeS: 120,
        renewedAgeS: 2,
        handingOff: true,
      },
      expect.objectContaining({ id: CAM, name: 'Main St', epoch: 3, handingOff: false }),
    ]);
    // A camera the list does not have (deleted, past its page) still shows, by a short id.
    expect(view.workers[0]!.cameras[0]).toMatchObject({ name: 'Camera 6c1f0b7e', known: false });
    expect(view.unassigned.map((c) => c.name)).toEqual(['Harbor Bridge', 'Main St']);
    expect(view).toMatchObject({ ttlS: 15, live: 2, held: 3 });
  });

  it('ages heartbeats and leases since the answer, and a heartbeat older than the TTL is not live', () => {
    const view = summarizeWorkers(list, cameras, 6_000);
    expect(view.workers.map((w) => [w.name, w.live, w.heartbeatAgeS])).toEqual([
      ['beta', true, 9],
      ['alpha', false, 16],
      ['zeta', false, 906],
    ]);
    expect(view.workers[0]!.cameras[0]).toMatchObject({ leaseAgeS: 126, renewedAgeS: 8 });
    expect(view.live).toBe(1);
    // A clock that went backwards never makes an age younger than the API said.
    expect(summarizeWorkers(list, cameras, -5_000).workers[0]!.heartbeatAgeS).toBe(10);
  });
});

describe('parseLiveMessage', () => {
  const data = crossing(9, T0);
  it('accepts the payload framing the API sends (event name = type)', () => {
    expect(parseLiveMessage('crossing', JSON.stringify(data))).toEqual({ type: 'crossing', data });
  });
  it('accepts a whole LiveEvent as the data', () => {
    expect(parseLiveMessage('message', JSON.stringify({ type: 'crossing', data }))).toEqual({
      type: 'crossing',
      data,
    });
  });
  it('rejects what does not match the contract', () => {
    expect(parseLiveMessage('crossing', '{"id":"nope"}')).toBeNull();
    expect(parseLiveMessage('crossing', 'not json')).toBeNull();
    expect(parseLiveMessage('surprise', JSON.stringify(data))).toBeNull();
  });
});

describe('api client', () => {
  const respond = (status: number, body: unknown) => async () =>
    new Response(typeof body === 'string' ? body : JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json' },
    });

  it('builds query strings from defined parameters only', () => {
    expect(toQuery({ a: 1, b: undefined, c: 'x y' })).toBe('a=1&c=x+y');
  });

  it('returns a readiness report on 503 (a report, not a failure)', async () => {
    const report = {
      status: 'fail',
      version: '1',
      checks: [{ name: 'database', status: 'fail', durationMs: 3, reason: 'connection refused' }],
    };
    const api = createApiClient('http://api.test/', respond(503, report));
    expect(await api.getReadiness()).toEqual(report);
    expect(api.streamUrl).toBe('http://api.test/api/v1/stream');
  });

  it('turns an error body into an ApiError with the server’s message and status', async () => {
    const api = createApiClient(
      'http://api.test',
      respond(404, { statusCode: 404, error: 'Not Found', message: 'camera "x" not found' }),
    );
    await expect(api.getCamera('x')).rejects.toMatchObject({
      name: 'ApiError',
      kind: 'http',
      status: 404,
      message: 'camera "x" not found',
    });
  });

  it('names the field when a response breaks the contract', async () => {
    const api = createApiClient(
      'http://api.test',
      respond(200, { items: [{ id: 'not-a-uuid' }], total: 1, limit: 50, offset: 0 }),
    );
    const err = await api.listCameras().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).kind).toBe('contract');
    expect((err as ApiError).message).toMatch(
      /^unexpected response from \/api\/v1\/cameras\?limit=200&offset=0: items\.0\.id: /,
    );
  });

  it('validates the workers list with the contract', async () => {
    const ok = { ttlMs: 15_000, workers: [], unassigned: [CAM] };
    expect(await createApiClient('http://api.test', respond(200, ok)).getWorkers()).toEqual(ok);
    const err = await createApiClient('http://api.test', respond(200, { ttlMs: 15_000, workers: [] }))
      .getWorkers()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      kind: 'contract',
      message: expect.stringMatching(/^unexpected response from \/api\/v1\/workers: unassigned: /),
    });
  });

  it('reports an unreachable API as a network error naming the base URL', async () => {
    const api = createApiClient('http://api.test', async () => {
      throw new TypeError('fetch failed');
    });
    await expect(api.getReadiness()).rejects.toMatchObject({
      kind: 'network',
      message: 'cannot reach the API at http://api.test (fetch failed)',
    });
  });
});

describe('matchRoute', () => {
  it.each([
    ['/', { name: 'overview' }],
    ['/cameras/', { name: 'overview' }],
    ['/system', { name: 'system' }],
    ['/cameras/a%20b', { name: 'camera', id: 'a b' }],
    ['/nowhere', { name: 'not-found', path: '/nowhere' }],
  ])('%s', (path, route) => {
    expect(matchRoute(path)).toEqual(route);
  });
});
