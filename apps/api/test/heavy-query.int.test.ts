/**
 * /health keeps answering while heavy aggregate queries run on PostgreSQL — the security probe's
 * finding: 20 clients asking for every camera × lane × class in minute buckets over six days, with
 * Cache-Control: no-cache, made /health take 54 s. The API runs as its own process (src/server.ts) on a
 * real PostgreSQL, the load comes from autocannon in a worker thread, and /health is polled every
 * 20 ms from this test's otherwise idle event loop; a heavy query is judged on the 200 ms objective at
 * p95 (the slowest answer is printed too: on a shared 2-core machine it mostly measures the other
 * processes).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES, type IntervalAggregate, type VehicleClass } from '@its/contracts';
import { freePort, startPostgres, waitForPort, type PostgresServer } from '@its/testkit';
import { issueApiKey } from '../src/auth/api-key-store.js';
import { loadConfig } from '../src/config.js';
import { createStore } from '../src/store/create-store.js';
import { newCamera } from './fixtures.js';

const CAMERAS = 10;
const LANES = ['nb-1', 'nb-2'];
const CLASSES: VehicleClass[] = ['car', 'bus', 'truck', 'motorcycle', 'bicycle'];
const SERIES = CAMERAS * LANES.length * CLASSES.length;
/** One day of minutes for 100 series: 144 000 stored intervals. */
const MINUTES = 1440;
const START = Date.UTC(2025, 0, 1);
const iso = (minute: number) => new Date(START + minute * 60_000).toISOString();
const HEALTH_OBJECTIVE_MS = 200;

const apiDir = fileURLToPath(new URL('..', import.meta.url));
let pg: PostgresServer;
let server: ChildProcess;
let base: string;
let key: string;

beforeAll(async () => {
  pg = await startPostgres();
  const store = await createStore({ databaseUrl: pg.url, dataDir: 'memory://' });
  try {
    await store.migrate();
    key = (await issueApiKey(store.db, { name: 'heavy', scopes: ['read'] })).key;
    let batch: IntervalAggregate[] = [];
    for (let c = 0; c < CAMERAS; c++) {
      const cameraId = (await store.repo.createCamera(randomUUID(), newCamera(), new Date())).id;
      for (let m = 0; m < MINUTES; m++)
        for (const lane of LANES)
          for (const cls of CLASSES) {
            batch.push({
              cameraId,
              intervalStart: iso(m),
              lane,
              class: cls,
              volume: (m + lane.length) % 20,
              occupancyPct: (m % 50) + 1,
              meanSpeedKmh: 40,
              p85SpeedKmh: 50,
            });
            if (batch.length === 5000) {
              await store.repo.upsertAggregates(batch, new Date());
              batch = [];
            }
          }
    }
    if (batch.length) await store.repo.upsertAggregates(batch, new Date());
    await store.db.query('ANALYZE');
  } finally {
    await store.close();
  }
  const port = await freePort();
  server = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'src/server.ts'], {
    cwd: apiDir,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: pg.url, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await waitForPort(port, 60_000);
  base = `http://127.0.0.1:${port}`;
}, 180_000);
afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  await pg?.destroy();
});

/**
 * `connections` autocannon connections sending `path` for `durationMs` — in a worker thread, so this
 * process's event loop is free to time /health — while /health is polled every 20 ms: /health's p95
 * and the load's status codes.
 */
async function healthUnderLoad(
  connections: number,
  durationMs: number,
  path: string,
  headers: Record<string, string>,
) {
  const load = autocannon({
    url: base + path,
    connections,
    duration: durationMs / 1000,
    headers,
    workers: 1,
  });
  const deadline = Date.now() + durationMs;
  const health: number[] = [];
  while (Date.now() < deadline) {
    const t0 = performance.now();
    const res = await fetch(base + API_ROUTES.health);
    await res.arrayBuffer();
    expect(res.status).toBe(200);
    health.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 20));
  }
  const result = await load;
  health.sort((a, b) => a - b);
  const p95 = health[Math.ceil(health.length * 0.95) - 1]!;
  const statuses = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, count]),
  );
  console.log(
    `/health under load: n=${health.length} p50=${health[Math.floor(health.length / 2)]!.toFixed(1)} ms p95=${p95.toFixed(1)} ms max=${health.at(-1)!.toFixed(1)} ms; load: ${JSON.stringify(statuses)}`,
  );
  return { p95, statuses, errors: result.errors };
}

describe('/health under heavy aggregate queries (PostgreSQL)', () => {
  // 20 connections sending as fast as they can saturate two cores whatever they ask (cheap 400s and
  // 429s included), so /health queues behind them: judged against 1 s here (the probe saw 54 s); the
  // 200 ms objective is for a heavy query, below.
  it('the probe’s flood (20 anonymous connections, no-cache, minute buckets of every series over six days) is refused, and /health answers within a second', async () => {
    const probe = `${API_ROUTES.aggregates}?from=${iso(0)}&to=${iso(6 * 1440)}&bucket=1m&groupBy=camera,lane,class`;
    const { p95, statuses } = await healthUnderLoad(20, 5000, probe, { 'cache-control': 'no-cache' });
    expect(Object.keys(statuses).length).toBeGreaterThan(0);
    expect(Object.keys(statuses).every((code) => code === '400' || code === '429')).toBe(true);
    expect(p95).toBeLessThan(1000);
  }, 60_000);

  it('the largest answer the row limit allows, uncached with an API key, leaves /health under 200 ms', async () => {
    // 1-minute buckets of all 100 series over exactly AGGREGATE_MAX_ROWS / 100 minutes.
    const minutes = loadConfig({}).AGGREGATE_MAX_ROWS / SERIES;
    const largest = `${API_ROUTES.aggregates}?from=${iso(0)}&to=${iso(minutes)}&bucket=1m&groupBy=camera,lane,class`;
    const { p95, statuses, errors } = await healthUnderLoad(1, 10_000, largest, {
      'cache-control': 'no-cache',
      authorization: `Bearer ${key}`,
    });
    expect(statuses).toEqual({ 200: expect.any(Number) });
    expect(errors).toBe(0);
    expect(p95).toBeLessThan(HEALTH_OBJECTIVE_MS);
  }, 60_000);
});
