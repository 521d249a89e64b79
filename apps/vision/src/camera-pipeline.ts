/**
 * One camera: frame source → bounded queue → motion gate → shared detector → analytics → outbox.
 * Decoding never waits for inference: frames that arrive while the queue is full evict the oldest.
 */
import { randomUUID } from 'node:crypto';
import type { Camera, CameraStatusState, CrossingEvent, Detection, IntervalAggregate } from '@its/contracts';
import type { AnalyticsFactory, CameraAnalytics } from './analytics.js';
import { BoundedQueue } from './bounded-queue.js';
import {
  createFrameSource,
  type Frame,
  type FrameSource,
  type SourceStatus,
  type SpawnFn,
} from './frame-source.js';
import type { WorkerMetrics } from './metrics.js';
import { createMotionGate } from '@its/vision';
import { rgbToLuma } from './luma.js';
import type { Outbox } from './outbox.js';
import type { BackoffPolicy } from './backoff.js';

export interface PipelineSettings {
  width: number;
  height: number;
  fps: number;
  realtime: boolean;
  queueCapacity: number;
  /** Fraction of pixels (luma change > 25) that counts as motion; 0 infers every frame. */
  motionThreshold: number;
  /** Longest time between inferences on a static scene, ms. Default 1000 (the gate's default). */
  motionMaxSkipMs?: number;
  /** Crossing events are sent at most this often (ms), as one batch. 1 s: live enough for the dashboard. */
  eventFlushMs?: number;
  /**
   * Under a lease, the open minutes' figures so far are sent this often as partial figures (0: never),
   * so that a worker killed mid-minute loses only what it counted since. Default 10 000 ms.
   */
  partialFlushMs?: number;
  ioTimeoutMs?: number;
  backoff?: BackoffPolicy;
}

export interface PipelineDeps {
  detector: { detect(rgb: Uint8Array, width: number, height: number): Promise<Detection[]> };
  createAnalytics: AnalyticsFactory;
  outbox: Pick<Outbox, 'enqueue'>;
  metrics: WorkerMetrics;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
  now?: () => number;
  spawn?: SpawnFn;
  ffmpegPath?: string;
}

export interface CameraReport {
  cameraId: string;
  state: CameraStatusState;
  reason: string | null;
  fps: number | null;
  epoch?: number;
}

export interface CameraPipeline {
  readonly camera: Camera;
  /** The lease epoch it counts under; undefined without leases. */
  readonly epoch: number | undefined;
  start(): void;
  /** Stops decoding, processes nothing more, closes every open interval and hands it to the outbox. */
  stop(): Promise<void>;
  /** Status for the heartbeat; fps is frames processed per second since the previous call. */
  report(): CameraReport;
  source(): SourceStatus;
  /** Resolves once the queue is empty and no frame is in flight. */
  idle(): Promise<void>;
}

/**
 * The lease the pipeline counts under (absent: an API without leases). Every item it sends carries the
 * epoch, and every aggregate the pipeline's own session id, so that the API adds this session's figures
 * for a minute to another session's (a restart, a hand-off) instead of replacing them.
 */
export interface PipelineLease {
  epoch: number;
}

