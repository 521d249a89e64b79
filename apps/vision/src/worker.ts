/**
 * The worker: one process, many cameras, one shared detector. Against an API with camera leases (the
 * default) it holds only the cameras the API leases it: it heartbeats every third of the lease TTL,
 * runs a pipeline per lease stamped with the lease's epoch, hands cameras back when asked (stop, flush,
 * release), stops a camera at once when its lease is gone or an ingest is refused with 409, and stops
 * every camera before its leases can expire when the API cannot be reached (its counts so far stay
 * buffered and are accepted later: they were counted while the leases were its own). It follows the
 * API's live stream so that camera edits and freed cameras are acted on at once. Against an API
 * without leases (404: an older release) it falls back to reading the camera list periodically.
 * Camera status heartbeats and delivery through the disk-backed outbox are the same in both modes.
 */
import { randomUUID } from 'node:crypto';
import type { Camera, LeaseRef, WorkerLeases } from '@its/contracts';
import type { AnalyticsFactory } from './analytics.js';
import type { ApiClient } from './api-client.js';
import {
  createCameraPipeline,
  type CameraPipeline,
  type PipelineDeps,
  type PipelineSettings,
} from './camera-pipeline.js';
import { ApiRejectedError } from './errors.js';
import type { SpawnFn } from './frame-source.js';
import type { WorkerMetrics } from './metrics.js';
import type { Outbox } from './outbox.js';

export interface WorkerSettings extends PipelineSettings {
  /** Only these cameras; null: every enabled camera. */
  cameraIds: string[] | null;
  /** Without leases: how often the camera list is re-read. */
  cameraRefreshMs: number;
  /** Camera status reports. */
  heartbeatMs: number;
  /** Shown in GET /api/v1/workers. */
  name: string;
  version: string | null;
  /** Most cameras this worker takes. */
  capacity: number;
  /**
   * Stop every camera this long before the leases could expire when no heartbeat succeeded (default
   * 2000 ms): the API ends a lease TTL after it last heard of it, never sooner than we do.
   */
  fenceMarginMs?: number;
}

