/**
 * A batch the real API cannot store — a NUL character, a year-0000 or far-future timestamp — is a 400
 * naming the field, which the worker treats as permanent: dropped with one log line and counted in
 * `its_vision_batches_rejected_total`, never retried, and the batches behind it still delivered. (These
 * were 500s, which the worker retried for ever, blocking every later batch.)
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_ROUTES,
  type Camera,
  type CrossingEvent,
  type IntervalAggregate,
  type Totals,
} from '@its/contracts';
import { startApi, type RunningApi } from '@its/api';
import { createApiClient } from '../src/api-client.js';
import { openDiskBuffer } from '../src/disk-buffer.js';
import { createWorkerMetrics } from '../src/metrics.js';
import { createOutbox } from '../src/outbox.js';
import { makeTempDir } from './fixtures.js';

let dir: string;
let api: RunningApi;
let key: string;
let camera: Camera;

beforeAll(async () => {
  dir = makeTempDir('its-vision-reject-');
  api = await startApi({ dataDir: join(dir, 'api') });
  const admin = await api.createApiKey('setup');
  const res = await fetch(api.url + API_ROUTES.cameras, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'cam', streamUrl: 'rtsp://10.0.0.9/x', location: { lat: 0, lon: 0 } }),
  });
  expect(res.status).toBe(201);
  camera = (await res.json()) as Camera;
  key = (await api.createApiKey('worker', ['ingest', 'read'])).key;
}, 60_000);
afterAll(async () => {
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

const minute = (offsetMin: number) =>
  new Date(Math.floor(Date.now() / 60_000) * 60_000 + offsetMin * 60_000).toISOString();
const event = (over: Partial<CrossingEvent> = {}): CrossingEvent => ({
  id: crypto.randomUUID(),
  cameraId: camera.id,
  lineId: 'l1',
  lane: 'north',
  class: 'car',
  direction: 'forward',
  ts: minute(-1),
  speedKmh: null,
  trackId: null,
  ...over,
});
const aggregate = (over: Partial<IntervalAggregate> = {}): IntervalAggregate => ({
  cameraId: camera.id,
  intervalStart: minute(-2),
  lane: 'north',
  class: 'car',
  volume: 7,
  occupancyPct: 1,
  meanSpeedKmh: null,
  p85SpeedKmh: null,
  ...over,
});

describe('batches the API refuses for good', () => {
  it('are dropped once with one log line and a metric; the good batches behind them are delivered', async () => {
    const buffer = await openDiskBuffer({ dir: join(dir, 'buffer'), maxBytes: 1e6 });
    const metrics = createWorkerMetrics();
    const logs: Array<[string, string]> = [];
    const outbox = createOutbox({
      buffer,
      client: createApiClient({ baseUrl: api.url, apiKey: key }),
      backoff: { initialMs: 20, maxMs: 100, factor: 2 },
      log: (level, message) => logs.push([level, message]),
      onRejected: ({ kind }) => metrics.batchesRejected.inc({ kind }),
    });
    await outbox.enqueue({ kind: 'events', body: { events: [event({ lane: 'no\u0000rth' })] } });
    await outbox.enqueue({ kind: 'events', body: { events: [event({ ts: '0000-01-01T00:00:00.000Z' })] } });
    await outbox.enqueue({
      kind: 'aggregates',
      body: { aggregates: [aggregate({ intervalStart: '9999-12-31T00:00:00.000Z' })] },
    });
    const good = event();
    await outbox.enqueue({ kind: 'events', body: { events: [good] } });
    await outbox.enqueue({ kind: 'aggregates', body: { aggregates: [aggregate()] } });

    expect(await outbox.drain(20_000)).toBe(true);
    outbox.stop();
    expect(outbox.stats).toMatchObject({ delivered: 2, rejected: 3, failures: 0 });
    expect(logs).toEqual([
      [
        'error',
        expect.stringMatching(
          /^dropping events batch 1: POST \/api\/v1\/ingest\/events: HTTP 400 body\/events\/0\/lane: must not contain NUL/,
        ),
      ],
      [
        'error',
        expect.stringMatching(
          /^dropping events batch 2: .*HTTP 400 body\/events\/0\/ts: must not be before 2000-01-01/,
        ),
      ],
      [
        'error',
        expect.stringMatching(
          /^dropping aggregates batch 3: .*HTTP 400 body\/aggregates\/0\/intervalStart: is \d+ days ahead of the API's clock/,
        ),
      ],
    ]);
    const metric = await metrics.registry.getSingleMetricAsString('its_vision_batches_rejected_total');
    expect(metric).toContain('its_vision_batches_rejected_total{kind="events"} 2');
    expect(metric).toContain('its_vision_batches_rejected_total{kind="aggregates"} 1');

    const totals = (await (
      await fetch(`${api.url}${API_ROUTES.totals}?cameraId=${camera.id}`, {
        headers: { 'cache-control': 'no-cache' },
      })
    ).json()) as Totals;
    expect(totals).toMatchObject({ crossings: 1, intervals: 1, volume: 7 });
  }, 60_000);
});
