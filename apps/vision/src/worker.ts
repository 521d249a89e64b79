/**
 * The worker: one process, many cameras. It reads the camera list from the API (and re-reads it
 * periodically), runs one pipeline per enabled camera over one shared detector, reports camera status
 * heartbeats, and delivers results through the disk-backed outbox.
 */
import type { Camera } from '@its/contracts';
import type { AnalyticsFactory } from './analytics.js';
import type { ApiClient } from './api-client.js';
import {
  createCameraPipeline,
  type CameraPipeline,
  type PipelineDeps,
  type PipelineSettings,
} from './camera-pipeline.js';
import type { SpawnFn } from './frame-source.js';
import type { WorkerMetrics } from './metrics.js';
import type { Outbox } from './outbox.js';

export interface WorkerSettings extends PipelineSettings {
  /** Only these cameras; null: every enabled camera. */
  cameraIds: string[] | null;
  cameraRefreshMs: number;
  heartbeatMs: number;
}

export interface WorkerDeps {
  client: ApiClient;
  detector: PipelineDeps['detector'];
  createAnalytics: AnalyticsFactory;
  outbox: Outbox;
  metrics: WorkerMetrics;
  log: PipelineDeps['log'];
  now?: () => number;
  spawn?: SpawnFn;
  ffmpegPath?: string;
}

export interface Worker {
  start(): Promise<void>;
  /** Stops every camera, flushes open intervals and tries to deliver what is buffered (bounded wait). */
  stop(options?: { drainTimeoutMs?: number }): Promise<void>;
  refresh(): Promise<void>;
  heartbeat(): Promise<void>;
  pipelines(): ReadonlyMap<string, CameraPipeline>;
}

/** What a camera's pipeline depends on; a change in any of these restarts it. */
function pipelineKey(c: Camera): string {
  return JSON.stringify([c.streamUrl, c.lines, c.zones, c.calibration]);
}

/** Pure: which cameras to start, stop and restart given the running set and the API's list. */
export function planCameraChanges(
  running: ReadonlyMap<string, Camera>,
  listed: readonly Camera[],
  cameraIds: readonly string[] | null,
): { start: Camera[]; stop: string[]; restart: Camera[] } {
  const wanted = new Map(
    listed.filter((c) => c.enabled && (!cameraIds || cameraIds.includes(c.id))).map((c) => [c.id, c]),
  );
  const start: Camera[] = [];
  const restart: Camera[] = [];
  const stop: string[] = [];
  for (const [id, cam] of wanted) {
    const current = running.get(id);
    if (!current) start.push(cam);
    else if (pipelineKey(current) !== pipelineKey(cam)) restart.push(cam);
  }
  for (const id of running.keys()) if (!wanted.has(id)) stop.push(id);
  return { start, stop, restart };
}

export function createWorker(settings: WorkerSettings, deps: WorkerDeps): Worker {
  const pipelines = new Map<string, CameraPipeline>();
  const timers: NodeJS.Timeout[] = [];
  let stopping = false;
  let refreshing: Promise<void> | null = null;

  const updateBufferMetrics = () => {
    const b = deps.outbox.buffer;
    deps.metrics.bufferDepth.set(b.depth);
    deps.metrics.bufferBytes.set(b.bytes);
    deps.metrics.bufferDropped.set(b.dropped);
    deps.metrics.deliveryFailures.set(deps.outbox.stats.failures);
  };

  const startPipeline = (camera: Camera) => {
    const p = createCameraPipeline(camera, settings, deps);
    pipelines.set(camera.id, p);
    p.start();
    deps.log('info', `camera ${camera.id} (${camera.name}) started`);
  };

  const doRefresh = async () => {
    let listed: Camera[];
    try {
      listed = await deps.client.listCameras();
    } catch (err) {
      // Keep serving the cameras we have; the next refresh tries again.
      deps.log('warn', `camera list unavailable: ${(err as Error).message}`);
      return;
    }
    if (stopping) return;
    const running = new Map([...pipelines].map(([id, p]) => [id, p.camera]));
    const plan = planCameraChanges(running, listed, settings.cameraIds);
    for (const id of [...plan.stop, ...plan.restart.map((c) => c.id)]) {
      const p = pipelines.get(id);
      pipelines.delete(id);
      await p?.stop();
      deps.log('info', `camera ${id} stopped`);
    }
    for (const cam of [...plan.start, ...plan.restart]) startPipeline(cam);
  };

  const worker: Worker = {
    async start() {
      await worker.refresh();
      const refreshTimer = setInterval(() => {
        worker.refresh().catch((err: Error) => deps.log('error', `camera refresh failed: ${err.message}`));
      }, settings.cameraRefreshMs);
      const heartbeatTimer = setInterval(() => void worker.heartbeat(), settings.heartbeatMs);
      const metricsTimer = setInterval(updateBufferMetrics, 1000);
      for (const t of [refreshTimer, heartbeatTimer, metricsTimer]) {
        t.unref();
        timers.push(t);
      }
    },
    async refresh() {
      if (!refreshing) refreshing = doRefresh().finally(() => (refreshing = null));
      await refreshing;
    },
    async heartbeat() {
      updateBufferMetrics();
      const cameras = [...pipelines.values()].map((p) => p.report());
      if (!cameras.length) return;
      try {
        await deps.client.postStatus({ cameras });
      } catch (err) {
        deps.log('warn', `status heartbeat failed: ${(err as Error).message}`);
      }
    },
    async stop(options = {}) {
      stopping = true;
      for (const t of timers) clearInterval(t);
      await refreshing;
      const all = [...pipelines.values()];
      await Promise.all(all.map((p) => p.stop()));
      if (all.length) {
        await deps.client
          .postStatus({
            cameras: all.map((p) => ({
              cameraId: p.camera.id,
              state: 'offline',
              reason: 'worker stopped',
              fps: null,
            })),
          })
          .catch(() => undefined);
      }
      const drained = await deps.outbox.drain(options.drainTimeoutMs ?? 5000);
      if (!drained)
        deps.log('warn', `${deps.outbox.buffer.depth} batches stay buffered on disk for the next start`);
      deps.outbox.stop();
      updateBufferMetrics();
      pipelines.clear();
    },
    pipelines: () => pipelines,
  };
  return worker;
}
