import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES, type Camera, type ReadinessReport, type Totals } from '@its/contracts';
import { startPostgres, startRedis, type PostgresServer, type RedisServer } from '@its/testkit';
import { startApi, type RunningApi } from '../src/start-api.js';
import { aggregate, cameraInput, crossing } from './fixtures.js';
import { openSse } from './sse-client.js';

// Two API instances behind one (imaginary) load balancer: same PostgreSQL, same Redis.
let pg: PostgresServer;
let redis: RedisServer;
let dir: string;
let one: RunningApi;
let two: RunningApi;
let key: string;

beforeAll(async () => {
  [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  dir = mkdtempSync(join(tmpdir(), 'its-api-redis-'));
  one = await startApi({
    dataDir: join(dir, 'one'),
    databaseUrl: pg.url,
    redisUrl: redis.url,
    logLevel: 'silent',
  });
  two = await startApi({
    dataDir: join(dir, 'two'),
    databaseUrl: pg.url,
    redisUrl: redis.url,
    logLevel: 'silent',
  });
  key = (await one.createApiKey('fanout')).key;
});
afterAll(async () => {
  await Promise.allSettled([one?.close(), two?.close()]);
  await Promise.allSettled([pg?.destroy(), redis?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

const post = (api: RunningApi, path: string, body: unknown) =>
  fetch(api.url + path, {
    method: 'POST',
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('live events through Redis', () => {
  it('an event ingested by one instance reaches SSE clients of both instances', async () => {
    const ready = await fetch(two.url + API_ROUTES.ready);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as ReadinessReport).checks).toContainEqual(
      expect.objectContaining({ name: 'redis', status: 'ok' }),
    );

    const cam = (await (await post(one, API_ROUTES.cameras, cameraInput())).json()) as Camera;
    const onTwo = await openSse(two.url + API_ROUTES.stream);
    const onOne = await openSse(`${one.url}${API_ROUTES.stream}?cameraId=${cam.id}`);
    await Promise.all([
      onTwo.waitForComment((c) => c === 'connected'),
      onOne.waitForComment((c) => c === 'connected'),
    ]);

    const event = crossing(cam.id, { class: 'motorcycle' });
    expect((await post(one, API_ROUTES.ingestEvents, { events: [event] })).status).toBe(200);
    expect(
      (await post(two, API_ROUTES.ingestAggregates, { aggregates: [aggregate(cam.id, { volume: 4 })] }))
        .status,
    ).toBe(200);

    const seenOnTwo = await onTwo.waitFor((m) => m.event === 'crossing');
    expect(JSON.parse(seenOnTwo.data)).toMatchObject({ id: event.id, class: 'motorcycle' });
    const aggOnOne = await onOne.waitFor((m) => m.event === 'aggregate');
    expect(JSON.parse(aggOnOne.data)).toMatchObject({ cameraId: cam.id, volume: 4 });
    // Each instance delivers each event once, though it both published and received it.
    await onOne.waitFor((m) => m.event === 'crossing');
    expect(onOne.messages.filter((m) => m.event === 'crossing')).toHaveLength(1);
    onTwo.close();
    onOne.close();
  });

  it('shares the read cache through Redis: a write on one instance invalidates the other’s entries', async () => {
    const cam = (await (
      await post(one, API_ROUTES.cameras, cameraInput({ name: 'cache' }))
    ).json()) as Camera;
    const url = `${API_ROUTES.totals}?cameraId=${cam.id}`;
    expect((await fetch(one.url + url)).headers.get('x-cache')).toBe('miss');
    const fromTwo = await fetch(two.url + url);
    expect(fromTwo.headers.get('x-cache')).toBe('hit');
    expect(((await fromTwo.json()) as Totals).volume).toBe(0);
    expect(
      (await post(two, API_ROUTES.ingestAggregates, { aggregates: [aggregate(cam.id, { volume: 6 })] }))
        .status,
    ).toBe(200);
    const afterWrite = await fetch(one.url + url);
    expect(afterWrite.headers.get('x-cache')).toBe('miss');
    expect(((await afterWrite.json()) as Totals).volume).toBe(6);
  });

  it('with Redis down, readiness names it and ingestion still commits (live delivery is best effort)', async () => {
    await redis.stop();
    const ready = await fetch(one.url + API_ROUTES.ready);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as ReadinessReport;
    expect(body.checks).toContainEqual(
      expect.objectContaining({ name: 'redis', status: 'fail', reason: expect.any(String) }),
    );
    expect(body.checks).toContainEqual(expect.objectContaining({ name: 'database', status: 'ok' }));
    const cam = (await (
      await post(one, API_ROUTES.cameras, cameraInput({ name: 'while redis is down' }))
    ).json()) as Camera;
    const res = await post(one, API_ROUTES.ingestEvents, { events: [crossing(cam.id)] });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: 1, duplicates: 0 });
    // The cache is Redis too: reads fall back to the database.
    const totals = await fetch(`${one.url}${API_ROUTES.totals}?cameraId=${cam.id}`);
    expect(totals.status).toBe(200);
    expect(((await totals.json()) as Totals).crossings).toBe(1);
  });
});
