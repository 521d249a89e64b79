/**
 * The pure halves of the request limits: the aggregate row bound, the rate-limit plan, and large
 * answers built in slices.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AggregateSeries, API_ROUTES } from '@its/contracts';
import { mapInSlices } from '../src/event-loop.js';
import { planRateLimit } from '../src/rate-limit/rate-limits.js';
import { stringifyAggregateSeries } from '../src/routes/aggregate-json.js';
import {
  assessAggregateRows,
  planAggregateGroupCount,
  planGroupBound,
} from '../src/store/aggregate-row-limit.js';

describe('aggregate row limit', () => {
  const range = { from: '2025-03-01T00:00:00.000Z', to: '2025-03-07T00:00:00.000Z' };
  it.each([
    ['no groupBy', { groupBy: [] }, 1],
    ['by camera, fleet of 40', { groupBy: ['camera'] }, 40],
    ['by camera with a cameraId filter', { groupBy: ['camera'], cameraId: randomUUID() }, 1],
    ['by class', { groupBy: ['class'] }, 6],
    ['by class with a class filter', { groupBy: ['class'], class: 'car' }, 1],
    ['by camera and class', { groupBy: ['camera', 'class'] }, 240],
    ['by lane: free text, unknown from the request', { groupBy: ['lane'] }, undefined],
    ['by lane with a lane filter', { groupBy: ['lane', 'class'], lane: 'nb-1' }, 6],
  ] as const)('%s → %s groups at most', (_name, f, expected) => {
    expect(planGroupBound(f, 40)).toBe(expected);
  });

  it('refuses the probe’s query naming the parameters, the limit and the ways to narrow it', () => {
    const verdict = assessAggregateRows(
      { ...range, bucket: '1m', groupBy: ['camera', 'lane', 'class'] },
      100,
      50_000,
    );
    expect(verdict).toEqual({
      ok: false,
      rows: 864_000,
      message:
        'querystring: bucket=1m from 2025-03-01T00:00:00.000Z to 2025-03-07T00:00:00.000Z is 8640 buckets × 100 groups by camera, lane, class = 864000 rows, ' +
        'above the limit of 50000 rows per query (AGGREGATE_MAX_ROWS); narrow it: a larger bucket (bucket=1h: 14400 rows), ' +
        'a shorter range (at most 500 buckets of 1m, 8 h 20 min, between from and to), fewer groupBy keys, a cameraId or lane or class filter',
    });
  });

  it('fits exactly at the limit; offers only the ways that help', () => {
    expect(assessAggregateRows({ ...range, bucket: '1h', groupBy: ['class'] }, 6, 864)).toEqual({
      ok: true,
      rows: 864,
    });
    const over = assessAggregateRows({ ...range, bucket: '1m', groupBy: [] }, 1, 5000);
    expect(over.ok).toBe(false);
    if (!over.ok) {
      expect(over.message).toContain('a larger bucket (bucket=15m: 576 rows)');
      expect(over.message).not.toContain('groupBy keys');
      expect(over.message).not.toContain('filter');
    }
  });

  it('counts groups from the hourly rollup, over the hours the range touches, with its filters', () => {
    const camera = randomUUID();
    expect(
      planAggregateGroupCount({
        from: '2025-03-01T08:10:00.000Z',
        to: '2025-03-01T09:00:00.000Z',
        bucket: '1m',
        groupBy: ['lane', 'class'],
        cameraId: camera,
      }),
    ).toEqual({
      sql: expect.stringMatching(
        /SELECT DISTINCT lane, class FROM interval_rollups_hourly WHERE hour_start >= \$1::timestamptz AND hour_start < \$2::timestamptz AND camera_id = \$3::uuid/,
      ),
      params: ['2025-03-01T08:00:00.000Z', '2025-03-01T09:00:00.000Z', camera],
    });
  });
});

describe('rate-limit plan', () => {
  it('plans one bucket per key and one per address; health is never limited; 0 turns a limit off', () => {
    const limits = { RATE_LIMIT_ANONYMOUS_PER_MIN: 10, RATE_LIMIT_PER_KEY_PER_MIN: 100 };
    const anonymous = { kind: 'anonymous' } as const;
    expect(
      planRateLimit({ route: API_ROUTES.cameras, caller: anonymous, address: '10.0.0.1' }, limits),
    ).toEqual({
      bucket: 'address:10.0.0.1',
      max: 10,
      who: 'client address 10.0.0.1 (no valid API key)',
      setting: 'RATE_LIMIT_ANONYMOUS_PER_MIN',
    });
    expect(
      planRateLimit(
        { route: API_ROUTES.cameras, caller: { kind: 'key', id: 'k1' }, address: '10.0.0.1' },
        limits,
      ),
    ).toMatchObject({ bucket: 'key:k1', max: 100, setting: 'RATE_LIMIT_PER_KEY_PER_MIN' });
    expect(
      planRateLimit(
        { route: API_ROUTES.ingestEvents, caller: { kind: 'admin' }, address: '10.0.0.1' },
        limits,
      ),
    ).toMatchObject({ bucket: 'admin', max: 100 });
    for (const route of [API_ROUTES.health, API_ROUTES.ready, API_ROUTES.metrics])
      expect(planRateLimit({ route, caller: anonymous, address: '10.0.0.1' }, limits)).toBeUndefined();
    expect(
      planRateLimit(
        { route: API_ROUTES.cameras, caller: anonymous, address: '10.0.0.1' },
        { ...limits, RATE_LIMIT_ANONYMOUS_PER_MIN: 0 },
      ),
    ).toBeUndefined();
  });
});

describe('large answers in slices', () => {
  const bucket = (i: number) => ({
    start: new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString(),
    cameraId: '3f1c9a52-7f4e-4d7e-9a1b-0c1d2e3f4a5b',
    lane: 'nb-1',
    class: 'car' as const,
    volume: i % 17,
    occupancyPct: 12.5,
    meanSpeedKmh: i % 3 ? 40.125 : null,
    p85SpeedKmh: null,
  });

  it.each([0, 1, 2500])('%i buckets: the same bytes as the schema serializer', async (n) => {
    const series = {
      bucket: '1m' as const,
      from: '2025-01-01T00:00:00.000Z',
      to: '2025-01-03T00:00:00.000Z',
      buckets: Array.from({ length: n }, (_, i) => bucket(i)),
    };
    expect(await stringifyAggregateSeries(series)).toBe(JSON.stringify(AggregateSeries.parse(series)));
  });

  it('an answer that breaks the contract is an error, not a response', async () => {
    const broken = { ...bucket(0), volume: 1.5 };
    await expect(
      stringifyAggregateSeries({ bucket: '1m', from: 'a', to: 'b', buckets: [broken] }),
    ).rejects.toThrow();
  });

  it('other work (a /health request) runs between the slices of a long map', async () => {
    let otherWorkRan = false;
    setImmediate(() => (otherWorkRan = true));
    const seen: boolean[] = [];
    await mapInSlices(
      Array.from({ length: 2500 }, (_, i) => i),
      (i) => seen.push(otherWorkRan && i >= 250),
    );
    expect(seen.slice(0, 250).every((ran) => !ran)).toBe(true);
    expect(seen.at(-1)).toBe(true);
  });
});