export function createCameraPipeline(
  camera: Camera,
  settings: PipelineSettings,
  deps: PipelineDeps,
  lease?: PipelineLease,
): CameraPipeline {
  const now = deps.now ?? Date.now;
  const session = randomUUID();
  const stampEvents = (events: CrossingEvent[]): CrossingEvent[] =>
    lease ? events.map((e) => ({ ...e, epoch: lease.epoch })) : events;
  const stampAggregates = (aggregates: IntervalAggregate[], partial = false): IntervalAggregate[] =>
    aggregates.map((a) => {
      if (lease) return { ...a, session, epoch: lease.epoch, ...(partial ? { partial } : {}) };
      // An API without leases predates sessions too: it would refuse the fields it does not know.
      const { observedMs: _observed, ...legacy } = a;
      return legacy;
    });
  const label = { camera: camera.id };
  const analytics: CameraAnalytics = deps.createAnalytics({
    ...camera,
    frameAspect: settings.width / settings.height,
  });
  const queue = new BoundedQueue<Frame>(settings.queueCapacity);
  const gate = createMotionGate({
    minChangedFraction: settings.motionThreshold,
    maxSkipMs: settings.motionMaxSkipMs ?? 1000,
  });
  let luma: Uint8Array | undefined;
  let lastDetections: Detection[] = [];
  let pendingEvents: CrossingEvent[] = [];
  let pumping: Promise<void> | null = null;
  let stopped = false;
  let flushed = false;
  let processedSinceReport = 0;
  let lastReportAt = now();
  const eventTimer = setInterval(() => {
    // A timer has no caller to reject to: an unhandled rejection would end the process.
    sendEvents().catch((err: Error) =>
      deps.log('error', `camera ${camera.id}: events not buffered, retrying: ${err.message}`),
    );
  }, settings.eventFlushMs ?? 1000);
  eventTimer.unref();
  const partialFlushMs = settings.partialFlushMs ?? 10_000;
  const partialTimer =
    lease && partialFlushMs > 0
      ? setInterval(() => {
          if (stopped || flushed) return;
          const open = analytics.snapshot?.() ?? [];
          if (open.length === 0) return;
          deps.outbox
            .enqueue({ kind: 'aggregates', body: { aggregates: stampAggregates(open, true) } })
            .catch((err: Error) =>
              deps.log('warn', `camera ${camera.id}: partial figures not buffered: ${err.message}`),
            );
        }, partialFlushMs)
      : null;
  partialTimer?.unref();

  const sendEvents = async () => {
    if (!pendingEvents.length) return;
    const events = pendingEvents;
    pendingEvents = [];
    try {
      await deps.outbox.enqueue({ kind: 'events', body: { events: stampEvents(events) } });
    } catch (err) {
      // Not buffered (e.g. a disk error): back in front of the newer ones, for the next flush.
      pendingEvents = [...events, ...pendingEvents];
      throw err;
    }
  };

  const finish = async () => {
    if (flushed) return;
    flushed = true;
    const closed = analytics.flush(Number.POSITIVE_INFINITY);
    await sendEvents();
    if (closed.length)
      await deps.outbox.enqueue({ kind: 'aggregates', body: { aggregates: stampAggregates(closed) } });
  };

  const processOne = async (frame: Frame) => {
    luma = rgbToLuma(frame.data, frame.width, frame.height, luma);
    const gated = gate.decide(luma, frame.width, frame.height, frame.tsMs);
    if (gated.infer) {
      const t0 = performance.now();
      try {
        lastDetections = await deps.detector.detect(frame.data, frame.width, frame.height);
      } catch (err) {
        deps.log('error', `camera ${camera.id}: detector failed: ${(err as Error).message}`);
        lastDetections = [];
      }
      deps.metrics.inferenceSeconds.observe(label, (performance.now() - t0) / 1000);
    } else {
      // A static frame gets the previous detections again: time still advances for the tracker,
      // and occupancy keeps being credited to vehicles that stand still.
      deps.metrics.framesSkippedMotion.inc(label);
    }
    const result = analytics.processFrame({ tsMs: frame.tsMs, detections: lastDetections });
    deps.metrics.framesProcessed.inc(label);
    deps.metrics.tracksAlive.set(label, analytics.tracksAlive);
    processedSinceReport++;
    if (result.crossings.length) {
      deps.metrics.crossings.inc(label, result.crossings.length);
      pendingEvents.push(...result.crossings);
    }
    if (result.closed.length) {
      // Events first: a dashboard that sees an interval's aggregate should already have its crossings.
      await sendEvents();
      await deps.outbox.enqueue({ kind: 'aggregates', body: { aggregates: stampAggregates(result.closed) } });
    }
  };

  const pump = () => {
    if (pumping) return;
    pumping = (async () => {
      try {
        for (let frame = queue.shift(); frame && !stopped; frame = queue.shift()) {
          try {
            await processOne(frame);
          } catch (err) {
            deps.log('error', `camera ${camera.id}: frame dropped: ${(err as Error).message}`);
          }
        }
        if (source.status().state === 'ended' && !stopped) {
          // A file that played to its end is complete: close its intervals now rather than at shutdown.
          // Nobody awaits the pump: a failure here is logged (events left pending go with the next flush).
          await finish().catch((err: Error) =>
            deps.log('error', `camera ${camera.id}: final flush failed: ${err.message}`),
          );
        }
      } finally {
        pumping = null;
      }
    })();
  };

  const source: FrameSource = createFrameSource({
    url: camera.streamUrl,
    width: settings.width,
    height: settings.height,
    fps: settings.fps,
    realtime: settings.realtime,
    loop: settings.realtime,
    ioTimeoutMs: settings.ioTimeoutMs,
    backoff: settings.backoff,
    now,
    spawn: deps.spawn,
    ffmpegPath: deps.ffmpegPath,
    onFrame(frame) {
      deps.metrics.framesIn.inc(label);
      if (queue.push(frame)) deps.metrics.framesDropped.inc(label);
      pump();
    },
    onStatus(status) {
      deps.metrics.cameraOnline.set(label, status.state === 'online' ? 1 : 0);
      if (status.state === 'offline') deps.log('warn', `camera ${camera.id} offline: ${status.reason}`);
      if (status.state === 'online') deps.log('info', `camera ${camera.id} online`);
      if (status.state === 'ended') pump();
    },
  });

  return {
    camera,
    epoch: lease?.epoch,
    start: () => source.start(),
    async stop() {
      stopped = true;
      clearInterval(eventTimer);
      if (partialTimer) clearInterval(partialTimer);
      await source.stop();
      await pumping;
      queue.clear();
      await finish();
    },
    report() {
      const s = source.status();
      const t = now();
      const elapsed = (t - lastReportAt) / 1000;
      const fps = elapsed > 0 ? Math.min(1000, processedSinceReport / elapsed) : null;
      processedSinceReport = 0;
      lastReportAt = t;
      const state: CameraStatusState = s.state === 'ended' || s.state === 'stopped' ? 'offline' : s.state;
      const reason = s.state === 'ended' ? 'end of file' : s.state === 'stopped' ? 'stopped' : s.reason;
      return {
        cameraId: camera.id,
        state,
        reason: reason?.slice(0, 500) ?? null,
        fps: fps === null ? null : Math.round(fps * 100) / 100,
        ...(lease ? { epoch: lease.epoch } : {}),
      };
    },
    source: () => source.status(),
    async idle() {
      while (pumping) await pumping;
    },
  };
}
