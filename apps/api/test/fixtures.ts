/** Shared test data and set-up for the API's tests. */
import { randomUUID } from 'node:crypto';
import type { CameraInput, IntervalAggregate, CrossingEvent } from '@its/contracts';
import { buildApp } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';
import type { Detector } from '../src/context.js';
import { createMemoryBus, type EventBus } from '../src/events/bus.js';
import { createStore, type Store } from '../src/store/create-store.js';
import type { NewCamera } from '../src/store/repository.js';

export const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ LOG_LEVEL: 'silent', ADMIN_TOKEN, DATA_DIR: 'memory://', ...env });
}

/** A migrated store: embedded (in memory) unless a PostgreSQL URL is given. */
export async function openStore(databaseUrl?: string): Promise<Store> {
  const store = await createStore({ databaseUrl, dataDir: 'memory://' });
  await store.migrate();
  return store;
}

export async function resetStore(store: Store): Promise<void> {
  await store.db.query('TRUNCATE cameras, crossing_events, interval_aggregates, api_keys, workers CASCADE');
}

export async function buildTestApp(
  store: Store,
  opts: { env?: Record<string, string>; bus?: EventBus; detector?: Detector; clock?: () => Date } = {},
) {
  const config = testConfig(opts.env);
  const bus = opts.bus ?? createMemoryBus();
  const app = await buildApp({
    config,
    store,
    bus,
    detector: opts.detector,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  return { app, config, bus };
}

export const cameraInput = (over: Partial<CameraInput> = {}): CameraInput => ({
  name: 'Main St / 5th Ave northbound',
  streamUrl: 'rtsp://127.0.0.1:8554/cam1',
  location: { lat: 52.52, lon: 13.405 },
  lines: [
    {
      id: 'nb-1',
      name: 'Northbound stop line',
      a: { x: 0.1, y: 0.6 },
      b: { x: 0.9, y: 0.6 },
      lane: 'nb-1',
      direction: 'both',
    },
  ],
  zones: [
    {
      id: 'z1',
      name: 'Box',
      polygon: [
        { x: 0, y: 0 },
        { x: 1, y: 0 },
        { x: 1, y: 1 },
      ],
      lane: 'nb-1',
    },
  ],
  calibration: null,
  enabled: true,
  ...over,
});

export const newCamera = (over: Partial<NewCamera> = {}): NewCamera => ({
  name: 'cam',
  streamUrl: 'rtsp://127.0.0.1/cam',
  location: { lat: 1, lon: 2 },
  lines: [],
  zones: [],
  calibration: null,
  enabled: true,
  ...over,
});

export const aggregate = (cameraId: string, over: Partial<IntervalAggregate> = {}): IntervalAggregate => ({
  cameraId,
  intervalStart: '2025-03-01T08:00:00.000Z',
  lane: 'nb-1',
  class: 'car',
  volume: 10,
  occupancyPct: 12.5,
  meanSpeedKmh: 48,
  p85SpeedKmh: 57,
  ...over,
});

export const crossing = (cameraId: string, over: Partial<CrossingEvent> = {}): CrossingEvent => ({
  id: randomUUID(),
  cameraId,
  lineId: 'nb-1',
  lane: 'nb-1',
  class: 'car',
  direction: 'forward',
  ts: '2025-03-01T08:00:12.000Z',
  speedKmh: 51.2,
  trackId: 't-1',
  ...over,
});

/** ISO time `minutes` after 2025-03-01T08:00Z. */
export const at = (minutes: number) => new Date(Date.UTC(2025, 2, 1, 8, 0) + minutes * 60_000).toISOString();
