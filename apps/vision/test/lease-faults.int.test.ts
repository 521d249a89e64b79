/**
 * A worker cut off from the API (a network partition, simulated in its HTTP client; the API, its store
 * and the other worker are real): it stops every camera before its leases can expire, keeps what it
 * counted buffered, and, once the API is back, delivers it without a single 409 — it never wrote under
 * an ended lease — while the other worker, which took the camera after the TTL under the next epoch,
 * counts on. No minute holds more crossings than happened.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES, type Camera } from '@its/contracts';
import { startApi, type RunningApi } from '@its/api';
import { createApiClient } from '../src/api-client.js';
import { openDiskBuffer } from '../src/disk-buffer.js';
import { createWorkerMetrics } from '../src/metrics.js';
import { createOutbox } from '../src/outbox.js';
import { createWorker, type Worker } from '../src/worker.js';
import { callApi, makeTempDir, makeTestVideo } from './fixtures.js';
import { SCRIPT_PERIOD_MS, scriptedAnalytics } from './fleet-worker.js';

const TTL = 3000;
let dir: string;
let api: RunningApi;
let key: string;
let camera: Camera;
const workers: Worker[] = [];

beforeAll(async () => {
  dir = makeTempDir('its-lease-faults-');
  api = await startApi({
    dataDir: join(dir, 'api'),
    env: { ALLOW_FILE_STREAM_URLS: 'true', LEASE_TTL_MS: String(TTL), RATE_LIMIT_ANONYMOUS_PER_MIN: '0' },
  });
  key = (await api.createApiKey('operator')).key;
  const clip = makeTestVideo(dir, 'loop.mp4', { seconds: 4, fps: 5, size: '64x32' });
  camera = await callApi<Camera>(api.url, key, 'POST', API_ROUTES.cameras, {
    name: 'partitioned',
    streamUrl: `file://${clip}`,
    location: { lat: 0, lon: 0 },
    lines: [{ id: 'mid', name: 'Mid', a: { x: 0.5, y: 0.02 }, b: { x: 0.5, y: 0.98 }, lane: 'east' }],
  });
}, 60_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop({ drainTimeoutMs: 1000 }).catch(() => undefined)));
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function makeWorker(name: string, fetchFn: typeof fetch) {
  const metrics = createWorkerMetrics();
  const client = createApiClient({ baseUrl: api.url, apiKey: key, fetch: fetchFn, timeoutMs: 2000 });
  const outbox = createOutbox({
    buffer: await openDiskBuffer({ dir: join(dir, name), maxBytes: 1e7 }),
    client,
    backoff: { initialMs: 100, maxMs: 500, factor: 2 },
    onRejected: ({ kind }) => metrics.batchesRejected.inc({ kind }),
  });
  const worker = createWorker(
    {
      width: 64,
      height: 32,
      fps: 5,
      realtime: true,
      queueCapacity: 16,
      motionThreshold: 0,
      cameraIds: null,
      cameraRefreshMs: 60_000,
      heartbeatMs: 1000,
      name,
      version: null,
      capacity: 4,
      fenceMarginMs: 1000,
    },
    {
      client,
      detector: { detect: async () => [] },
      createAnalytics: scriptedAnalytics(() => 0),
      outbox,
      metrics,
      log: () => undefined,
    },
  );
  workers.push(worker);
  return { worker, metrics, outbox };
}

async function until(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const rejected = async (m: ReturnType<typeof createWorkerMetrics>) =>
  ((await m.batchesRejected.get()).values ?? []).reduce((n, v) => n + v.value, 0);

describe('a worker partitioned from the API', () => {
  it('stops its cameras before its leases expire, delivers its buffer later without a 409, and nothing is doubled', async () => {
    let down = false;
    const partitioned: typeof fetch = async (input, init) => {
      if (down) throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
      return fetch(input, init);
    };
    const a = await makeWorker('a', partitioned);
    await a.worker.start();
    expect(a.worker.pipelines().get(camera.id)?.epoch).toBe(1);
    // Two crossing periods counted and delivered under epoch 1.
    await new Promise((r) => setTimeout(r, 2 * SCRIPT_PERIOD_MS));
    const b = await makeWorker('b', fetch);
    await b.worker.start();
    expect(b.worker.pipelines().size).toBe(0);

    down = true;
    await until('a stops counting', 2 * TTL, () => a.worker.pipelines().size === 0);
    const fencedAt = Date.now();
    // It stopped while its lease was still valid in the API: nobody else could have held the camera.
    const lease = await api.store.db.query<{ expires_at: Date | string; ended_at: Date | string | null }>(
      'SELECT expires_at, ended_at FROM camera_leases WHERE camera_id = $1 AND epoch = 1',
      [camera.id],
    );
    const endOfEpoch1 = new Date(lease.rows[0]!.ended_at ?? lease.rows[0]!.expires_at).getTime();
    expect(fencedAt).toBeLessThan(endOfEpoch1);

    // b takes the camera after the TTL, under epoch 2.
    await until('b counting under epoch 2', 3 * TTL, () => b.worker.pipelines().get(camera.id)?.epoch === 2);
    await new Promise((r) => setTimeout(r, SCRIPT_PERIOD_MS));

    // The partition heals: a delivers what it buffered, gets no lease back, and nothing was refused.
    down = false;
    await until('a delivered its buffer', 20_000, async () => {
      await a.worker.refresh();
      return a.outbox.buffer.depth === 0 && a.worker.mode() === 'leases';
    });
    expect(a.worker.pipelines().size).toBe(0);
    expect(await rejected(a.metrics)).toBe(0);
    await b.worker.stop({ drainTimeoutMs: 5000 });
    await a.worker.stop({ drainTimeoutMs: 5000 });

    // a's sessions wrote nothing timed at or after its lease ended; no minute is above the truth.
    const contributions = await api.store.db.query<{ session_id: string; interval_start: Date | string }>(
      'SELECT session_id, interval_start FROM interval_contributions WHERE camera_id = $1',
      [camera.id],
    );
    expect(contributions.rows.length).toBeGreaterThan(0);
    for (const r of contributions.rows)
      expect(new Date(r.interval_start).getTime()).toBeLessThan(endOfEpoch1 + 60_000);
    const minutes = await api.store.db.query<{ volume: number }>(
      'SELECT sum(volume)::int AS volume FROM interval_aggregates WHERE camera_id = $1 GROUP BY interval_start',
      [camera.id],
    );
    for (const m of minutes.rows) expect(Number(m.volume)).toBeLessThanOrEqual(60_000 / SCRIPT_PERIOD_MS);
    const crossingsAfter = await api.store.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM crossing_events WHERE camera_id = $1 AND ts >= $2',
      [camera.id, new Date(endOfEpoch1)],
    );
    // Crossings after epoch 1 ended are b's only: at most one per period since then.
    expect(Number(crossingsAfter.rows[0]!.n)).toBeLessThanOrEqual(
      Math.ceil((Date.now() - endOfEpoch1) / SCRIPT_PERIOD_MS) + 1,
    );
  }, 90_000);
});
