import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES, type Camera, type ReadinessReport, type Totals } from '@its/contracts';
import { startPostgres, type PostgresServer } from '@its/testkit';
import { startApi, type RunningApi } from '../src/start-api.js';
import { aggregate, at, cameraInput } from './fixtures.js';

// PostgreSQL is stopped under a running API and started again: the API must degrade to 503, stay
// alive, and recover by itself; what it acknowledged before the outage must still be there.
let pg: PostgresServer;
let dir: string;
let api: RunningApi;
let key: string;

beforeAll(async () => {
  pg = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'its-api-fault-'));
  api = await startApi({ dataDir: dir, databaseUrl: pg.url, logLevel: 'silent' });
  key = (await api.createApiKey('fault')).key;
});
afterAll(async () => {
  await api?.close();
  await pg?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const send = (method: string, path: string, body?: unknown) =>
  fetch(api.url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

/** Polls readiness (a readiness check, not a sleep) until it answers `status`, or fails after 20 s. */
async function waitForReady(status: number): Promise<Response> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await fetch(api.url + API_ROUTES.ready);
    if (res.status === status || Date.now() > deadline) return res;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('PostgreSQL outage under a running API', () => {
  it('answers 503 while the database is down, stays alive, recovers, and keeps acknowledged batches', async () => {
    const cam = (await (await send('POST', API_ROUTES.cameras, cameraInput())).json()) as Camera;
    const before = await send('POST', API_ROUTES.ingestAggregates, {
      aggregates: [
        aggregate(cam.id, { intervalStart: at(0), volume: 21 }),
        aggregate(cam.id, { intervalStart: at(1), volume: 4 }),
      ],
    });
    expect(before.status).toBe(200);
    // Several idle pooled connections exist now; the server's going away must not crash the process.
    await Promise.all(Array.from({ length: 5 }, () => fetch(api.url + API_ROUTES.cameras)));

    await pg.stop();

    const down = await fetch(api.url + API_ROUTES.ready);
    expect(down.status).toBe(503);
    const report = (await down.json()) as ReadinessReport;
    expect(report.status).toBe('fail');
    const db = report.checks.find((c) => c.name === 'database');
    expect(db).toMatchObject({
      status: 'fail',
      reason: expect.stringMatching(/database unavailable|ECONNREFUSED|terminat/i),
    });

    const write = await send('POST', API_ROUTES.ingestAggregates, {
      aggregates: [aggregate(cam.id, { intervalStart: at(2) })],
    });
    expect(write.status).toBe(503);
    expect(write.headers.get('retry-after')).toBe('5');
    expect(await write.json()).toMatchObject({
      statusCode: 503,
      message: 'database unavailable; retry later',
    });
    expect((await fetch(api.url + API_ROUTES.cameras)).status).toBe(503);
    expect((await send('POST', API_ROUTES.cameras, cameraInput())).status).toBe(503);

    const alive = await fetch(api.url + API_ROUTES.health);
    expect(alive.status).toBe(200);

    await pg.start();
    const up = await waitForReady(200);
    expect(up.status).toBe(200);

    const after = await send('POST', API_ROUTES.ingestAggregates, {
      aggregates: [aggregate(cam.id, { intervalStart: at(2), volume: 5 })],
    });
    expect(after.status).toBe(200);
    const totals = (await (
      await fetch(`${api.url}${API_ROUTES.totals}?cameraId=${cam.id}`)
    ).json()) as Totals;
    expect(totals).toMatchObject({ volume: 30, intervals: 3 });
  });
});
