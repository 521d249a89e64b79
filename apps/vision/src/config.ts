/**
 * Worker configuration from the environment, validated once with zod. Every bad variable is reported
 * together, each message starting with the variable's name.
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import { parseInputSize, type InputSize } from '@its/vision/detector';
import { ConfigError } from './errors.js';

const int = (min: number, max: number) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int(`must be an integer between ${min} and ${max}`)
    .min(min, `must be an integer between ${min} and ${max}`)
    .max(max, `must be an integer between ${min} and ${max}`);

const uuid = z.string().uuid('must be a camera UUID');

export const WorkerEnv = z.object({
  /** The API the worker reads cameras from and posts to. Default: a local API on its fixed port 8000. */
  API_URL: z
    .string()
    .default('http://127.0.0.1:8000')
    .refine((v) => /^https?:\/\/[^/]+/.test(v), 'use an http:// or https:// URL'),
  /** An ingest API key (created with the API's admin endpoint or CLI). Required: ingestion is authenticated. */
  API_KEY: z.string({ message: 'is required (an ingest API key)' }).min(1, 'is required (an ingest API key)'),
  /** Comma-separated camera ids this worker serves. Unset: every enabled camera (one worker per site). */
  CAMERA_IDS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (!v) return null;
      const ids = v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      ids.forEach((id, i) => {
        if (!uuid.safeParse(id).success)
          ctx.addIssue({ code: 'custom', message: `item ${i} "${id}" is not a UUID` });
      });
      return ids;
    }),
  /** cpu (default, any machine) or webgpu (the GPU image). */
  DETECTOR_PROVIDER: z.enum(['cpu', 'webgpu']).default('cpu'),
  /** ORT intra-op threads. 2: our CPU target; the edge image sets 1. */
  DETECTOR_THREADS: int(1, 64).default(2),
  /** Network input WIDTHxHEIGHT, multiples of 32. 512x288: 16:9 and under 100 ms on two cores; edge: 320x192. */
  INPUT_SIZE: z
    .string()
    .default('512x288')
    .transform((v, ctx): InputSize => {
      try {
        return parseInputSize(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  /** Frames per second decoded per camera. 5: enough for 60 s counts at urban speeds, cheap on CPU. */
  TARGET_FPS: z.coerce
    .number({ message: 'must be a number' })
    .min(0.2, 'must be between 0.2 and 60')
    .max(60, 'must be between 0.2 and 60')
    .default(5),
  /** Where undelivered batches wait while the API is down. */
  BUFFER_DIR: z.string().min(1).default('./data/vision-buffer'),
  /** 64 MiB: about a day of aggregates for 20 cameras; beyond it the oldest batches are dropped (and counted). */
  BUFFER_MAX_BYTES: int(1024, 1024 ** 4).default(64 * 1024 * 1024),
  /** Prometheus /metrics, /health and /snapshot/:cameraId. */
  METRICS_PORT: int(0, 65_535).default(9464),
  /** Loopback: metrics and snapshots are not for the network unless a deployment says so. */
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** 30 s: new or edited cameras start within half a minute without hammering the API. */
  CAMERA_REFRESH_MS: int(1000, 3_600_000).default(30_000),
  /** 10 s: the dashboard shows a camera offline within one heartbeat of the worker noticing. */
  HEARTBEAT_MS: int(500, 600_000).default(10_000),
  /** Frames waiting per camera before the oldest is dropped. 8: under 2 s at 5 fps; older frames are stale. */
  QUEUE_CAPACITY: int(1, 1000).default(8),
  /**
   * Fraction of pixels whose grey level changes by more than 25 (against the last inferred frame) that
   * counts as motion. 0.002: a small far vehicle covers about that much of a frame; 0 infers every frame.
   */
  MOTION_THRESHOLD: z.coerce
    .number({ message: 'must be a number' })
    .min(0, 'must be between 0 and 1')
    .max(1, 'must be between 0 and 1')
    .default(0.002),
  /** Play file:// cameras at their own frame rate and loop them, like a live camera (false: as fast as possible, once). */
  FILE_REALTIME: z
    .enum(['true', 'false', '1', '0'], { message: 'use true or false' })
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug', 'silent']).default('info'),
  /**
   * 10 s: how often the minutes still being counted are sent as partial figures (under a lease). A
   * worker killed mid-minute then loses at most this much of that minute's counts. 0: never.
   */
  PARTIAL_FLUSH_MS: int(0, 600_000).default(10_000),
  /** Shown in the API's GET /api/v1/workers and the dashboard's System page. Default: the host name. */
  WORKER_NAME: z
    .string()
    .max(120, 'must be at most 120 characters')
    .default(() => hostname().slice(0, 120)),
  /**
   * Most cameras this worker takes by lease. 8: one worker on our 2 cores serves 4 cameras at about
   * 14 fps each (docs/benchmarks.md); at 8 each gets about 7 fps, still above TARGET_FPS 5.
   */
  MAX_CAMERAS: int(1, 10_000).default(8),
});
export type WorkerConfig = z.output<typeof WorkerEnv>;

/** Parses `env`; throws ConfigError listing every bad variable by name. Empty strings mean unset. */
export function parseWorkerConfig(env: Record<string, string | undefined>): WorkerConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = WorkerEnv.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  return parsed.data;
}

/** The config with the API key replaced, safe to log. */
export function redactConfig(config: WorkerConfig): Record<string, unknown> {
  return { ...config, API_KEY: '[REDACTED]' };
}
