import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The worker's Prometheus metrics, on their own registry (one per worker, so tests can run several). */
export function createWorkerMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'its_vision_' });
  const camera = ['camera'] as const;
  return {
    registry,
    framesIn: new Counter({
      name: 'its_vision_frames_in_total',
      help: 'Frames decoded from the camera',
      labelNames: camera,
      registers: [registry],
    }),
    framesProcessed: new Counter({
      name: 'its_vision_frames_processed_total',
      help: 'Frames that went through analytics',
      labelNames: camera,
      registers: [registry],
    }),
    framesDropped: new Counter({
      name: 'its_vision_frames_dropped_total',
      help: 'Frames evicted from a full queue (overload)',
      labelNames: camera,
      registers: [registry],
    }),
    framesSkippedMotion: new Counter({
      name: 'its_vision_frames_skipped_motion_total',
      help: 'Frames not inferred because the scene did not change',
      labelNames: camera,
      registers: [registry],
    }),
    inferenceSeconds: new Histogram({
      name: 'its_vision_inference_seconds',
      help: 'Detector latency per inferred frame (preprocess, model, decode, NMS)',
      labelNames: camera,
      // 5 ms … 1 s: WebGPU lands in the low buckets, two CPU threads around 30–100 ms.
      buckets: [0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1],
      registers: [registry],
    }),
    tracksAlive: new Gauge({
      name: 'its_vision_tracks_alive',
      help: 'Confirmed tracks matched in the latest frame',
      labelNames: camera,
      registers: [registry],
    }),
    cameraOnline: new Gauge({
      name: 'its_vision_camera_online',
      help: '1 when frames are flowing from the camera',
      labelNames: camera,
      registers: [registry],
    }),
    crossings: new Counter({
      name: 'its_vision_crossings_total',
      help: 'Crossing events produced',
      labelNames: camera,
      registers: [registry],
    }),
    bufferDepth: new Gauge({
      name: 'its_vision_buffer_batches',
      help: 'Batches waiting on disk for delivery',
      registers: [registry],
    }),
    bufferBytes: new Gauge({
      name: 'its_vision_buffer_bytes',
      help: 'Bytes waiting on disk for delivery',
      registers: [registry],
    }),
    bufferDropped: new Gauge({
      name: 'its_vision_buffer_dropped_batches',
      help: 'Batches deleted unsent because the buffer was full (since start)',
      registers: [registry],
    }),
    batchesRejected: new Counter({
      name: 'its_vision_batches_rejected_total',
      help: 'Batches the API refused for good (4xx such as a 400 naming a field): dropped, never retried',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    deliveryFailures: new Gauge({
      name: 'its_vision_delivery_failures',
      help: 'Failed delivery attempts (since start)',
      registers: [registry],
    }),
    leases: new Gauge({
      name: 'its_vision_leases',
      help: 'Camera leases this worker holds (0 when it runs without leases against an API that has none)',
      registers: [registry],
    }),
    handOffs: new Counter({
      name: 'its_vision_lease_handoffs_total',
      help: 'Cameras this worker stopped and gave back when the API asked (a fair share for another worker)',
      registers: [registry],
    }),
    leasesLost: new Counter({
      name: 'its_vision_leases_lost_total',
      help: "Cameras stopped because their lease was no longer this worker's: expired, refused (409) or API unreachable past the TTL",
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    leaseHeartbeatFailures: new Counter({
      name: 'its_vision_lease_heartbeat_failures_total',
      help: 'Lease heartbeats that failed (API unreachable or refusing)',
      registers: [registry],
    }),
  };
}
export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
