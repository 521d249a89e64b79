/**
 * Camera leases and per-session counts through the real API routes, on whichever store `open` gives
 * (leases.int.test.ts runs them on PostgreSQL, leases.test.ts on the embedded store). Time is the
 * API's injected clock, so expiry is decided by the test, not by sleeping.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  API_ROUTES,
  type Camera,
  type LiveEvent,
  type WorkerHeartbeat,
  type WorkerLeases,
  type WorkerList,
} from '@its/contracts';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../src/store/create-store.js';
import { ADMIN_TOKEN, buildTestApp, cameraInput, resetStore } from './fixtures.js';

const T0 = Date.UTC(2025, 2, 1, 8, 0, 5);
const TTL = 15_000;

export function describeLeases(name: string, open: () => Promise<Store>, close: () => Promise<void>) {
  describe(`camera leases (${name})`, () => {
    let store: Store;
    let app: FastifyInstance;
    let nowMs = T0;
    const live: LiveEvent[] = [];
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

    beforeAll(async () => {
      store = await open();
      const built = await buildTestApp(store, { clock: () => new Date(nowMs) });
      app = built.app;
      built.bus.subscribe((e) => live.push(e));
    });
    afterAll(async () => {
      await app?.close();
      await store?.close();
      await close();
    });
    beforeEach(async () => {
      await resetStore(store);
      nowMs = T0;
      live.length = 0;
    });

    const addCameras = async (n: number): Promise<Camera[]> => {
      const out: Camera[] = [];
      for (let i = 0; i < n; i++) {
        const res = await app.inject({
          method: 'POST',
          url: API_ROUTES.cameras,
          headers: auth,
          payload: cameraInput({ name: `cam ${i}` }),
        });
        expect(res.statusCode).toBe(201);
        out.push(res.json<Camera>());
      }
      return out;
    };
    const beat = async (hb: WorkerHeartbeat): Promise<WorkerLeases> => {
      const res = await app.inject({
        method: 'POST',
        url: API_ROUTES.workerHeartbeat,
        headers: auth,
        payload: hb,
      });
      expect(res.statusCode, res.body).toBe(200);
      return res.json<WorkerLeases>();
    };
    /** A worker as the real one behaves: sends what it holds, releases what it was asked to hand off. */
    const worker = (capacity = 100) => {
      const id = randomUUID();
      let held: { cameraId: string; epoch: number }[] = [];
      let released: { cameraId: string; epoch: number }[] = [];
      return {
        id,
        get held() {
          return held;
        },
        async beat(extra: Partial<WorkerHeartbeat> = {}) {
          const answer = await beat({
            workerId: id,
            name: `w-${id.slice(0, 4)}`,
            capacity,
            held,
            released,
            ...extra,
          });
          released = answer.handOff;
          const handOff = new Set(answer.handOff.map((r) => r.cameraId));
          held = answer.leases
            .filter((l) => !handOff.has(l.cameraId))
            .map((l) => ({ cameraId: l.cameraId, epoch: l.epoch }));
          return answer;
        },
      };
    };
    const ingest = (aggregates: Record<string, unknown>[]) =>
      app.inject({
        method: 'POST',
        url: API_ROUTES.ingestAggregates,
        headers: auth,
        payload: { aggregates },
      });
    const minute = '2025-03-01T08:00:00.000Z';
    const agg = (cameraId: string, over: Record<string, unknown> = {}) => ({
      cameraId,
      intervalStart: minute,
      lane: 'nb-1',
      class: 'car',
      volume: 3,
      occupancyPct: 10,
      meanSpeedKmh: 40,
      p85SpeedKmh: 50,
      ...over,
    });
    const sessions = new Map<string, string>();
    const sessionOf = (cameraId: string, round: number) => {
      const k = `${cameraId}/${round}`;
      if (!sessions.has(k)) sessions.set(k, randomUUID());
      return sessions.get(k)!;
    };
    const stored = async (cameraId: string) =>
      (
        await store.db.query<{ volume: number; occupancy_pct: number; mean_speed_kmh: number }>(
          'SELECT volume, occupancy_pct, mean_speed_kmh FROM interval_aggregates WHERE camera_id = $1',
          [cameraId],
        )
      ).rows.map((r) => ({
        volume: Number(r.volume),
        occupancy: Number(r.occupancy_pct),
        speed: Number(r.mean_speed_kmh),
      }));

    it('three workers share twelve cameras evenly, each camera held once, epochs start at 1', async () => {
      const cams = await addCameras(12);
      const ws = [worker(), worker(), worker()];
      // Register all three first (as live workers), then let each take its share.
      for (const w of ws) await w.beat();
      for (const w of ws) await w.beat();
      for (const w of ws) await w.beat();
      const counts = ws.map((w) => w.held.length);
      expect(counts).toEqual([4, 4, 4]);
      const all = ws.flatMap((w) => w.held.map((h) => h.cameraId));
      expect(new Set(all).size).toBe(12);
      expect(new Set(all)).toEqual(new Set(cams.map((c) => c.id)));
      const list = (await app.inject({ method: 'GET', url: API_ROUTES.workers })).json<WorkerList>();
      expect(list.workers.map((w) => w.cameras.length).sort()).toEqual([4, 4, 4]);
      expect(list.unassigned).toEqual([]);
    });

    it('two workers asking for one camera at the same instant: exactly one gets it', async () => {
      const [cam] = await addCameras(1);
      const [a, b] = [worker(), worker()];
      const [ra, rb] = await Promise.all([a.beat(), b.beat()]);
      const holders = [ra, rb].filter((r) => r.leases.some((l) => l.cameraId === cam!.id));
      expect(holders).toHaveLength(1);
      const open = await store.db.query('SELECT 1 FROM camera_leases WHERE ended_at IS NULL');
      expect(open.rows).toHaveLength(1);
    });

    it('a dead worker’s cameras move after the TTL under a new epoch; its late writes are fenced by time', async () => {
      const [cam] = await addCameras(1);
      const a = worker();
      const b = worker();
      const first = await a.beat();
      expect(first.leases.map((l) => [l.cameraId, l.epoch])).toEqual([[cam!.id, 1]]);
      await b.beat();
      expect(b.held).toEqual([]);
      // A goes silent. Before the TTL B gets nothing; after it, B takes the camera under epoch 2.
      nowMs += TTL - 1000;
      await b.beat();
      expect(b.held).toEqual([]);
      nowMs += 2000;
      await b.beat();
      expect(b.held).toEqual([{ cameraId: cam!.id, epoch: 2 }]);
      expect(live).toContainEqual({
        type: 'camera-changed',
        data: { cameraId: cam!.id, change: 'released' },
      });
      // A's buffered minute from before its lease ended is kept; a minute counted after it is refused.
      expect((await ingest([agg(cam!.id, { epoch: 1, session: randomUUID() })])).statusCode).toBe(200);
      const late = await ingest([
        agg(cam!.id, { epoch: 1, session: randomUUID(), intervalStart: '2025-03-01T08:01:00.000Z' }),
      ]);
      expect(late.statusCode).toBe(409);
      expect(late.json<{ message: string }>().message).toMatch(
        /aggregates\/0\/epoch: the lease of camera .* under epoch 1 ended at 2025-03-01T08:00:20/,
      );
      const never = await ingest([agg(cam!.id, { epoch: 7 })]);
      expect(never.statusCode).toBe(409);
      expect(never.json<{ message: string }>().message).toMatch(/never leased under epoch 7/);
      // A comes back: its old lease is gone, it gets nothing while B holds the camera.
      const back = await a.beat();
      expect(back.leases).toEqual([]);
      expect(await stored(cam!.id)).toEqual([{ volume: 3, occupancy: 10, speed: 40 }]);
    });

    it('a joining worker takes a fair share by orderly hand-off: released first, then granted, never two holders', async () => {
      await addCameras(12);
      const ws = [worker(), worker(), worker()];
      for (let i = 0; i < 3; i++) for (const w of ws) await w.beat();
      const releasedBefore = await store.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM camera_leases WHERE ended_at IS NOT NULL',
      );
      const d = worker();
      await d.beat();
      expect(d.held).toEqual([]);
      for (let round = 0; round < 4; round++) {
        for (const w of [...ws, d]) {
          await w.beat();
          const open = await store.db.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM camera_leases WHERE ended_at IS NULL GROUP BY camera_id HAVING count(*) > 1',
          );
          expect(open.rows).toEqual([]);
        }
      }
      expect([...ws, d].map((w) => w.held.length).sort()).toEqual([3, 3, 3, 3]);
      // Exactly one camera moved from each of the three: no churn beyond the fair share.
      const ended = await store.db.query<{ end_reason: string; n: number }>(
        'SELECT end_reason, count(*)::int AS n FROM camera_leases WHERE ended_at IS NOT NULL GROUP BY end_reason',
      );
      expect(ended.rows).toEqual([{ end_reason: 'released', n: Number(releasedBefore.rows[0]!.n) + 3 }]);
    });

    it('two sessions of one minute add up; a re-sent batch changes nothing; occupancy weighs observed time', async () => {
      const [cam] = await addCameras(1);
      const a = worker();
      await a.beat();
      const s1 = randomUUID();
      const s2 = randomUUID();
      const first = agg(cam!.id, {
        epoch: 1,
        session: s1,
        volume: 3,
        occupancyPct: 10,
        observedMs: 20_000,
        meanSpeedKmh: 40,
      });
      expect((await ingest([first])).json()).toEqual({ accepted: 1, duplicates: 0 });
      expect((await ingest([first])).json()).toEqual({ accepted: 0, duplicates: 1 });
      expect(await stored(cam!.id)).toEqual([{ volume: 3, occupancy: 10, speed: 40 }]);
      const second = agg(cam!.id, {
        epoch: 1,
        session: s2,
        volume: 5,
        occupancyPct: 40,
        observedMs: 40_000,
        meanSpeedKmh: 48,
      });
      expect((await ingest([second])).json()).toEqual({ accepted: 1, duplicates: 0 });
      // (10 × 20 + 40 × 40) / 60 = 30; (40 × 3 + 48 × 5) / 8 = 45.
      expect(await stored(cam!.id)).toEqual([{ volume: 8, occupancy: 30, speed: 45 }]);
      expect((await ingest([second, first])).json()).toEqual({ accepted: 0, duplicates: 2 });
      expect(await stored(cam!.id)).toEqual([{ volume: 8, occupancy: 30, speed: 45 }]);
      // The live event carries the combined minute, not the session's share.
      const last = live.filter((e) => e.type === 'aggregate').at(-1);
      expect(last).toMatchObject({ type: 'aggregate', data: { volume: 8, occupancyPct: 30 } });
      // The hourly rollup follows the combined minute.
      const rollup = await store.db.query<{ volume: number }>(
        'SELECT volume FROM interval_rollups_hourly WHERE camera_id = $1',
        [cam!.id],
      );
      expect(rollup.rows.map((r) => Number(r.volume))).toEqual([8]);
      // A minute without a session (a worker from before sessions) still replaces on re-send.
      const legacy = agg(cam!.id, { intervalStart: '2025-03-01T08:01:00.000Z', volume: 4 });
      await ingest([legacy]);
      await ingest([{ ...legacy, volume: 6 }]);
      expect((await stored(cam!.id)).map((r) => r.volume).sort()).toEqual([6, 8]);
    });

    it('partial figures stay out of the stored minute until the session’s final ones, or its lease ends without them', async () => {
      const [cam] = await addCameras(1);
      const a = worker();
      const b = worker();
      await a.beat();
      await b.beat();
      const sa = randomUUID();
      // a, still counting minute 08:00, sends its figures so far: nothing is stored yet.
      expect(
        (await ingest([agg(cam!.id, { epoch: 1, session: sa, volume: 2, partial: true })])).statusCode,
      ).toBe(200);
      expect(await stored(cam!.id)).toEqual([]);
      expect(
        (await ingest([agg(cam!.id, { epoch: 1, session: sa, volume: 4, partial: true })])).statusCode,
      ).toBe(200);
      expect(await stored(cam!.id)).toEqual([]);
      // a is killed: after the TTL b takes the camera (epoch 2) and a's last partial figures count.
      nowMs += TTL + 1000;
      live.length = 0;
      await b.beat();
      expect(b.held).toEqual([{ cameraId: cam!.id, epoch: 2 }]);
      expect(await stored(cam!.id)).toEqual([{ volume: 4, occupancy: 10, speed: 40 }]);
      expect(live).toContainEqual({ type: 'aggregate', data: expect.objectContaining({ volume: 4 }) });
      // b's final figures for the same minute add to them.
      const sb = randomUUID();
      await ingest([agg(cam!.id, { epoch: 2, session: sb, volume: 5, meanSpeedKmh: 40 })]);
      expect((await stored(cam!.id)).map((r) => r.volume)).toEqual([9]);
      // Had a only been cut off, its final figures (counted before its lease ended) replace its partial
      // ones; a partial arriving after a final never replaces it.
      await ingest([agg(cam!.id, { epoch: 1, session: sa, volume: 6 })]);
      expect((await stored(cam!.id)).map((r) => r.volume)).toEqual([11]);
      await ingest([agg(cam!.id, { epoch: 1, session: sa, volume: 1, partial: true })]);
      expect((await stored(cam!.id)).map((r) => r.volume)).toEqual([11]);
    });

    it('a session’s final batch racing its worker’s leaving heartbeat neither deadlocks nor loses a figure', async () => {
      const cams = await addCameras(3);
      for (let round = 0; round < 6; round++) {
        const w = worker();
        await w.beat();
        expect(w.held).toHaveLength(3);
        const minutes = ['2025-03-01T07:00:00.000Z', '2025-03-01T07:59:00.000Z', '2025-03-01T08:00:00.000Z'];
        const rows = (partial: boolean) =>
          w.held.flatMap((h) =>
            minutes.map((intervalStart) =>
              agg(h.cameraId, {
                intervalStart,
                epoch: h.epoch,
                session: sessionOf(h.cameraId, round),
                volume: partial ? 1 : 5,
                ...(partial ? { partial: true } : {}),
              }),
            ),
          );
        expect((await ingest(rows(true))).statusCode).toBe(200);
        // As a stopping worker does: its outbox delivers the final figures while it says it is leaving.
        const [final, leaving] = await Promise.all([
          ingest(rows(false)),
          app.inject({
            method: 'POST',
            url: API_ROUTES.workerHeartbeat,
            headers: auth,
            payload: { workerId: w.id, name: 'w', capacity: 100, leaving: true },
          }),
        ]);
        expect(final.statusCode, final.body).toBe(200);
        expect(leaving.statusCode, leaving.body).toBe(200);
      }
      // Every round's final figures, once each: 6 rounds × 5 per minute.
      for (const c of cams) expect((await stored(c.id)).map((r) => r.volume)).toEqual([30, 30, 30]);
    });

    it('status from a worker that no longer holds the camera is ignored; a disabled camera’s lease ends', async () => {
      const [cam] = await addCameras(1);
      const a = worker();
      await a.beat();
      const report = (epoch: number, state: string) =>
        app.inject({
          method: 'POST',
          url: API_ROUTES.ingestStatus,
          headers: auth,
          payload: { cameras: [{ cameraId: cam!.id, state, reason: null, fps: 5, epoch }] },
        });
      expect((await report(1, 'online')).json()).toEqual({ accepted: 1, duplicates: 0 });
      expect((await report(2, 'offline')).json()).toEqual({ accepted: 0, duplicates: 1 });
      const patched = await app.inject({
        method: 'PATCH',
        url: API_ROUTES.camera(cam!.id),
        headers: auth,
        payload: { enabled: false },
      });
      expect(patched.statusCode).toBe(200);
      expect(live).toContainEqual({ type: 'camera-changed', data: { cameraId: cam!.id, change: 'updated' } });
      const answer = await a.beat();
      expect(answer.leases).toEqual([]);
      const list = (await app.inject({ method: 'GET', url: API_ROUTES.workers })).json<WorkerList>();
      expect(list.unassigned).toEqual([]);
    });

    it('a leaving worker gives every camera back at once and another takes them', async () => {
      await addCameras(3);
      const a = worker();
      const b = worker();
      await a.beat();
      await a.beat();
      await b.beat();
      expect(a.held.length + b.held.length).toBe(3);
      const aHeld = a.held.length;
      expect(aHeld).toBeGreaterThan(0);
      live.length = 0;
      await a.beat({ leaving: true });
      const freed = live.filter((e) => e.type === 'camera-changed' && e.data.change === 'released');
      expect(freed.length).toBe(aHeld);
      await b.beat();
      expect(b.held).toHaveLength(3);
      const list = (await app.inject({ method: 'GET', url: API_ROUTES.workers })).json<WorkerList>();
      expect(list.workers.find((w) => w.id === a.id)?.live).toBe(false);
    });

    it('capacity and the camera filter bound what a worker takes; bad heartbeats are a 400 naming the field', async () => {
      const cams = await addCameras(4);
      const small = worker(1);
      await small.beat();
      expect(small.held).toHaveLength(1);
      // A filtered worker takes only its cameras (one the small worker does not hold: cameras created in
      // the same millisecond are granted in id order).
      const target = cams.find((c) => c.id !== small.held[0]!.cameraId)!.id;
      const only = worker();
      await only.beat({ cameraIds: [target] });
      const answer = await only.beat({ cameraIds: [target] });
      expect(answer.leases.map((l) => l.cameraId)).toEqual([target]);
      const bad = await app.inject({
        method: 'POST',
        url: API_ROUTES.workerHeartbeat,
        headers: auth,
        payload: { workerId: 'nope', name: 'x', capacity: 0 },
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json<{ message: string }>().message).toMatch(/workerId/);
      const anon = await app.inject({
        method: 'POST',
        url: API_ROUTES.workerHeartbeat,
        payload: { workerId: randomUUID(), name: 'x', capacity: 1 },
      });
      expect(anon.statusCode).toBe(401);
    });
  });
}
