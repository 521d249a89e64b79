import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Camera, CrossingEvent, Detection, IntervalAggregate } from '@its/contracts';
import type { AnalyticsCamera, CameraAnalytics, FrameDetections } from '../src/analytics.js';
import { createApiClient } from '../src/api-client.js';
import { openDiskBuffer } from '../src/disk-buffer.js';
import { createStatusServer } from '../src/http-server.js';
import { createWorkerMetrics } from '../src/metrics.js';
import { createOutbox } from '../src/outbox.js';
import { createWorker } from '../src/worker.js';
import { closedPort, makeTempDir, makeTestVideo } from './fixtures.js';
import { startStubApi, type StubApi } from './stub-api.js';

const KEY = 'k';
const CAM_A = '0a1c7f5e-8a9b-4c3d-9e2f-1a2b3c4d5e6f';
const CAM_B = '0b1c7f5e-8a9b-4c3d-9e2f-1a2b3c4d5e6f';
const CAM_DEAD = '0d1c7f5e-8a9b-4c3d-9e2f-1a2b3c4d5e6f';

const camera = (id: string, streamUrl: string): Camera => ({
  id,
  name: id.slice(0, 2),
  streamUrl,
  location: { lat: 0, lon: 0 },
  lines: [],
  zones: [],
  calibration: null,
  enabled: true,
  status: { state: 'unknown', reason: null, lastSeenAt: null },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

/**
 * Stand-in analytics that records what it is fed: one crossing per inferred detection set that
 * contains a car, and one aggregate per camera at flush (the real analytics are tested in packages/vision
 * and end to end in e2e.int.test.ts).
 */
function recordingAnalytics(fed: Map<string, FrameDetections[]>) {
  return (cam: AnalyticsCamera): CameraAnalytics => {
    const frames: FrameDetections[] = [];
    fed.set(cam.id, frames);
    let n = 0;
    return {
      processFrame(f) {
        frames.push(f);
        const crossings: CrossingEvent[] =
          frames.length === 5
            ? [
                {
                  id: `${cam.id.slice(0, 8)}-0000-4000-8000-${String(++n).padStart(12, '0')}`,
                  cameraId: cam.id,
                  lineId: 'l',
                  lane: 'a',
                  class: 'car',
                  direction: 'forward',
                  ts: new Date(f.tsMs).toISOString(),
                  speedKmh: null,
                  trackId: '1',
                },
              ]
            : [];
        return { crossings, closed: [] };
      },
      flush(): IntervalAggregate[] {
        const start = frames[0] ? Math.floor(frames[0].tsMs / 60_000) * 60_000 : 0;
        return frames.length
          ? [
              {
                cameraId: cam.id,
                intervalStart: new Date(start).toISOString(),
                lane: 'a',
                class: 'car',
                volume: n,
                occupancyPct: 0,
                meanSpeedKmh: null,
                p85SpeedKmh: null,
              },
            ]
          : [];
      },
      get tracksAlive() {
        return frames.length ? 1 : 0;
      },
    };
  };
}

const CAR: Detection = { class: 'car', score: 0.9, box: { x: 0.1, y: 0.1, w: 0.2, h: 0.2 } };

let dir: string;
let api: StubApi;
let clip: string;
beforeAll(async () => {
  dir = makeTempDir('its-worker-');
  clip = makeTestVideo(dir, 'clip.mp4', { seconds: 2, fps: 10 });
  api = await startStubApi(KEY);
});
afterAll(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

async function makeWorker(opts: {
  detectMs?: number;
  queueCapacity?: number;
  motionThreshold?: number;
  subdir: string;
}) {
  const metrics = createWorkerMetrics();
  const client = createApiClient({ baseUrl: api.url, apiKey: KEY });
  const outbox = createOutbox({
    buffer: await openDiskBuffer({ dir: `${dir}/${opts.subdir}`, maxBytes: 1e6 }),
    client,
    backoff: { initialMs: 20, maxMs: 100, factor: 2 },
  });
  const fed = new Map<string, FrameDetections[]>();
  let inferences = 0;
  const detector = {
    async detect(): Promise<Detection[]> {
      inferences++;
      if (opts.detectMs) await new Promise((r) => setTimeout(r, opts.detectMs));
      return [CAR];
    },
  };
  const worker = createWorker(
    {
      width: 64,
      height: 32,
      fps: 10,
      realtime: false,
      queueCapacity: opts.queueCapacity ?? 8,
      motionThreshold: opts.motionThreshold ?? 0,
      motionMaxSkipMs: 500,
      cameraIds: null,
      cameraRefreshMs: 60_000,
      heartbeatMs: 60_000,
      name: 'stub',
      version: null,
      capacity: 8,
      backoff: { initialMs: 50, maxMs: 200, factor: 2 },
      ioTimeoutMs: 2000,
    },
    { client, detector, createAnalytics: recordingAnalytics(fed), outbox, metrics, log: () => undefined },
  );
  return { worker, metrics, fed, outbox, inferences: () => inferences };
}

/** Resolves when every listed camera's source reaches a state in `states`. */
async function sourcesReach(
  worker: Awaited<ReturnType<typeof makeWorker>>['worker'],
  ids: string[],
  states: string[],
) {
  // The pipelines expose their source status; the file sources end within a second of decoding.
  for (;;) {
    const p = worker.pipelines();
    if (ids.every((id) => p.get(id) && states.includes(p.get(id)!.source().state))) return;
    await new Promise<void>((r) => setTimeout(r, 10));
  }
}

describe('worker with several cameras (real ffmpeg, stub API, scripted detector)', () => {
  it('runs every camera, reports the unreachable one offline with its reason, and flushes on stop', async () => {
    const port = await closedPort();
    api.cameras = [
      camera(CAM_A, `file://${clip}`),
      camera(CAM_B, `file://${clip}`),
      camera(CAM_DEAD, `http://127.0.0.1:${port}/live`),
    ];
    const { worker, metrics, fed } = await makeWorker({ subdir: 'a', queueCapacity: 64 });
    await worker.start();
    expect([...worker.pipelines().keys()].sort()).toEqual([CAM_A, CAM_B, CAM_DEAD].sort());
    await sourcesReach(worker, [CAM_A, CAM_B], ['ended']);
    await sourcesReach(worker, [CAM_DEAD], ['offline']);
    await Promise.all([...worker.pipelines().values()].map((p) => p.idle()));
    await worker.heartbeat();
    const report = (
      api.statuses.at(-1) as { cameras: Array<{ cameraId: string; state: string; reason: string | null }> }
    ).cameras;
    expect(report.find((c) => c.cameraId === CAM_DEAD)).toMatchObject({
      state: 'offline',
      reason: expect.stringMatching(/refused/i),
    });
    expect(report.find((c) => c.cameraId === CAM_A)).toMatchObject({
      state: 'offline',
      reason: 'end of file',
    });

    // Each file camera saw all its frames, in time order, each with the scripted detections.
    for (const id of [CAM_A, CAM_B]) {
      const frames = fed.get(id)!;
      expect(frames.length).toBeGreaterThanOrEqual(19);
      expect(frames.every((f, i) => i === 0 || f.tsMs > frames[i - 1]!.tsMs)).toBe(true);
      expect(frames[0]!.detections).toEqual([CAR]);
    }
    // Files that end are flushed at once; the crossing and the aggregate reached the API.
    await worker.stop({ drainTimeoutMs: 3000 });
    expect([...api.events.values()].map((e) => e.cameraId).sort()).toEqual([CAM_A, CAM_B].sort());
    expect([...api.aggregates.values()].filter((a) => a.cameraId === CAM_A)).toHaveLength(1);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(new RegExp(`its_vision_frames_in_total\\{camera="${CAM_A}"\\} (19|20|21)`));
    expect(text).toMatch(new RegExp(`its_vision_frames_processed_total\\{camera="${CAM_B}"\\} (19|20|21)`));
    expect(text).toMatch(/its_vision_inference_seconds_count\{camera="[^"]+"\} \d+/);
    expect(text).toMatch(new RegExp(`its_vision_camera_online\\{camera="${CAM_DEAD}"\\} 0`));
    const last = (api.statuses.at(-1) as { cameras: Array<{ reason: string }> }).cameras;
    expect(last.every((c) => c.reason === 'worker stopped')).toBe(true);
  });

  it('drops frames (and counts them) instead of queueing without bound when inference is slow', async () => {
    api.cameras = [camera(CAM_A, `file://${clip}`)];
    const { worker, metrics, fed } = await makeWorker({ subdir: 'b', detectMs: 40, queueCapacity: 2 });
    await worker.start();
    await sourcesReach(worker, [CAM_A], ['ended']);
    await worker.pipelines().get(CAM_A)!.idle();
    const text = await metrics.registry.metrics();
    const num = (name: string) => Number(new RegExp(`${name}\\{camera="${CAM_A}"\\} (\\d+)`).exec(text)![1]);
    const framesIn = num('its_vision_frames_in_total');
    expect(num('its_vision_frames_dropped_total')).toBeGreaterThan(0);
    expect(num('its_vision_frames_processed_total') + num('its_vision_frames_dropped_total')).toBe(framesIn);
    expect(fed.get(CAM_A)!.length).toBe(num('its_vision_frames_processed_total'));
    await worker.stop({ drainTimeoutMs: 3000 });
  });

  it('skips inference on static frames but still feeds every frame to analytics', async () => {
    const still = makeTestVideo(dir, 'still.mp4', { seconds: 2, fps: 10, size: '64x32' });
    // testsrc changes only in its small counter: with a 50 % threshold no frame counts as motion.
    api.cameras = [camera(CAM_A, `file://${still}`)];
    const { worker, metrics, fed, inferences } = await makeWorker({ subdir: 'c', motionThreshold: 0.5 });
    await worker.start();
    await sourcesReach(worker, [CAM_A], ['ended']);
    await worker.pipelines().get(CAM_A)!.idle();
    const frames = fed.get(CAM_A)!;
    // Inference only at the keyframes the gate forces every 500 ms of media time: 0, 500, 1000, 1500.
    expect(inferences()).toBe(4);
    expect(frames.length).toBeGreaterThanOrEqual(19);
    // Skipped frames reuse the last detections, with their own timestamps.
    expect(frames.every((f) => f.detections.length === 1)).toBe(true);
    expect(await metrics.registry.metrics()).toMatch(
      new RegExp(`its_vision_frames_skipped_motion_total\\{camera="${CAM_A}"\\} ${frames.length - 4}`),
    );
    await worker.stop({ drainTimeoutMs: 3000 });
  });

  it('starts, restarts and stops cameras as the API’s list changes, and keeps going when the list is unavailable', async () => {
    api.cameras = [camera(CAM_A, `file://${clip}`)];
    const { worker } = await makeWorker({ subdir: 'd' });
    await worker.start();
    const first = worker.pipelines().get(CAM_A);
    api.cameras = [
      {
        ...camera(CAM_A, `file://${clip}`),
        lines: [
          { id: 'l1', name: 'L', a: { x: 0.5, y: 0 }, b: { x: 0.5, y: 1 }, lane: 'n', direction: 'both' },
        ],
      },
      camera(CAM_B, `file://${clip}`),
    ];
    await worker.refresh();
    expect(worker.pipelines().get(CAM_A)).not.toBe(first);
    expect(worker.pipelines().has(CAM_B)).toBe(true);
    await api.down();
    await worker.refresh();
    expect(worker.pipelines().size).toBe(2);
    await api.up();
    api.cameras = [];
    await worker.refresh();
    expect(worker.pipelines().size).toBe(0);
    await worker.stop({ drainTimeoutMs: 3000 });
  });

  it('serves /metrics, /health and a JPEG snapshot per camera', async () => {
    api.cameras = [camera(CAM_A, `file://${clip}`)];
    const { worker, metrics } = await makeWorker({ subdir: 'e' });
    await worker.start();
    const { captureSnapshot } = await import('../src/snapshot.js');
    const server = createStatusServer({
      registry: metrics.registry,
      worker,
      snapshot: (u) => captureSnapshot(u, { maxWidth: 160 }),
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const m = await fetch(`${base}/metrics`);
      expect(await m.text()).toContain('its_vision_frames_in_total');
      const h = (await (await fetch(`${base}/health`)).json()) as { cameras: Array<{ cameraId: string }> };
      expect(h.cameras.map((c) => c.cameraId)).toEqual([CAM_A]);
      const snap = await fetch(`${base}/snapshot/${CAM_A}`);
      expect(snap.headers.get('content-type')).toBe('image/jpeg');
      expect(Buffer.from(await snap.arrayBuffer()).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
      expect((await fetch(`${base}/snapshot/${CAM_B}`)).status).toBe(404);
      expect((await fetch(`${base}/nope`)).status).toBe(404);
      expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      await worker.stop({ drainTimeoutMs: 3000 });
    }
  });
});
