/**
 * Wires the worker from its config: detector, analytics, API client, disk buffer, outbox, metrics and
 * the status server. Returns a handle whose stop() shuts everything down in order.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDetector, type Detector } from '@its/vision/detector';
import { createDefaultAnalytics, type AnalyticsFactory } from './analytics.js';
import { createApiClient } from './api-client.js';
import type { WorkerConfig } from './config.js';
import { CLAIM_TOUCH_MS, claimBufferDir } from './buffer-claim.js';
import { openDiskBuffer } from './disk-buffer.js';
import { createStatusServer } from './http-server.js';
import { createWorkerMetrics } from './metrics.js';
import { createOutbox } from './outbox.js';
import { captureSnapshot } from './snapshot.js';
import { createWorker, type Worker } from './worker.js';

export type LogFn = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

export interface RunningWorker {
  worker: Worker;
  metricsUrl: string;
  stop(): Promise<void>;
}

export interface RunWorkerOverrides {
  detector?: Pick<Detector, 'detect' | 'close'>;
  createAnalytics?: AnalyticsFactory;
  log?: LogFn;
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

export function consoleLogger(minLevel: WorkerConfig['LOG_LEVEL']): LogFn {
  const min = minLevel === 'silent' ? Infinity : LEVELS.indexOf(minLevel as (typeof LEVELS)[number]);
  return (level, message) => {
    if (LEVELS.indexOf(level) < min) return;
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg: message })}\n`);
  };
}

export async function runWorker(
  config: WorkerConfig,
  overrides: RunWorkerOverrides = {},
): Promise<RunningWorker> {
  const log = overrides.log ?? consoleLogger(config.LOG_LEVEL);
  const detector =
    overrides.detector ??
    (await createDetector({
      provider: config.DETECTOR_PROVIDER,
      threads: config.DETECTOR_THREADS,
      inputSize: config.INPUT_SIZE,
    }));
  const createAnalytics = overrides.createAnalytics ?? createDefaultAnalytics;
  const client = createApiClient({ baseUrl: config.API_URL, apiKey: config.API_KEY });
  // A directory of its own under BUFFER_DIR (replicas may share the volume), plus what stopped or dead
  // workers left there: delivered first, before this worker produces anything.
  const claim = await claimBufferDir({ root: config.BUFFER_DIR, name: config.WORKER_NAME });
  const buffer = await openDiskBuffer({ dir: claim.dir, maxBytes: config.BUFFER_MAX_BYTES });
  const adoptOrphans = async () => {
    const adopted = await claim.adoptOrphans(buffer);
    if (adopted) log('info', `adopted ${adopted} undelivered batch(es) left in ${config.BUFFER_DIR}`);
    return adopted;
  };
  await adoptOrphans();
  const metrics = createWorkerMetrics({ defaultMetrics: true });
  // The worker exists only once the outbox does; a 409 names a lease that is no longer ours.
  let onFenced: (cameraId: string, epoch: number) => void = () => undefined;
  const outbox = createOutbox({
    buffer,
    client,
    log,
    onRejected: (batch, err) => {
      metrics.batchesRejected.inc({ kind: batch.kind });
      if (err.status !== 409) return;
      const items = batch.kind === 'events' ? batch.body.events : batch.body.aggregates;
      const stamped = new Map(
        items.flatMap((i) => (i.epoch === undefined ? [] : [[i.cameraId, i.epoch] as const])),
      );
      for (const [cameraId, epoch] of stamped) onFenced(cameraId, epoch);
    },
  });
  const worker = createWorker(
    {
      width: config.INPUT_SIZE.width,
      height: config.INPUT_SIZE.height,
      fps: config.TARGET_FPS,
      realtime: config.FILE_REALTIME,
      queueCapacity: config.QUEUE_CAPACITY,
      motionThreshold: config.MOTION_THRESHOLD,
      cameraIds: config.CAMERA_IDS,
      cameraRefreshMs: config.CAMERA_REFRESH_MS,
      heartbeatMs: config.HEARTBEAT_MS,
      partialFlushMs: config.PARTIAL_FLUSH_MS,
      name: config.WORKER_NAME,
      version: process.env.APP_VERSION?.slice(0, 64) || null,
      capacity: config.MAX_CAMERAS,
    },
    { client, detector, createAnalytics, outbox, metrics, log },
  );
  onFenced = (cameraId, epoch) => void worker.dropCamera(cameraId, epoch);
  // Keeps this directory ours and picks up what a peer on the same volume leaves behind later.
  let upkeep: Promise<unknown> = Promise.resolve();
  const claimTimer = setInterval(() => {
    upkeep = claim
      .touch()
      .then(adoptOrphans)
      // drain(0) only wakes the delivery loop for the adopted batches.
      .then((n) => (n ? outbox.drain(0) : undefined))
      .catch((err: Error) => log('warn', `buffer directory upkeep failed: ${err.message}`));
  }, CLAIM_TOUCH_MS);
  claimTimer.unref();
  const server: Server = createStatusServer({
    registry: metrics.registry,
    worker,
    snapshot: (url) => captureSnapshot(url),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.METRICS_PORT, config.METRICS_HOST, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await worker.start();
  log(
    'info',
    `vision worker serving ${worker.pipelines().size} camera(s); metrics on http://${config.METRICS_HOST}:${port}/metrics`,
  );
  let stopped: Promise<void> | null = null;
  return {
    worker,
    metricsUrl: `http://${config.METRICS_HOST}:${port}/metrics`,
    stop() {
      stopped ??= (async () => {
        clearInterval(claimTimer);
        await upkeep;
        await worker.stop();
        await claim.release(buffer).catch((err: Error) => log('warn', `buffer directory: ${err.message}`));
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await detector.close();
      })();
      return stopped;
    },
  };
}
