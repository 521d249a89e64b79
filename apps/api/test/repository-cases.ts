/**
 * One table of repository cases, executed once per store (embedded PGlite in repository.test.ts,
 * real PostgreSQL in repository.int.test.ts): the same SQL must give the same answers on both. Each
 * case runs twice, aggregates answered with and without the hourly rollup; rollup-cases.ts adds the
 * cases that compare the two directly.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../src/errors.js';
import { LATEST_MIGRATION } from '../src/db/migrations.js';
import { createApiKey, verifyApiKey } from '../src/auth/api-keys.js';
import type { Store } from '../src/store/create-store.js';
import { createRepository, type Repository } from '../src/store/repository.js';
import type { AggregateFilter } from '../src/store/aggregate-query.js';
import { aggregate, at, crossing, newCamera, resetStore } from './fixtures.js';
import { ROLLUP_CASES } from './rollup-cases.js';
import type { Db } from '../src/db/db.js';
import { createPgliteDb } from '../src/db/pglite-db.js';

const NOW = new Date('2025-03-01T12:00:00.000Z');

interface Ctx {
  repo: Repository;
  store: Store;
}
interface RepositoryCase {
  name: string;
  run(ctx: Ctx): Promise<void>;
}

/**
 * Seeds the bucketing scenario; returns the two camera ids. Series (camera × lane × class) and their
 * stored minutes (at(m) = 08:00 + m minutes), occupancy in %:
 *   a/nb-1/car   at(0) 10, at(1) 20, at(14) 0, at(15) 30, at(60) 10
 *   a/sb-1/truck at(2) 40
 *   b/nb-1/car   at(5) 50
 * Every query below is asked at NOW (12:00), after all of these minutes have ended.
 */
async function seedBuckets(repo: Repository): Promise<{ a: string; b: string }> {
  const a = randomUUID();
  const b = randomUUID();
  await repo.createCamera(a, newCamera({ name: 'A' }), NOW);
  await repo.createCamera(b, newCamera({ name: 'B' }), new Date(NOW.getTime() + 1));
  await repo.upsertAggregates(
    [
      aggregate(a, { intervalStart: at(0), volume: 10, occupancyPct: 10, meanSpeedKmh: 40, p85SpeedKmh: 50 }),
      aggregate(a, { intervalStart: at(1), volume: 30, occupancyPct: 20, meanSpeedKmh: 60, p85SpeedKmh: 70 }),
      aggregate(a, {
        intervalStart: at(14),
        volume: 0,
        occupancyPct: 0,
        meanSpeedKmh: null,
        p85SpeedKmh: null,
      }),
      aggregate(a, { intervalStart: at(15), volume: 5, occupancyPct: 30, meanSpeedKmh: 80, p85SpeedKmh: 90 }),
      aggregate(a, {
        intervalStart: at(2),
        lane: 'sb-1',
        class: 'truck',
        volume: 10,
        occupancyPct: 40,
        meanSpeedKmh: 30,
        p85SpeedKmh: 35,
      }),
      aggregate(b, { intervalStart: at(5), volume: 20, occupancyPct: 50, meanSpeedKmh: 50, p85SpeedKmh: 60 }),
      aggregate(a, {
        intervalStart: at(60),
        volume: 100,
        occupancyPct: 10,
        meanSpeedKmh: 50,
        p85SpeedKmh: 55,
      }),
    ],
    NOW,
  );
  return { a, b };
}

