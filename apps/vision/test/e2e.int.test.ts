/**
 * End to end: ffmpeg renders a short video of a real pedestrian (cropped from a photo in an installed
 * package) walking across a count line; the worker decodes it, runs the real CenterNet model and the
 * real analytics, and posts to a real API started in-process. The test then reads the aggregates and
 * crossings back from the API.
 */
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES, type AggregateSeries, type Camera } from '@its/contracts';
import { startApi, type RunningApi } from '@its/api';
import { parseWorkerConfig } from '../src/config.js';
import { runWorker } from '../src/run-worker.js';
import { callApi, makeTempDir, makeWalkingPersonVideo } from './fixtures.js';

const require = createRequire(import.meta.url);
let dir: string;
let api: RunningApi;
/** Sets the camera up (every scope, as an operator would). */
let key: string;
/** The worker's own key: ingest and read only, what compose and the deployment stack provision. */
let workerKey: string;
let video: string;

beforeAll(async () => {
  dir = makeTempDir('its-e2e-');
  video = makeWalkingPersonVideo(dir, require.resolve('autocannon/test/j5.jpeg'), { seconds: 6 });
  // The camera is a video file: file:// stream URLs are refused unless the API allows them.
  api = await startApi({ dataDir: `${dir}/api`, env: { ALLOW_FILE_STREAM_URLS: 'true' } });
  key = (await api.createApiKey('operator')).key;
  workerKey = (await api.createApiKey('vision-worker', ['ingest', 'read'])).key;
});
afterAll(async () => {
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

const call = <T>(method: string, path: string, body?: unknown, bearer = key) =>
  callApi<T>(api.url, bearer, method, path, body);

describe('vision worker end to end (ffmpeg video → real model → real analytics → real API)', () => {
  it('counts the pedestrian crossing the line once and the aggregate arrives in the API', async () => {
    const camera = await call<Camera>('POST', API_ROUTES.cameras, {
      name: 'e2e walk',
      streamUrl: `file://${video}`,
      location: { lat: 52.52, lon: 13.4 },
      lines: [
        {
          id: 'mid',
          name: 'Middle',
          a: { x: 0.5, y: 0.05 },
          b: { x: 0.5, y: 0.95 },
          lane: 'east',
          direction: 'both',
        },
      ],
    });
    const startedAt = Date.now();
    const running = await runWorker(
      parseWorkerConfig({
        API_URL: api.url,
        API_KEY: workerKey,
        CAMERA_IDS: camera.id,
        FILE_REALTIME: 'false',
        TARGET_FPS: '5',
        DETECTOR_THREADS: '1',
        // Every frame must reach the model here: a fast file decode would otherwise overrun the queue.
        QUEUE_CAPACITY: '64',
        BUFFER_DIR: `${dir}/buffer`,
        METRICS_PORT: '0',
        LOG_LEVEL: 'silent',
      }),
    );
    try {
      const pipeline = running.worker.pipelines().get(camera.id)!;
      expect(pipeline).toBeDefined();
      for (;;) {
        if (pipeline.source().state === 'ended') break;
        if (pipeline.source().state === 'offline')
          throw new Error(`camera offline: ${pipeline.source().reason}`);
        await new Promise<void>((r) => setTimeout(r, 50));
      }
      await pipeline.idle();
      await running.worker.heartbeat();
      const metrics = await (await fetch(running.metricsUrl)).text();
      expect(metrics).toMatch(/its_vision_inference_seconds_count\{camera="[^"]+"\} [1-9]/);
    } finally {
      await running.stop();
    }
    const from = new Date(Math.floor(startedAt / 60_000) * 60_000 - 60_000).toISOString();
    const to = new Date(Date.now() + 120_000).toISOString();
    const series = await call<AggregateSeries>(
      'GET',
      `${API_ROUTES.aggregates}?cameraId=${camera.id}&from=${from}&to=${to}&bucket=1h&groupBy=lane,class`,
    );
    const person = series.buckets.filter((b) => b.class === 'person' && b.lane === 'east');
    expect(person.reduce((s, b) => s + b.volume, 0)).toBe(1);
    expect(series.buckets.filter((b) => b.class !== 'person').reduce((s, b) => s + b.volume, 0)).toBe(0);
    const cam = await call<Camera>('GET', API_ROUTES.camera(camera.id));
    expect(cam.status.state).toBe('offline');
  }, 120_000);

  it("the worker's key may ingest and read but not write cameras (403 naming the scope)", async () => {
    const res = await fetch(`${api.url}${API_ROUTES.cameras}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${workerKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'not mine',
        streamUrl: 'rtsp://10.0.0.9/x',
        location: { lat: 0, lon: 0 },
      }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toContain('lacks the "cameras:write" scope');
    const check = await fetch(`${api.url}${API_ROUTES.authCheck}?scopes=ingest,read`, {
      headers: { authorization: `Bearer ${workerKey}` },
    });
    expect(check.status).toBe(204);
  });
});
