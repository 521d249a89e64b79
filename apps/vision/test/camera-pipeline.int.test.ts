import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Camera, CrossingEvent } from '@its/contracts';
import type { AnalyticsCamera, CameraAnalytics } from '../src/analytics.js';
import { createCameraPipeline } from '../src/camera-pipeline.js';
import { createWorkerMetrics } from '../src/metrics.js';
import type { Outbox, OutboxBatch } from '../src/outbox.js';
import type { ApiClient } from '../src/api-client.js';
import { createWorker, type WorkerSettings } from '../src/worker.js';
import { ApiRejectedError } from '../src/errors.js';
import { makeTempDir, makeTestVideo } from './fixtures.js';

const CAM = '0e1c7f5e-8a9b-4c3d-9e2f-1a2b3c4d5e6f';

let dir: string;
let clip: string;
beforeAll(() => {
  dir = makeTempDir('its-pipeline-');
  clip = makeTestVideo(dir, 'clip.mp4', { seconds: 1, fps: 10 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One crossing per frame. */
function crossingPerFrame(cam: AnalyticsCamera): CameraAnalytics {
  let n = 0;
  return {
    processFrame(f) {
      const crossing: CrossingEvent = {
        id: `0e1c7f5e-0000-4000-8000-${String(++n).padStart(12, '0')}`,
        cameraId: cam.id,
        lineId: 'l',
        lane: 'a',
        class: 'car',
        direction: 'forward',
        ts: new Date(f.tsMs).toISOString(),
        speedKmh: null,
        trackId: String(n),
      };
      return { crossings: [crossing], closed: [] };
    },
    flush: () => [],
    tracksAlive: 0,
  };
}

const makeCamera = (): Camera => ({
  id: CAM,
  name: 'c',
  streamUrl: `file://${clip}`,
  location: { lat: 0, lon: 0 },
  lines: [],
  zones: [],
  calibration: null,
  enabled: true,
  status: { state: 'unknown', reason: null, lastSeenAt: null },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

describe('camera pipeline (real ffmpeg)', () => {
  it('keeps running when the outbox cannot buffer events (disk error) and sends them on a later flush', async () => {
    const camera = makeCamera();
    let failuresLeft = 4;
    const buffered: string[] = [];
    const logs: string[] = [];
    const outbox = {
      async enqueue(batch: OutboxBatch) {
        await new Promise((r) => setTimeout(r, 1));
        if (batch.kind !== 'events') return;
        if (failuresLeft > 0) {
          failuresLeft--;
          throw new Error("EACCES: permission denied, open '/buffer/events.json'");
        }
        buffered.push(...batch.body.events.map((e) => e.id));
      },
    };
    const pipeline = createCameraPipeline(
      camera,
      {
        width: 64,
        height: 32,
        fps: 10,
        realtime: false,
        queueCapacity: 64,
        motionThreshold: 0,
        eventFlushMs: 20,
      },
      {
        detector: { detect: async () => [] },
        createAnalytics: crossingPerFrame,
        outbox,
        metrics: createWorkerMetrics(),
        log: (_level, message) => logs.push(message),
      },
    );
    pipeline.start();
    const deadline = Date.now() + 10_000;
    while ((failuresLeft > 0 || buffered.length < 10) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await pipeline.stop();
    expect(failuresLeft).toBe(0);
    expect(logs.some((l) => /events not buffered, retrying: EACCES/.test(l))).toBe(true);
    // Every crossing is buffered exactly once, none lost to the failed attempts.
    expect(buffered.length).toBeGreaterThanOrEqual(10);
    expect(new Set(buffered).size).toBe(buffered.length);
    expect([...buffered].sort()).toEqual(
      Array.from(
        { length: buffered.length },
        (_, i) => `0e1c7f5e-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
      ),
    );
  });
});

/** An outbox that takes everything and holds nothing (these tests look at the worker's timers). */
const idleOutbox = () =>
  ({
    enqueue: async () => {},
    drain: async () => true,
    stop: () => {},
    buffer: { depth: 0, bytes: 0, dropped: 0 },
    stats: { failures: 0 },
  }) as unknown as Outbox;

const workerSettings = (over: Pick<WorkerSettings, 'cameraRefreshMs' | 'name'>): WorkerSettings => ({
  width: 64,
  height: 32,
  fps: 10,
  realtime: false,
  queueCapacity: 8,
  motionThreshold: 0,
  cameraIds: null,
  heartbeatMs: 60_000,
  version: null,
  capacity: 8,
  ...over,
});

describe('worker timers', () => {
  it('logs a failed periodic camera refresh instead of crashing, and the next refresh starts the camera', async () => {
    let lists = 0;
    let analyticsFailuresLeft = 2;
    const logs: string[] = [];
    const outbox = idleOutbox();
    const client = {
      listCameras: async () => (++lists === 1 ? [] : [makeCamera()]),
      postStatus: async () => {},
      // An API from before leases: the worker falls back to reading the camera list.
      heartbeat: async () => {
        throw new ApiRejectedError(404, 'POST /api/v1/workers/heartbeat: HTTP 404');
      },
      watchCameraChanges: async () => {},
    } as unknown as ApiClient;
    const worker = createWorker(workerSettings({ cameraRefreshMs: 20, name: 'timers' }), {
      client,
      detector: { detect: async () => [] },
      createAnalytics: (cam) => {
        if (analyticsFailuresLeft-- > 0) throw new Error('analytics setup failed');
        return crossingPerFrame(cam);
      },
      outbox,
      metrics: createWorkerMetrics(),
      log: (_level, message) => logs.push(message),
    });
    await worker.start();
    const deadline = Date.now() + 10_000;
    while (!worker.pipelines().has(CAM) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await worker.stop();
    expect(logs.filter((l) => l === 'camera refresh failed: analytics setup failed')).toHaveLength(2);
    expect(lists).toBeGreaterThanOrEqual(4);
    expect(worker.mode()).toBe('legacy');
  });

  it('under leases, a 404 from the heartbeat (an old API replica mid-rollout) is a failed heartbeat, not a switch to the camera list', async () => {
    let calls = 0;
    let lists = 0;
    const client = {
      listCameras: async () => (lists++, [makeCamera()]),
      postStatus: async () => {},
      heartbeat: async () => {
        if (++calls === 1) return { ttlMs: 15_000, leases: [], handOff: [] };
        throw new ApiRejectedError(404, 'POST /api/v1/workers/heartbeat: HTTP 404');
      },
      watchCameraChanges: async () => {},
    } as unknown as ApiClient;
    const outbox = idleOutbox();
    const metrics = createWorkerMetrics();
    const worker = createWorker(workerSettings({ cameraRefreshMs: 60_000, name: 'rollout' }), {
      client,
      detector: { detect: async () => [] },
      createAnalytics: crossingPerFrame,
      outbox,
      metrics,
      log: () => undefined,
    });
    await worker.start();
    expect(worker.mode()).toBe('leases');
    await worker.refresh();
    expect(calls).toBe(2);
    expect(worker.mode()).toBe('leases');
    expect(lists).toBe(0);
    expect(worker.pipelines().size).toBe(0);
    expect(
      await metrics.registry.getSingleMetricAsString('its_vision_lease_heartbeat_failures_total'),
    ).toMatch(/ 1$/m);
    await worker.stop();
  });
});