export const REPOSITORY_CASES: RepositoryCase[] = [
  {
    name: 'migrations are applied once and the schema is at the latest version',
    async run({ store }) {
      expect(await store.migrate()).toEqual([]);
      expect(await store.schemaVersion()).toEqual({ current: LATEST_MIGRATION, required: LATEST_MIGRATION });
    },
  },
  {
    name: 'creates, reads, lists (paginated, in creation order), updates and deletes cameras',
    async run({ repo }) {
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      for (const [i, id] of ids.entries()) {
        await repo.createCamera(id, newCamera({ name: `cam ${i}` }), new Date(NOW.getTime() + i * 1000));
      }
      const got = await repo.getCamera(ids[1]!);
      expect(got).toMatchObject({
        id: ids[1],
        name: 'cam 1',
        location: { lat: 1, lon: 2 },
        status: { state: 'unknown', reason: null, lastSeenAt: null },
        createdAt: '2025-03-01T12:00:01.000Z',
      });
      const page = await repo.listCameras({ limit: 2, offset: 1 });
      expect(page.total).toBe(3);
      expect(page.items.map((c) => c.name)).toEqual(['cam 1', 'cam 2']);

      const calibration = {
        imagePoints: [
          { x: 0, y: 0 },
          { x: 1, y: 0 },
          { x: 1, y: 1 },
          { x: 0, y: 1 },
        ],
        groundPoints: [
          { x: 0, y: 0 },
          { x: 10, y: 0 },
          { x: 10, y: 30 },
          { x: 0, y: 30 },
        ],
      };
      const later = new Date(NOW.getTime() + 60_000);
      const updated = await repo.updateCamera(ids[0]!, { name: 'renamed', calibration }, later);
      expect(updated).toMatchObject({
        name: 'renamed',
        streamUrl: 'rtsp://127.0.0.1/cam',
        calibration,
        updatedAt: later.toISOString(),
      });
      const cleared = await repo.updateCamera(ids[0]!, { calibration: null, enabled: false }, later);
      expect(cleared).toMatchObject({ name: 'renamed', calibration: null, enabled: false });
      expect(await repo.updateCamera(randomUUID(), { name: 'x' }, later)).toBeUndefined();

      expect(await repo.deleteCamera(ids[2]!)).toBe(true);
      expect(await repo.deleteCamera(ids[2]!)).toBe(false);
      expect(await repo.getCamera(ids[2]!)).toBeUndefined();
      expect(await repo.cameraExists(ids[0]!)).toBe(true);
    },
  },
  {
    name: 'crossing events are idempotent on their id (a retried batch stores nothing twice)',
    async run({ repo }) {
      const cam = randomUUID();
      await repo.createCamera(cam, newCamera(), NOW);
      const batch = [
        crossing(cam),
        crossing(cam, { speedKmh: null, trackId: null }),
        crossing(cam, { class: 'bus' }),
      ];
      const first = await repo.insertEvents(batch);
      expect(first).toMatchObject({ accepted: 3, duplicates: 0 });
      expect(first.stored).toHaveLength(3);
      const retry = await repo.insertEvents(batch);
      expect(retry).toEqual({ accepted: 0, duplicates: 3, stored: [] });
      const inBatchDuplicate = crossing(cam);
      expect(await repo.insertEvents([inBatchDuplicate, inBatchDuplicate])).toMatchObject({
        accepted: 1,
        duplicates: 1,
      });
      expect((await repo.totals({})).crossings).toBe(4);
    },
  },
  {
    name: 'a batch naming an unknown camera is refused whole (404 with the item path) and stores nothing',
    async run({ repo }) {
      const cam = randomUUID();
      const ghost = randomUUID();
      await repo.createCamera(cam, newCamera(), NOW);
      const err = await repo.insertEvents([crossing(cam), crossing(ghost)]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).statusCode).toBe(404);
      expect((err as ApiError).message).toBe(`body/events/1/cameraId: camera "${ghost}" not found`);
      const aggErr = await repo.upsertAggregates([aggregate(ghost)], NOW).catch((e: unknown) => e);
      expect((aggErr as ApiError).message).toMatch(/^body\/aggregates\/0\/cameraId: /);
      const statusErr = await repo
        .updateStatuses([{ cameraId: ghost, state: 'online', reason: null, fps: null }], NOW)
        .catch((e: unknown) => e);
      expect((statusErr as ApiError).message).toMatch(/^body\/cameras\/0\/cameraId: /);
      expect(await repo.totals({})).toMatchObject({ crossings: 0, intervals: 0 });
    },
  },
  {
    name: 'interval aggregates upsert on (camera, interval, lane, class): a retry replaces, never adds',
    async run({ repo }) {
      const cam = randomUUID();
      await repo.createCamera(cam, newCamera(), NOW);
      const first = await repo.upsertAggregates(
        [aggregate(cam), aggregate(cam, { class: 'bus', volume: 2 })],
        NOW,
      );
      expect(first).toMatchObject({ accepted: 2, duplicates: 0 });
      const retry = await repo.upsertAggregates(
        [aggregate(cam, { volume: 12 }), aggregate(cam, { class: 'bus', volume: 2 })],
        NOW,
      );
      expect(retry).toMatchObject({ accepted: 0, duplicates: 2 });
      // Same key twice in one batch: the last one wins.
      await repo.upsertAggregates(
        [aggregate(cam, { lane: 'x', volume: 1 }), aggregate(cam, { lane: 'x', volume: 4 })],
        NOW,
      );
      const totals = await repo.totals({ cameraId: cam });
      expect(totals).toMatchObject({ volume: 18, intervals: 3 });
      expect(totals.byClass).toEqual([
        { class: 'bus', volume: 2 },
        { class: 'car', volume: 16 },
      ]);
    },
  },
  {
    name: '15-minute buckets: volume summed, occupancy over minutes × series, speeds volume-weighted, [from, to) range',
    async run({ repo }) {
      await seedBuckets(repo);
      const buckets = await repo.queryAggregates({
        from: at(0),
        to: at(60),
        bucket: '15m',
        groupBy: [],
        now: NOW,
      });
      // Bucket at(0): occupancy (10 + 20 + 0 + 40 + 50) = 120 over 15 minutes × 3 series = 2.667
      // (the old mean of the stored rows said 120 / 5 = 24). Bucket at(15): 30 / 15 minutes / 1 series = 2.
      expect(buckets).toEqual([
        { start: at(0), volume: 70, occupancyPct: 2.667, meanSpeedKmh: 50, p85SpeedKmh: 59.286 },
        { start: at(15), volume: 5, occupancyPct: 2, meanSpeedKmh: 80, p85SpeedKmh: 90 },
      ]);
    },
  },
  {
    name: 'groupBy splits buckets by camera and lane; filters narrow by camera, lane and class',
    async run({ repo }) {
      const { a, b } = await seedBuckets(repo);
      const grouped = await repo.queryAggregates({
        from: at(0),
        to: at(15),
        bucket: '15m',
        groupBy: ['camera', 'lane'],
        now: NOW,
      });
      // Over 15 minutes, one series per group: a/nb-1 (10 + 20 + 0) / 15 = 2, a/sb-1 40 / 15 = 2.667,
      // b/nb-1 50 / 15 = 3.333.
      expect(grouped).toHaveLength(3);
      expect(grouped).toEqual(
        expect.arrayContaining([
          {
            start: at(0),
            cameraId: a,
            lane: 'nb-1',
            volume: 40,
            occupancyPct: 2,
            meanSpeedKmh: 55,
            p85SpeedKmh: 65,
          },
          {
            start: at(0),
            cameraId: a,
            lane: 'sb-1',
            volume: 10,
            occupancyPct: 2.667,
            meanSpeedKmh: 30,
            p85SpeedKmh: 35,
          },
          {
            start: at(0),
            cameraId: b,
            lane: 'nb-1',
            volume: 20,
            occupancyPct: 3.333,
            meanSpeedKmh: 50,
            p85SpeedKmh: 60,
          },
        ]),
      );
      const trucks = await repo.queryAggregates({
        from: at(0),
        to: at(60),
        bucket: '1m',
        groupBy: ['class'],
        class: 'truck',
        now: NOW,
      });
      // A 1-minute bucket with its minute stored: 40 / 1 minute / 1 series = 40.
      expect(trucks).toEqual([
        { start: at(2), class: 'truck', volume: 10, occupancyPct: 40, meanSpeedKmh: 30, p85SpeedKmh: 35 },
      ]);
      const camB = await repo.queryAggregates({
        from: at(0),
        to: at(120),
        bucket: '1h',
        groupBy: [],
        cameraId: b,
        now: NOW,
      });
      expect(camB.map((x) => x.volume)).toEqual([20]);
      const lane = await repo.queryAggregates({
        from: at(0),
        to: at(120),
        bucket: '1h',
        groupBy: [],
        lane: 'sb-1',
        now: NOW,
      });
      expect(lane.map((x) => x.volume)).toEqual([10]);
    },
  },
  {
    name: 'hour and day buckets align to UTC; a bucket with only zero-volume intervals has null speeds',
    async run({ repo }) {
      await seedBuckets(repo);
      const hourly = await repo.queryAggregates({
        from: at(-30),
        to: at(120),
        bucket: '1h',
        groupBy: [],
        now: NOW,
      });
      // 08:00: (120 + 30) / 60 minutes / 3 series = 0.833; 09:00: 10 / 60 / 1 = 0.167.
      expect(hourly.map((x) => [x.start, x.volume, x.occupancyPct])).toEqual([
        [at(0), 75, 0.833],
        [at(60), 100, 0.167],
      ]);
      const daily = await repo.queryAggregates({
        from: '2025-03-01T00:00:00.000Z',
        to: '2025-03-02T00:00:00.000Z',
        bucket: '1d',
        groupBy: [],
        now: NOW,
      });
      // The day bucket is asked at 12:00: only the 720 minutes that have ended count, not 1440.
      // (120 + 30 + 10) = 160 / 720 / 3 series = 0.074.
      expect(daily).toEqual([
        expect.objectContaining({ start: '2025-03-01T00:00:00.000Z', volume: 175, occupancyPct: 0.074 }),
      ]);
      const idle = await repo.queryAggregates({
        from: at(14),
        to: at(15),
        bucket: '1m',
        groupBy: [],
        now: NOW,
      });
      expect(idle).toEqual([
        { start: at(14), volume: 0, occupancyPct: 0, meanSpeedKmh: null, p85SpeedKmh: null },
      ]);
      expect(
        await repo.queryAggregates({ from: at(200), to: at(300), bucket: '15m', groupBy: [], now: NOW }),
      ).toEqual([]);
    },
  },
  {
    name: 'occupancy: a sparse lane counts its empty minutes as 0 % (one stored minute of 60 % in 15 → 4 %)',
    async run({ repo }) {
      const cam = randomUUID();
      await repo.createCamera(cam, newCamera(), NOW);
      await repo.upsertAggregates([aggregate(cam, { intervalStart: at(3), occupancyPct: 60 })], NOW);
      // 60 / 15 minutes / 1 series = 4 (the mean of the stored rows said 60).
      expect(
        await repo.queryAggregates({ from: at(0), to: at(15), bucket: '15m', groupBy: [], now: NOW }),
      ).toEqual([expect.objectContaining({ start: at(0), occupancyPct: 4 })]);
      // The same minute in an hour bucket: 60 / 60 = 1; in its own minute bucket: 60 / 1 = 60.
      expect(
        await repo.queryAggregates({ from: at(0), to: at(60), bucket: '1h', groupBy: [], now: NOW }),
      ).toEqual([expect.objectContaining({ occupancyPct: 1 })]);
      expect(
        await repo.queryAggregates({ from: at(0), to: at(15), bucket: '1m', groupBy: [], now: NOW }),
      ).toEqual([expect.objectContaining({ start: at(3), occupancyPct: 60 })]);
    },
  },
  {
    name: 'occupancy: a group over two lanes (and two classes) is the mean over its series',
    async run({ repo }) {
      const cam = randomUUID();
      await repo.createCamera(cam, newCamera(), NOW);
      await repo.upsertAggregates(
        [
          // nb-1/car: busy all 15 minutes at 20 %.
          ...Array.from({ length: 15 }, (_, m) =>
            aggregate(cam, { intervalStart: at(m), lane: 'nb-1', occupancyPct: 20 }),
          ),
          // sb-1/car: 3 minutes at 40 %; sb-1/bus: 1 minute at 30 %.
          ...[0, 1, 2].map((m) => aggregate(cam, { intervalStart: at(m), lane: 'sb-1', occupancyPct: 40 })),
          aggregate(cam, { intervalStart: at(7), lane: 'sb-1', class: 'bus', occupancyPct: 30 }),
        ],
        NOW,
      );
      const ask = (groupBy: AggregateFilter['groupBy']) =>
        repo.queryAggregates({ from: at(0), to: at(15), bucket: '15m', groupBy, now: NOW });
      // All together: (15 × 20 + 3 × 40 + 30) = 450 / 15 minutes / 3 series = 10.
      expect((await ask([])).map((b) => b.occupancyPct)).toEqual([10]);
      // By lane: nb-1 300 / 15 / 1 = 20; sb-1 (120 + 30) / 15 / 2 series = 5.
      expect((await ask(['lane'])).map((b) => [b.lane, b.occupancyPct])).toEqual([
        ['nb-1', 20],
        ['sb-1', 5],
      ]);
      // By class: bus 30 / 15 / 1 = 2; car (300 + 120) / 15 / 2 series = 14.
      expect((await ask(['class'])).map((b) => [b.class, b.occupancyPct])).toEqual([
        ['bus', 2],
        ['car', 14],
      ]);
      // By lane and class, each group is one series: nb-1/car 20, sb-1/bus 2, sb-1/car 120 / 15 = 8.
      expect((await ask(['lane', 'class'])).map((b) => [b.lane, b.class, b.occupancyPct])).toEqual([
        ['nb-1', 'car', 20],
        ['sb-1', 'bus', 2],
        ['sb-1', 'car', 8],
      ]);
    },
  },
  {
    name: 'occupancy: edge buckets cut by from or to count only their minutes inside [from, to)',
    async run({ repo }) {
      const cam = randomUUID();
      await repo.createCamera(cam, newCamera(), NOW);
      await repo.upsertAggregates(
        [
          aggregate(cam, { intervalStart: at(5), occupancyPct: 90 }), // before `from`: left out
          aggregate(cam, { intervalStart: at(12), occupancyPct: 60 }),
          aggregate(cam, { intervalStart: at(16), occupancyPct: 30 }),
          aggregate(cam, { intervalStart: at(25), occupancyPct: 80 }), // at or after `to`: left out
        ],
        NOW,
      );
      // from at(10): bucket at(0) counts minutes 10–14 → 60 / 5 = 12. to at(20): bucket at(15) counts
      // minutes 15–19 → 30 / 5 = 6.
      const cut = await repo.queryAggregates({
        from: at(10),
        to: at(20),
        bucket: '15m',
        groupBy: [],
        now: NOW,
      });
      expect(cut.map((b) => [b.start, b.occupancyPct])).toEqual([
        [at(0), 12],
        [at(15), 6],
      ]);
      // Bounds inside a minute: from 08:10:30 leaves minute 10 out (its start is before from), so
      // minutes 11–14 count → 60 / 4 = 15; to 08:20:30 takes minute 20 in (it starts before to), so
      // minutes 15–20 count → 30 / 6 = 5.
      const halves = await repo.queryAggregates({
        from: '2025-03-01T08:10:30.000Z',
        to: '2025-03-01T08:20:30.000Z',
        bucket: '15m',
        groupBy: [],
        now: NOW,
      });
      expect(halves.map((b) => [b.start, b.occupancyPct])).toEqual([
        [at(0), 15],
        [at(15), 5],
      ]);
    },
  },
  {
    name: 'occupancy: the current bucket counts only the minutes that have ended by now; a stored minute always counts',
    async run({ repo }) {
      const cam = randomUUID();
      await repo.createCamera(cam, newCamera(), NOW);
      await repo.upsertAggregates(
        [
          aggregate(cam, { intervalStart: at(3), occupancyPct: 45 }),
          aggregate(cam, { intervalStart: at(16), occupancyPct: 50 }),
        ],
        NOW,
      );
      // Asked at 08:20:30: minutes 15–19 have ended, minute 20 is still running → 50 / 5 = 10. The
      // finished bucket at(0) keeps its 15 minutes → 45 / 15 = 3. Minutes after now never count.
      const now = new Date('2025-03-01T08:20:30.000Z');
      const ask = () =>
        repo.queryAggregates({ from: at(0), to: at(30), bucket: '15m', groupBy: ['lane'], now });
      expect((await ask()).map((b) => [b.start, b.occupancyPct])).toEqual([
        [at(0), 3],
        [at(15), 10],
      ]);
      // A worker whose clock runs ahead stores minute 21 before our now has passed it; that minute
      // counts (minutes 15–21), for every group of the bucket: nb-1 50 / 7 = 7.143, sb-1 35 / 7 = 5.
      await repo.upsertAggregates(
        [aggregate(cam, { intervalStart: at(21), lane: 'sb-1', occupancyPct: 35 })],
        NOW,
      );
      expect((await ask()).map((b) => [b.start, b.lane, b.occupancyPct])).toEqual([
        [at(0), 'nb-1', 3],
        [at(15), 'nb-1', 7.143],
        [at(15), 'sb-1', 5],
      ]);
    },
  },
  {
    name: 'latest counts: each camera’s latest interval by lane and class; cameras without data listed empty',
    async run({ repo }) {
      const { a, b } = await seedBuckets(repo);
      const empty = randomUUID();
      await repo.createCamera(empty, newCamera({ name: 'C' }), new Date(NOW.getTime() + 2));
      const items = await repo.latestCounts();
      expect(items).toEqual([
        {
          cameraId: a,
          intervalStart: at(60),
          volume: 100,
          counts: [
            { lane: 'nb-1', class: 'car', volume: 100, occupancyPct: 10, meanSpeedKmh: 50, p85SpeedKmh: 55 },
          ],
        },
        {
          cameraId: b,
          intervalStart: at(5),
          volume: 20,
          counts: [expect.objectContaining({ lane: 'nb-1', volume: 20 })],
        },
        { cameraId: empty, intervalStart: null, volume: 0, counts: [] },
      ]);
      expect((await repo.latestCounts(b)).map((i) => i.cameraId)).toEqual([b]);
    },
  },
  {
    name: 'totals sum intervals and count crossings, within an optional range and camera',
    async run({ repo }) {
      const { a, b } = await seedBuckets(repo);
      await repo.insertEvents([
        crossing(a, { ts: at(1) }),
        crossing(a, { ts: at(61) }),
        crossing(b, { ts: at(2) }),
      ]);
      expect(await repo.totals({})).toMatchObject({
        cameras: 2,
        volume: 175,
        intervals: 7,
        crossings: 3,
        from: null,
        to: null,
      });
      expect(await repo.totals({ from: at(0), to: at(60) })).toMatchObject({
        volume: 75,
        intervals: 6,
        crossings: 2,
      });
      expect(await repo.totals({ cameraId: a, from: at(0) })).toMatchObject({
        cameras: 1,
        volume: 155,
        crossings: 2,
      });
    },
  },
  {
    name: 'status reports update state, reason and last-seen time',
    async run({ repo }) {
      const cam = randomUUID();
      await repo.createCamera(cam, newCamera(), NOW);
      const stored = await repo.updateStatuses(
        [
          { cameraId: cam, state: 'starting', reason: null, fps: null },
          { cameraId: cam, state: 'offline', reason: 'rtsp timeout', fps: 0 },
        ],
        NOW,
      );
      expect(stored).toHaveLength(1);
      expect((await repo.getCamera(cam))?.status).toEqual({
        state: 'offline',
        reason: 'rtsp timeout',
        lastSeenAt: NOW.toISOString(),
      });
    },
  },
  {
    name: 'deleting a camera deletes its events and intervals',
    async run({ repo }) {
      const { a } = await seedBuckets(repo);
      await repo.insertEvents([crossing(a)]);
      await repo.deleteCamera(a);
      expect(await repo.totals({})).toMatchObject({ cameras: 1, volume: 20, intervals: 1, crossings: 0 });
    },
  },
  {
    name: 'API keys: stored hashed, found by prefix, touched, revoked',
    async run({ repo, store }) {
      const created = await createApiKey(repo, 'worker', NOW);
      const rows = await store.db.query<{ key_hash: string }>('SELECT key_hash FROM api_keys');
      expect(rows.rows).toHaveLength(1);
      expect(rows.rows[0]!.key_hash).not.toContain(created.key);
      expect(await verifyApiKey(repo, created.key)).toBe(created.id);
      expect(
        await verifyApiKey(repo, created.key.slice(0, -1) + (created.key.endsWith('A') ? 'B' : 'A')),
      ).toBeUndefined();
      await repo.touchApiKey(created.id, NOW);
      expect((await repo.findApiKeyByPrefix(created.prefix))?.lastUsedAt).toBe(NOW.toISOString());
      // Within a minute the stored time does not move (no write per request).
      await repo.touchApiKey(created.id, new Date(NOW.getTime() + 30_000));
      expect((await repo.findApiKeyByPrefix(created.prefix))?.lastUsedAt).toBe(NOW.toISOString());
      expect(await repo.revokeApiKey(created.id)).toBe(true);
      expect(await verifyApiKey(repo, created.key)).toBeUndefined();
      expect(await repo.revokeApiKey(randomUUID())).toBe(false);
    },
  },
  {
    name: 'concurrent overlapping batches (retries from two workers) neither fail nor double-count',
    async run({ repo }) {
      const cam = randomUUID();
      await repo.createCamera(cam, newCamera(), NOW);
      const aggs = Array.from({ length: 200 }, (_, i) => aggregate(cam, { intervalStart: at(i), volume: 1 }));
      const events = Array.from({ length: 200 }, (_, i) => crossing(cam, { ts: at(i) }));
      const results = await Promise.all([
        repo.upsertAggregates(aggs, NOW),
        repo.upsertAggregates([...aggs].reverse(), NOW),
        repo.insertEvents(events),
        repo.insertEvents([...events].reverse()),
      ]);
      expect(results[0].accepted + results[1].accepted).toBe(200);
      expect(results[2].accepted + results[3].accepted).toBe(200);
      expect(await repo.totals({ cameraId: cam })).toMatchObject({
        volume: 200,
        intervals: 200,
        crossings: 200,
      });
    },
  },
  {
    name: 'a failed transaction leaves nothing behind',
    async run({ store, repo }) {
      const cam = randomUUID();
      await repo.createCamera(cam, newCamera(), NOW);
      await expect(
        store.db.transaction(async (tx) => {
          await tx.query(
            'INSERT INTO crossing_events (id, camera_id, line_id, lane, class, direction, ts) VALUES ($1, $2, $3, $3, $4, $5, $6)',
            [randomUUID(), cam, 'l', 'car', 'forward', NOW],
          );
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect((await repo.totals({})).crossings).toBe(0);
    },
  },
];

/** Runs every case against the store `open` returns (opened once, emptied before each case). */
export function describeRepository(
  label: string,
  open: () => Promise<Store>,
  teardown: () => Promise<void> = async () => {},
  openEmptyDb: (store: Store) => Promise<Db> = () => createPgliteDb('memory://'),
) {
  describe(`repository on ${label}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store?.close();
      await teardown();
    });
    beforeEach(async () => {
      await resetStore(store);
    });
    // Every case through both ways of answering aggregate queries: hourly and daily buckets from the
    // rollup (the default) and from the raw minutes only (the reference), with the same expectations.
    for (const source of ['rollup', 'raw'] as const) {
      describe(`aggregates read from ${source === 'rollup' ? 'the hourly rollup' : 'the raw minutes'}`, () => {
        for (const c of REPOSITORY_CASES) {
          it(c.name, () => c.run({ store, repo: createRepository(store.db, { aggregateSource: source }) }));
        }
      });
    }
    for (const c of ROLLUP_CASES) {
      it(c.name, () => c.run({ store, openEmptyDb: () => openEmptyDb(store) }));
    }
  });
}
