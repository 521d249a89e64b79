/**
 * One table of repository cases, executed once per store (embedded PGlite in repository.test.ts,
 * real PostgreSQL in repository.int.test.ts): the same SQL must give the same answers on both.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../src/errors.js';
import { LATEST_MIGRATION } from '../src/db/migrations.js';
import { createApiKey, verifyApiKey } from '../src/auth/api-keys.js';
import type { Store } from '../src/store/create-store.js';
import type { Repository } from '../src/store/repository.js';
import { aggregate, at, crossing, newCamera, resetStore } from './fixtures.js';

const NOW = new Date('2025-03-01T12:00:00.000Z');

interface Ctx {
  repo: Repository;
  store: Store;
}
interface RepositoryCase {
  name: string;
  run(ctx: Ctx): Promise<void>;
}

/** Seeds the bucketing scenario; returns the two camera ids. */
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
    name: '15-minute buckets: volume summed, occupancy averaged, speeds volume-weighted, [from, to) range',
    async run({ repo }) {
      await seedBuckets(repo);
      const buckets = await repo.queryAggregates({ from: at(0), to: at(60), bucket: '15m', groupBy: [] });
      expect(buckets).toEqual([
        { start: at(0), volume: 70, occupancyPct: 24, meanSpeedKmh: 50, p85SpeedKmh: 59.286 },
        { start: at(15), volume: 5, occupancyPct: 30, meanSpeedKmh: 80, p85SpeedKmh: 90 },
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
      });
      expect(grouped).toHaveLength(3);
      expect(grouped).toEqual(
        expect.arrayContaining([
          {
            start: at(0),
            cameraId: a,
            lane: 'nb-1',
            volume: 40,
            occupancyPct: 10,
            meanSpeedKmh: 55,
            p85SpeedKmh: 65,
          },
          {
            start: at(0),
            cameraId: a,
            lane: 'sb-1',
            volume: 10,
            occupancyPct: 40,
            meanSpeedKmh: 30,
            p85SpeedKmh: 35,
          },
          {
            start: at(0),
            cameraId: b,
            lane: 'nb-1',
            volume: 20,
            occupancyPct: 50,
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
      });
      expect(trucks).toEqual([
        { start: at(2), class: 'truck', volume: 10, occupancyPct: 40, meanSpeedKmh: 30, p85SpeedKmh: 35 },
      ]);
      const camB = await repo.queryAggregates({
        from: at(0),
        to: at(120),
        bucket: '1h',
        groupBy: [],
        cameraId: b,
      });
      expect(camB.map((x) => x.volume)).toEqual([20]);
      const lane = await repo.queryAggregates({
        from: at(0),
        to: at(120),
        bucket: '1h',
        groupBy: [],
        lane: 'sb-1',
      });
      expect(lane.map((x) => x.volume)).toEqual([10]);
    },
  },
  {
    name: 'hour and day buckets align to UTC; a bucket with only zero-volume intervals has null speeds',
    async run({ repo }) {
      await seedBuckets(repo);
      const hourly = await repo.queryAggregates({ from: at(-30), to: at(120), bucket: '1h', groupBy: [] });
      expect(hourly.map((x) => [x.start, x.volume])).toEqual([
        [at(0), 75],
        [at(60), 100],
      ]);
      const daily = await repo.queryAggregates({
        from: '2025-03-01T00:00:00.000Z',
        to: '2025-03-02T00:00:00.000Z',
        bucket: '1d',
        groupBy: [],
      });
      expect(daily).toEqual([expect.objectContaining({ start: '2025-03-01T00:00:00.000Z', volume: 175 })]);
      const idle = await repo.queryAggregates({ from: at(14), to: at(15), bucket: '1m', groupBy: [] });
      expect(idle).toEqual([
        { start: at(14), volume: 0, occupancyPct: 0, meanSpeedKmh: null, p85SpeedKmh: null },
      ]);
      expect(await repo.queryAggregates({ from: at(200), to: at(300), bucket: '15m', groupBy: [] })).toEqual(
        [],
      );
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
    for (const c of REPOSITORY_CASES) {
      it(c.name, () => c.run({ store, repo: store.repo }));
    }
  });
}