export type WorkerMode = 'starting' | 'leases' | 'legacy';

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
  /**
   * Stops every camera, flushes open intervals, gives its leases back and tries to deliver what is
   * buffered (bounded wait).
   */
  stop(options?: { drainTimeoutMs?: number }): Promise<void>;
  /** Leases: one lease heartbeat now (serialised). Without: re-reads the camera list. */
  refresh(): Promise<void>;
  /** Camera status report. */
  heartbeat(): Promise<void>;
  /** The API refused (409) an item of this camera under this epoch: stop it if it still runs under it. */
  dropCamera(cameraId: string, epoch: number): Promise<void>;
  pipelines(): ReadonlyMap<string, CameraPipeline>;
  mode(): WorkerMode;
  readonly id: string;
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
  const now = deps.now ?? Date.now;
  const id = randomUUID();
  const pipelines = new Map<string, CameraPipeline>();
  const timers: NodeJS.Timeout[] = [];
  const watch = new AbortController();
  let stopping = false;
  let mode: WorkerMode = 'starting';
  let refreshing: Promise<void> | null = null;
  let again = false;
  let ttlMs = 15_000;
  let leaseTimer: NodeJS.Timeout | null = null;
  /** When the last successful lease heartbeat was sent: the API's expiry is at least TTL after it. */
  let lastOkSentAt = -Infinity;
  const jitterTimers = new Set<NodeJS.Timeout>();
  /** Stopped and flushed, to be reported in the next heartbeat. */
  let released: LeaseRef[] = [];
  const fenceMarginMs = settings.fenceMarginMs ?? 2000;

  const updateBufferMetrics = () => {
    const b = deps.outbox.buffer;
    deps.metrics.bufferDepth.set(b.depth);
    deps.metrics.bufferBytes.set(b.bytes);
    deps.metrics.bufferDropped.set(b.dropped);
    deps.metrics.deliveryFailures.set(deps.outbox.stats.failures);
    deps.metrics.leases.set(mode === 'leases' ? pipelines.size : 0);
  };

  const startPipeline = (camera: Camera, epoch?: number) => {
    const p = createCameraPipeline(camera, settings, deps, epoch === undefined ? undefined : { epoch });
    pipelines.set(camera.id, p);
    p.start();
    deps.log(
      'info',
      `camera ${camera.id} (${camera.name}) started${epoch === undefined ? '' : ` under lease epoch ${epoch}`}`,
    );
  };
  const stopPipeline = async (cameraId: string, why: string) => {
    const p = pipelines.get(cameraId);
    if (!p) return;
    pipelines.delete(cameraId);
    await p.stop();
    deps.log('info', `camera ${cameraId} stopped (${why})`);
  };

  // --- without leases (an API from before them) -------------------------------------------------
  const legacyRefresh = async () => {
    let listed: Camera[];
    try {
      listed = await deps.client.listCameras();
    } catch (err) {
      // Keep serving the cameras we have; the next refresh tries again.
      deps.log('warn', `camera list unavailable: ${(err as Error).message}`);
      return;
    }
    if (stopping) return;
    const running = new Map([...pipelines].map(([cid, p]) => [cid, p.camera]));
    const plan = planCameraChanges(running, listed, settings.cameraIds);
    for (const cid of [...plan.stop, ...plan.restart.map((c) => c.id)])
      await stopPipeline(cid, 'camera list');
    for (const cam of [...plan.start, ...plan.restart]) startPipeline(cam);
  };

  // --- with leases ------------------------------------------------------------------------------
  const reconcile = async (answer: WorkerLeases) => {
    const leased = new Map(answer.leases.map((l) => [l.cameraId, l]));
    const handOff = new Set(answer.handOff.map((r) => `${r.cameraId}/${r.epoch}`));
    for (const [cid, p] of [...pipelines]) {
      const lease = leased.get(cid);
      if (!lease || lease.epoch !== p.epoch) {
        deps.metrics.leasesLost.inc({ reason: 'not-renewed' });
        await stopPipeline(cid, `lease epoch ${p.epoch} is no longer this worker's`);
      } else if (handOff.has(`${cid}/${lease.epoch}`)) {
        await stopPipeline(cid, 'handed off to another worker');
        deps.metrics.handOffs.inc();
        released.push({ cameraId: cid, epoch: lease.epoch });
      } else if (pipelineKey(lease.camera) !== pipelineKey(p.camera)) {
        // Same lease, new geometry or URL: a new counting session whose figures add to the old one's.
        await stopPipeline(cid, 'camera edited');
        startPipeline(lease.camera, lease.epoch);
      }
    }
    if (stopping) return;
    for (const lease of answer.leases) {
      if (pipelines.has(lease.cameraId)) continue;
      if (handOff.has(`${lease.cameraId}/${lease.epoch}`)) {
        // Asked back before it ever ran here (e.g. granted while we were busy): nothing to flush.
        if (!released.some((r) => r.cameraId === lease.cameraId && r.epoch === lease.epoch))
          released.push({ cameraId: lease.cameraId, epoch: lease.epoch });
        continue;
      }
      startPipeline(lease.camera, lease.epoch);
    }
    // Give released cameras back now rather than at the next heartbeat: another worker is waiting.
    if (released.length > 0) again = true;
  };

  const leaseHeartbeat = async (): Promise<'ok' | 'no-leases' | 'failed'> => {
    const sentAt = now();
    const sending = released;
    try {
      const answer = await deps.client.heartbeat(
        {
          workerId: id,
          name: settings.name,
          version: settings.version,
          capacity: settings.capacity,
          cameraIds: settings.cameraIds,
          held: [...pipelines.values()].flatMap((p) =>
            p.epoch === undefined ? [] : [{ cameraId: p.camera.id, epoch: p.epoch }],
          ),
          released: sending,
        },
        Math.max(1000, Math.floor(ttlMs / 3)),
      );
      released = released.filter((r) => !sending.includes(r));
      lastOkSentAt = sentAt;
      ttlMs = answer.ttlMs;
      if (mode !== 'leases') deps.log('info', `worker ${id} takes cameras by lease (TTL ${ttlMs} ms)`);
      mode = 'leases';
      if (!stopping) await reconcile(answer);
      return 'ok';
    } catch (err) {
      // A 404 means "an API without leases" only before this worker ever got an answer: once it runs
      // under leases, a 404 (a request that reached an old replica mid-rollout) is a failed heartbeat.
      if (err instanceof ApiRejectedError && err.status === 404 && mode !== 'leases') return 'no-leases';
      deps.metrics.leaseHeartbeatFailures.inc();
      deps.log('warn', `lease heartbeat failed: ${(err as Error).message}`);
      return 'failed';
    }
  };

  /** No heartbeat got through for nearly a TTL: the API may give our cameras away; stop counting them. */
  const fence = async () => {
    if (mode !== 'leases' || pipelines.size === 0) return;
    const silentMs = now() - lastOkSentAt;
    if (silentMs < ttlMs - fenceMarginMs) return;
    deps.log(
      'warn',
      `no lease heartbeat got through for ${Math.round(silentMs / 1000)} s: stopping ${pipelines.size} camera(s) before their leases expire; their counts stay buffered`,
    );
    deps.metrics.leasesLost.inc({ reason: 'api-unreachable' }, pipelines.size);
    for (const cid of [...pipelines.keys()]) await stopPipeline(cid, 'lease about to expire');
  };

  const scheduleLease = (ms: number) => {
    if (leaseTimer) clearTimeout(leaseTimer);
    if (stopping) return;
    leaseTimer = setTimeout(() => void worker.refresh(), ms);
    leaseTimer.unref();
  };

  const doRefresh = async () => {
    // A heartbeat after stop() would register the stopped worker again (and be granted cameras).
    if (stopping) return;
    if (mode === 'legacy') return legacyRefresh();
    do {
      again = false;
      const result = await leaseHeartbeat();
      if (result === 'no-leases') {
        mode = 'legacy';
        deps.log(
          'warn',
          'the API has no camera leases (an older release): serving cameras from its list; run one worker only',
        );
        return legacyRefresh();
      }
    } while (again && !stopping);
    scheduleLease(Math.floor(ttlMs / 3));
  };

  const worker: Worker = {
    id,
    async start() {
      await worker.refresh();
      const refreshTimer = setInterval(() => {
        if (mode === 'legacy')
          worker.refresh().catch((err: Error) => deps.log('error', `camera refresh failed: ${err.message}`));
      }, settings.cameraRefreshMs);
      const fenceTimer = setInterval(() => {
        if (!refreshing) void fence();
      }, 500);
      const heartbeatTimer = setInterval(() => void worker.heartbeat(), settings.heartbeatMs);
      const metricsTimer = setInterval(updateBufferMetrics, 1000);
      for (const t of [refreshTimer, fenceTimer, heartbeatTimer, metricsTimer]) {
        t.unref();
        timers.push(t);
      }
      if (mode !== 'legacy')
        // Camera edits, removals and freed cameras: act now, not at the next heartbeat.
        void deps.client.watchCameraChanges(() => {
          if (mode !== 'leases' || stopping) return;
          // Every worker hears a freed camera at once: a little jitter spreads their heartbeats.
          const t = setTimeout(() => {
            jitterTimers.delete(t);
            void worker.refresh();
          }, Math.random() * 250);
          t.unref();
          jitterTimers.add(t);
        }, watch.signal);
    },
    async refresh() {
      if (refreshing) {
        // Whoever runs now will run once more for what changed since it began.
        again = true;
        return refreshing;
      }
      refreshing = doRefresh()
        .catch((err: Error) => deps.log('error', `camera refresh failed: ${err.message}`))
        .finally(() => (refreshing = null));
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
    async dropCamera(cameraId, epoch) {
      const p = pipelines.get(cameraId);
      if (!p || p.epoch !== epoch) return;
      deps.metrics.leasesLost.inc({ reason: 'refused' });
      await stopPipeline(cameraId, `the API refused its data under lease epoch ${epoch}`);
      void worker.refresh();
    },
    async stop(options = {}) {
      stopping = true;
      watch.abort();
      for (const t of timers) clearInterval(t);
      for (const t of jitterTimers) clearTimeout(t);
      if (leaseTimer) clearTimeout(leaseTimer);
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
              ...(p.epoch === undefined ? {} : { epoch: p.epoch }),
            })),
          })
          .catch(() => undefined);
      }
      if (mode === 'leases') {
        // Give every camera back now: the other workers take them at once instead of after the TTL.
        await deps.client
          .heartbeat(
            {
              workerId: id,
              name: settings.name,
              version: settings.version,
              capacity: settings.capacity,
              cameraIds: settings.cameraIds,
              held: [],
              released: [],
              leaving: true,
            },
            2000,
          )
          .catch((err: Error) =>
            deps.log(
              'warn',
              `could not give the leases back (they expire after ${ttlMs} ms): ${err.message}`,
            ),
          );
      }
      pipelines.clear();
      const drained = await deps.outbox.drain(options.drainTimeoutMs ?? 5000);
      if (!drained)
        deps.log('warn', `${deps.outbox.buffer.depth} batches stay buffered on disk for the next start`);
      deps.outbox.stop();
      updateBufferMetrics();
    },
    pipelines: () => pipelines,
    mode: () => mode,
  };
  return worker;
}
