/**
 * A real worker process for the fleet test (fleet.int.test.ts): the real runWorker — leases, ffmpeg
 * frame sources, the real tracker and line counter, the disk outbox — with scripted detections instead
 * of the model, so that twelve cameras fit on two cores and the truth is known. Camera i shows one car
 * that drives across the frame every SCRIPT_PERIOD_MS, timed by the frame's timestamp (wall clock):
 * visible for the first 70 % of the period, moving from x = 0.1 to 0.9, so it crosses the camera's
 * vertical line at x = 0.5 at 35 % of the period. The phase puts every crossing 1.5–4.25 s away from a
 * minute boundary; with the 6 s period each full minute holds exactly 10 crossings per camera.
 * Run with `node --import tsx apps/vision/test/fleet-worker.ts`; configured by the worker's own
 * environment variables.
 */
import type { Detection } from '@its/contracts';
import { createCameraAnalytics } from '@its/vision';
import type { AnalyticsFactory } from '../src/analytics.js';
import { parseWorkerConfig } from '../src/config.js';
import { consoleLogger, runWorker } from '../src/run-worker.js';

export const SCRIPT_PERIOD_MS = 6000;
const VISIBLE = 0.7;
/** Where in its period camera `index`'s car crosses x = 0.5 (ms after a multiple of the period). */
export const crossingOffsetMs = (index: number) => 1500 + 250 * index;
const phaseOf = (index: number) =>
  (((crossingOffsetMs(index) - 0.35 * SCRIPT_PERIOD_MS) % SCRIPT_PERIOD_MS) + SCRIPT_PERIOD_MS) %
  SCRIPT_PERIOD_MS;

/** Detections of camera `index` at `tsMs`. */
export function scriptedDetections(index: number, tsMs: number): Detection[] {
  const u = (((tsMs - phaseOf(index)) % SCRIPT_PERIOD_MS) + SCRIPT_PERIOD_MS) % SCRIPT_PERIOD_MS;
  if (u >= VISIBLE * SCRIPT_PERIOD_MS) return [];
  const cx = 0.1 + (0.8 * u) / (VISIBLE * SCRIPT_PERIOD_MS);
  return [{ class: 'car', score: 0.9, box: { x: cx - 0.06, y: 0.44, w: 0.12, h: 0.12 } }];
}

/** The real analytics, fed the script's detections for each frame's timestamp. */
export const scriptedAnalytics =
  (indexOf: (cameraId: string) => number): AnalyticsFactory =>
  (camera) => {
    const real = createCameraAnalytics(camera);
    const index = indexOf(camera.id);
    return {
      processFrame: (f) => real.processFrame({ tsMs: f.tsMs, detections: scriptedDetections(index, f.tsMs) }),
      flush: (nowMs) => real.flush(nowMs),
      snapshot: () => real.snapshot(),
      get tracksAlive() {
        return real.tracksAlive;
      },
    };
  };

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  // FLEET_CAMERAS: the cameras' ids in index order (the test's creation order).
  const order = (process.env.FLEET_CAMERAS ?? '').split(',');
  const config = parseWorkerConfig(process.env);
  const running = await runWorker(config, {
    detector: { detect: async () => [], close: async () => undefined },
    createAnalytics: scriptedAnalytics((id) => Math.max(0, order.indexOf(id))),
    log: consoleLogger(config.LOG_LEVEL),
  });
  process.stdout.write(`ready ${running.metricsUrl}\n`);
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  await running.stop();
  process.exit(0);
}
