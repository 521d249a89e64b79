/**
 * The wire contract between the API (apps/api), the vision worker (apps/vision) and the dashboard
 * (apps/web). Everything that crosses a process boundary is described here once, with zod, so that
 * each side validates the same shapes and the OpenAPI document is generated from them.
 *
 * Geometry is in normalised image coordinates (0..1 on both axes, origin top-left) so that a camera's
 * lines and zones survive a change of stream resolution. Ground coordinates are metres.
 */
import { z } from 'zod';
import { ingestTimestamp, queryTimestamp, streamUrl, text, hasNul, NUL_MESSAGE } from './input-rules.js';

export {
  CONTROL_MESSAGE,
  EARLIEST_TIMESTAMP,
  LATEST_QUERY_TIMESTAMP,
  MAX_INGEST_AHEAD_MS,
  NUL_MESSAGE,
  STREAM_URL_SCHEMES,
  checkIngestedTime,
  findIngestTimeIssues,
  hasControlCharacter,
  hasNul,
  ingestTimestamp,
  queryTimestamp,
  streamUrl,
  text,
} from './input-rules.js';

export const VEHICLE_CLASSES = ['car', 'bus', 'truck', 'motorcycle', 'bicycle', 'person'] as const;
export const VehicleClass = z.enum(VEHICLE_CLASSES);
export type VehicleClass = z.infer<typeof VehicleClass>;

/** Which way an object crossed a count line: `forward` is left-to-right when looking from `a` to `b`. */
export const CrossingDirection = z.enum(['forward', 'reverse']);
export type CrossingDirection = z.infer<typeof CrossingDirection>;

const unit = z.number().min(0).max(1);
export const ImagePoint = z.object({ x: unit, y: unit }).strict();
export type ImagePoint = z.infer<typeof ImagePoint>;
export const GroundPoint = z.object({ x: z.number().finite(), y: z.number().finite() }).strict();
export type GroundPoint = z.infer<typeof GroundPoint>;

const slug = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'use lower-case letters, digits, "-" or "_" (e.g. "northbound-1")');

export const CountLine = z
  .object({
    id: slug,
    name: text(120),
    a: ImagePoint,
    b: ImagePoint,
    lane: text(64),
    /** Which crossings count: only forward, only reverse, or both (each tagged with its direction). */
    direction: z.enum(['forward', 'reverse', 'both']).default('both'),
  })
  .strict()
  .refine((l) => l.a.x !== l.b.x || l.a.y !== l.b.y, { message: 'a and b must differ', path: ['b'] });
export type CountLine = z.infer<typeof CountLine>;

export const Zone = z
  .object({
    id: slug,
    name: text(120),
    polygon: z.array(ImagePoint).min(3).max(64),
    lane: text(64).optional(),
  })
  .strict();
export type Zone = z.infer<typeof Zone>;

/** Four image points and the ground points (metres) they correspond to; defines a homography. */
export const SpeedCalibration = z
  .object({
    imagePoints: z.array(ImagePoint).length(4),
    groundPoints: z.array(GroundPoint).length(4),
  })
  .strict();
export type SpeedCalibration = z.infer<typeof SpeedCalibration>;

export const Location = z
  .object({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) })
  .strict();

export const CameraStatusState = z.enum(['unknown', 'starting', 'online', 'offline']);
export type CameraStatusState = z.infer<typeof CameraStatusState>;

/**
 * A new camera. `cameraInputSchema({ allowFile: true })` also accepts `file://` stream URLs (the API's
 * ALLOW_FILE_STREAM_URLS, for tests and demos); `CameraInput` does not.
 */
export const cameraInputSchema = (options: { allowFile?: boolean } = {}) =>
  z
    .object({
      name: text(120),
      streamUrl: streamUrl(options),
      location: Location,
      lines: z.array(CountLine).max(32).default([]),
      zones: z.array(Zone).max(32).default([]),
      calibration: SpeedCalibration.nullable().default(null),
      enabled: z.boolean().default(true),
    })
    .strict()
    .superRefine((c, ctx) => {
      const dup = (ids: string[], path: string) => {
        const seen = new Set<string>();
        ids.forEach((id, i) => {
          if (seen.has(id))
            ctx.addIssue({ code: 'custom', message: `duplicate id "${id}"`, path: [path, i, 'id'] });
          seen.add(id);
        });
      };
      dup(
        c.lines.map((l) => l.id),
        'lines',
      );
      dup(
        c.zones.map((z) => z.id),
        'zones',
      );
    });
export const CameraInput = cameraInputSchema();
export type CameraInput = z.input<typeof CameraInput>;

/** Some of a camera's fields; `allowFile` as for {@link cameraInputSchema}. */
export const cameraPatchSchema = (options: { allowFile?: boolean } = {}) =>
  z
    .object({
      name: text(120),
      streamUrl: streamUrl(options),
      location: Location,
      lines: z.array(CountLine).max(32),
      zones: z.array(Zone).max(32),
      calibration: SpeedCalibration.nullable(),
      enabled: z.boolean(),
    })
    .partial()
    .strict();
export const CameraPatch = cameraPatchSchema();
export type CameraPatch = z.infer<typeof CameraPatch>;

export const Camera = z.object({
  id: z.string().uuid(),
  name: z.string(),
  streamUrl: z.string(),
  location: Location,
  lines: z.array(CountLine),
  zones: z.array(Zone),
  calibration: SpeedCalibration.nullable(),
  enabled: z.boolean(),
  status: z.object({
    state: CameraStatusState,
    reason: z.string().nullable(),
    lastSeenAt: z.string().datetime().nullable(),
  }),
  createdAt: z.string().datetime(),
  updatedAt: z.string().datetime(),
});
export type Camera = z.infer<typeof Camera>;

export const Page = <T extends z.ZodTypeAny>(item: T) =>
  z.object({
    items: z.array(item),
    total: z.number().int(),
    limit: z.number().int(),
    offset: z.number().int(),
  });

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

/**
 * What a worker holding a camera by lease stamps on each item it sends (absent: a worker from before
 * leases, whose writes are taken as before). `epoch` is the lease's fencing token: the API refuses (409)
 * an item timed at or after the end of its epoch's lease, since another worker may hold the camera then.
 */
const leaseEpoch = z.number().int().min(1).max(2_147_483_647);

/** One object crossing one count line. `id` is chosen by the worker so a retried batch is a no-op. */
export const CrossingEvent = z
  .object({
    id: z.string().uuid(),
    cameraId: z.string().uuid(),
    lineId: slug,
    lane: text(64),
    class: VehicleClass,
    direction: CrossingDirection,
    /** Not before EARLIEST_TIMESTAMP; the API also refuses more than MAX_INGEST_AHEAD_MS ahead of its clock. */
    ts: ingestTimestamp(),
    speedKmh: z.number().min(0).max(400).nullable().default(null),
    trackId: z
      .string()
      .max(64)
      .refine((s) => !hasNul(s), NUL_MESSAGE)
      .nullable()
      .default(null),
    /** The lease epoch it was counted under (see leaseEpoch). */
    epoch: leaseEpoch.optional(),
  })
  .strict();
export type CrossingEvent = z.infer<typeof CrossingEvent>;

export const CrossingEventBatch = z.object({ events: z.array(CrossingEvent).min(1).max(5000) }).strict();
export type CrossingEventBatch = z.input<typeof CrossingEventBatch>;

/**
 * A 60-second interval aggregate (NTCIP 1209 style) for one camera × lane × class.
 * Ingestion keys it on (cameraId, intervalStart, lane, class, session): a re-sent batch replaces its own
 * session's figures, never adds; two sessions' figures for one minute (a worker restarted, a camera
 * handed to another worker inside the minute) add up. The stored minute is their combination: volumes
 * summed, occupancy weighted by each session's observed time, speeds weighted by volume.
 */
export const IntervalAggregate = z
  .object({
    cameraId: z.string().uuid(),
    /** Not before EARLIEST_TIMESTAMP; the API also refuses more than MAX_INGEST_AHEAD_MS ahead of its clock. */
    intervalStart: ingestTimestamp().refine(
      (s) => new Date(s).getTime() % 60_000 === 0,
      'must be aligned to a whole minute',
    ),
    lane: text(64),
    class: VehicleClass,
    volume: z.number().int().min(0).max(100_000),
    occupancyPct: z.number().min(0).max(100),
    meanSpeedKmh: z.number().min(0).max(400).nullable(),
    p85SpeedKmh: z.number().min(0).max(400).nullable(),
    /** The counting session (one worker pipeline of the camera); absent: the nil session (replace on re-send). */
    session: z.string().uuid().optional(),
    /** How much of the minute the session observed, ms (its occupancy's denominator); absent: all of it. */
    observedMs: z.number().int().min(0).max(60_000).optional(),
    /** The lease epoch it was counted under (see leaseEpoch). */
    epoch: leaseEpoch.optional(),
    /**
     * The session's figures so far for a minute it is still counting (sent every PARTIAL_FLUSH_MS):
     * not part of the stored minute unless the session's lease ends before its final figures arrive
     * (a worker killed mid-minute then loses only what it counted since).
     */
    partial: z.boolean().optional(),
  })
  .strict();
export type IntervalAggregate = z.infer<typeof IntervalAggregate>;

export const AggregateBatch = z.object({ aggregates: z.array(IntervalAggregate).min(1).max(5000) }).strict();
export type AggregateBatch = z.infer<typeof AggregateBatch>;

/** Worker heartbeat: what it sees of each camera it serves. */
export const CameraStatusReport = z
  .object({
    cameras: z
      .array(
        z
          .object({
            cameraId: z.string().uuid(),
            state: CameraStatusState,
            reason: z
              .string()
              .max(500)
              .refine((s) => !hasNul(s), NUL_MESSAGE)
              .nullable()
              .default(null),
            fps: z.number().min(0).max(1000).nullable().default(null),
            /** The reporter's lease epoch: a report under an ended epoch is ignored (counted as a duplicate). */
            epoch: leaseEpoch.optional(),
          })
          .strict(),
      )
      .min(1)
      .max(500),
  })
  .strict();
export type CameraStatusReport = z.input<typeof CameraStatusReport>;

export const IngestResult = z.object({ accepted: z.number().int(), duplicates: z.number().int() });
export type IngestResult = z.infer<typeof IngestResult>;

export const BUCKETS = ['1m', '15m', '1h', '1d'] as const;
export const Bucket = z.enum(BUCKETS);
export type Bucket = z.infer<typeof Bucket>;
export const BUCKET_SECONDS: Record<Bucket, number> = { '1m': 60, '15m': 900, '1h': 3600, '1d': 86_400 };

export const AggregateQuery = z
  .object({
    cameraId: z.string().uuid().optional(),
    lane: text(64).optional(),
    class: VehicleClass.optional(),
    from: queryTimestamp(),
    to: queryTimestamp(),
    bucket: Bucket.default('15m'),
    /** Split each bucket by these dimensions; by default buckets sum over all of them. */
    groupBy: z
      .string()
      .regex(/^(lane|class|camera)(,(lane|class|camera))*$/, 'a comma-separated list of lane, class, camera')
      .optional(),
  })
  .refine((q) => new Date(q.from) < new Date(q.to), { message: 'must be before "to"', path: ['from'] });
export type AggregateQuery = z.input<typeof AggregateQuery>;

export const AggregateBucket = z.object({
  start: z.string().datetime(),
  cameraId: z.string().uuid().optional(),
  lane: z.string().optional(),
  class: VehicleClass.optional(),
  volume: z.number().int(),
  /**
   * Mean occupancy over the bucket's countable minutes and its series: Σ stored occupancyPct / countable
   * minutes / series. A minute without a stored interval counts as 0 % (the worker stores only minutes
   * with data). Countable minutes: the bucket's minutes that start within [from, to) and have ended by
   * the time of the query, so an edge bucket uses only its minutes inside the range and the current
   * bucket only its elapsed minutes (a stored minute always counts). Series: the camera × lane × class
   * present in the group's bucket, so a group over several lanes or classes gets the mean over them.
   */
  occupancyPct: z.number(),
  /** Volume-weighted mean speed. */
  meanSpeedKmh: z.number().nullable(),
  /** Volume-weighted mean of the intervals' 85th percentiles (an approximation, documented as such). */
  p85SpeedKmh: z.number().nullable(),
});
export type AggregateBucket = z.infer<typeof AggregateBucket>;
export const AggregateSeries = z.object({
  bucket: Bucket,
  from: z.string(),
  to: z.string(),
  buckets: z.array(AggregateBucket),
});
export type AggregateSeries = z.infer<typeof AggregateSeries>;

/** Live events on `GET /api/v1/stream` (Server-Sent Events); the SSE `event:` field is `type`. */
export const LiveEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('crossing'), data: CrossingEvent }),
  z.object({ type: z.literal('aggregate'), data: IntervalAggregate }),
  z.object({
    type: z.literal('camera-status'),
    data: z.object({ cameraId: z.string().uuid(), state: CameraStatusState, reason: z.string().nullable() }),
  }),
  /**
   * A camera was created, edited or removed (its lease holder re-reads it at once), or its lease ended
   * (`released`: a worker with room takes it at once).
   */
  z.object({
    type: z.literal('camera-changed'),
    data: z.object({
      cameraId: z.string().uuid(),
      change: z.enum(['created', 'updated', 'deleted', 'released']),
    }),
  }),
]);
export type LiveEvent = z.infer<typeof LiveEvent>;

export const Detection = z.object({
  class: VehicleClass,
  score: z.number().min(0).max(1),
  /** Normalised box: x, y top-left, w, h. */
  box: z.object({ x: z.number(), y: z.number(), w: z.number(), h: z.number() }),
});
export type Detection = z.infer<typeof Detection>;

export const HealthCheckEntry = z.object({
  name: z.string(),
  status: z.enum(['ok', 'fail', 'skipped']),
  durationMs: z.number(),
  reason: z.string().nullable(),
});
export const ReadinessReport = z.object({
  status: z.enum(['ok', 'fail']),
  version: z.string(),
  checks: z.array(HealthCheckEntry),
});
export type ReadinessReport = z.infer<typeof ReadinessReport>;

export const ErrorBody = z.object({
  statusCode: z.number().int(),
  error: z.string(),
  message: z.string(),
  reqId: z.string().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** The API's routes, named once so clients never spell them twice. */
export const API_ROUTES = {
  health: '/health',
  ready: '/health/ready',
  metrics: '/metrics',
  cameras: '/api/v1/cameras',
  camera: (id: string) => `/api/v1/cameras/${encodeURIComponent(id)}`,
  ingestEvents: '/api/v1/ingest/events',
  ingestAggregates: '/api/v1/ingest/aggregates',
  ingestStatus: '/api/v1/ingest/status',
  aggregates: '/api/v1/aggregates',
  latestCounts: '/api/v1/counts/latest',
  totals: '/api/v1/totals',
  stream: '/api/v1/stream',
  detect: '/api/v1/detect',
  workers: '/api/v1/workers',
  workerHeartbeat: '/api/v1/workers/heartbeat',
  apiKeys: '/api/v1/admin/api-keys',
  /**
   * GET with an API key: 204 when the key is valid, 401 otherwise (lets a deployment verify a stored key);
   * with `?scopes=ingest,read`, 403 naming the scopes the key lacks.
   */
  authCheck: '/api/v1/auth/check',
} as const;

// ---------------------------------------------------------------------------------------------
// Additions for the API's read models (additive; added by the API engineer).

/** `GET /health` (liveness). */
export const HealthStatus = z.object({ status: z.literal('ok'), version: z.string(), uptimeS: z.number() });
export type HealthStatus = z.infer<typeof HealthStatus>;

/** `GET /api/v1/counts/latest`: each camera's most recent stored interval, split by lane × class. */
export const LatestCountsQuery = z.object({ cameraId: z.string().uuid().optional() });
export type LatestCountsQuery = z.input<typeof LatestCountsQuery>;
export const LaneClassCount = z.object({
  lane: z.string(),
  class: VehicleClass,
  volume: z.number().int(),
  occupancyPct: z.number(),
  meanSpeedKmh: z.number().nullable(),
  p85SpeedKmh: z.number().nullable(),
});
export type LaneClassCount = z.infer<typeof LaneClassCount>;
export const CameraLatestCounts = z.object({
  cameraId: z.string().uuid(),
  /** Start of the camera's latest stored interval; null when nothing was ingested yet. */
  intervalStart: z.string().datetime().nullable(),
  /** Sum of `counts[].volume`. */
  volume: z.number().int(),
  counts: z.array(LaneClassCount),
});
export type CameraLatestCounts = z.infer<typeof CameraLatestCounts>;
export const LatestCounts = z.object({ items: z.array(CameraLatestCounts) });
export type LatestCounts = z.infer<typeof LatestCounts>;

/** `GET /api/v1/totals`: sums over stored intervals and crossings, optionally within [from, to). */
export const TotalsQuery = z
  .object({
    cameraId: z.string().uuid().optional(),
    from: queryTimestamp().optional(),
    to: queryTimestamp().optional(),
  })
  .refine((q) => !q.from || !q.to || new Date(q.from) < new Date(q.to), {
    message: 'must be before "to"',
    path: ['from'],
  });
export type TotalsQuery = z.input<typeof TotalsQuery>;
export const Totals = z.object({
  from: z.string().nullable(),
  to: z.string().nullable(),
  /** Cameras configured (or 1/0 when filtered by cameraId). */
  cameras: z.number().int(),
  /** Sum of interval volumes. */
  volume: z.number().int(),
  /** Number of stored interval aggregates. */
  intervals: z.number().int(),
  /** Number of stored crossing events. */
  crossings: z.number().int(),
  byClass: z.array(z.object({ class: VehicleClass, volume: z.number().int() })),
});
export type Totals = z.infer<typeof Totals>;

/** `GET /api/v1/stream` query. */
export const StreamQuery = z.object({ cameraId: z.string().uuid().optional() });

/**
 * What an API key may do (the ADMIN_TOKEN may do all of it):
 * - `ingest`: crossing events, aggregates and status heartbeats (the vision worker); also sees cameras'
 *   stream URLs unmasked, since the worker must open them.
 * - `read`: the query routes when API_KEYS_READ_REQUIRED is on (they are open otherwise).
 * - `cameras:write`: create, update and delete cameras and their geometry (also sees stream URLs).
 */
export const API_KEY_SCOPES = ['ingest', 'read', 'cameras:write'] as const;
export const ApiKeyScope = z.enum(API_KEY_SCOPES, {
  error: (issue) =>
    `unknown scope ${JSON.stringify(issue.input)}; valid scopes: ${API_KEY_SCOPES.join(', ')}`,
});
export type ApiKeyScope = z.infer<typeof ApiKeyScope>;
/** Scopes of a key created without naming any, and of keys created before scopes existed. */
export const DEFAULT_API_KEY_SCOPES: readonly ApiKeyScope[] = ['ingest', 'read'];

/** `POST /api/v1/admin/api-keys` (Authorization: Bearer <ADMIN_TOKEN>). */
export const ApiKeyCreate = z
  .object({
    name: text(120),
    /** Default: DEFAULT_API_KEY_SCOPES (ingest, read). Camera writes need `cameras:write` named here. */
    scopes: z.array(ApiKeyScope).min(1).max(API_KEY_SCOPES.length).optional(),
  })
  .strict();
export type ApiKeyCreate = z.input<typeof ApiKeyCreate>;
export const ApiKeyCreated = z.object({
  id: z.string().uuid(),
  name: z.string(),
  prefix: z.string(),
  /** The secret; shown once, stored only as a SHA-256 hash. */
  key: z.string(),
  /** What the key may do (sorted, no duplicates). */
  scopes: z.array(ApiKeyScope),
  createdAt: z.string().datetime(),
});
export type ApiKeyCreated = z.infer<typeof ApiKeyCreated>;

/** Splits `ingest, read` into scope names; unknown names are returned apart, in order. */
export function splitScopeList(list: string): { scopes: ApiKeyScope[]; unknown: string[] } {
  const scopes: ApiKeyScope[] = [];
  const unknown: string[] = [];
  for (const name of list.split(',').map((x) => x.trim())) {
    if (name === '') continue;
    if ((API_KEY_SCOPES as readonly string[]).includes(name)) scopes.push(name as ApiKeyScope);
    else unknown.push(name);
  }
  return { scopes, unknown };
}

/** `GET /api/v1/auth/check` query: the scopes the key must have, comma-separated (none: any valid key). */
export const AuthCheckQuery = z.object({
  scopes: z
    .string()
    .max(200)
    .optional()
    .superRefine((list, ctx) => {
      const { unknown } = splitScopeList(list ?? '');
      if (unknown.length > 0)
        ctx.addIssue({
          code: 'custom',
          message: `unknown scope ${unknown.map((u) => JSON.stringify(u)).join(', ')}; valid scopes: ${API_KEY_SCOPES.join(', ')}`,
        });
    }),
});
export type AuthCheckQuery = z.input<typeof AuthCheckQuery>;

/** `POST /api/v1/detect` (body: image/jpeg). */
export const DetectResult = z.object({ detections: z.array(Detection), durationMs: z.number() });
export type DetectResult = z.infer<typeof DetectResult>;

// ---------------------------------------------------------------------------------------------
// Camera leases: many workers share the cameras, each camera held by exactly one at a time.

/** Default lease TTL: a dead worker's cameras move to live workers this long after its last heartbeat. */
export const DEFAULT_LEASE_TTL_MS = 15_000;

export const LeaseRef = z.object({ cameraId: z.string().uuid(), epoch: leaseEpoch }).strict();
export type LeaseRef = z.infer<typeof LeaseRef>;

/**
 * `POST /api/v1/workers/heartbeat` (ingest scope): registers the worker on its first call, renews the
 * leases it still holds, ends the ones it released, and answers with every lease it holds now — new
 * grants included — and the ones it should hand off.
 */
export const WorkerHeartbeat = z
  .object({
    /** Drawn by the worker process at start: a restarted worker is a new worker. */
    workerId: z.string().uuid(),
    name: text(120),
    version: text(64).nullable().default(null),
    /** Most cameras this worker serves at once. */
    capacity: z.number().int().min(1).max(10_000),
    /** Only these cameras (the worker's CAMERA_IDS); null: any enabled camera. */
    cameraIds: z.array(z.string().uuid()).max(10_000).nullable().default(null),
    /** Leases the worker runs now (renewed when still its own). */
    held: z.array(LeaseRef).max(10_000).default([]),
    /** Leases the worker has stopped and flushed (hand-off, camera edit, shutdown): ended now. */
    released: z.array(LeaseRef).max(10_000).default([]),
    /** The worker is shutting down: every lease it holds ends now, it gets none, and it stops counting as live. */
    leaving: z.boolean().default(false),
  })
  .strict();
export type WorkerHeartbeat = z.input<typeof WorkerHeartbeat>;

export const CameraLease = z.object({
  cameraId: z.string().uuid(),
  epoch: z.number().int(),
  grantedAt: z.string().datetime(),
  expiresAt: z.string().datetime(),
  /** The camera as the worker needs it (stream URL unmasked: the caller has the ingest scope). */
  camera: Camera,
});
export type CameraLease = z.infer<typeof CameraLease>;

export const WorkerLeases = z.object({
  ttlMs: z.number().int(),
  /** Every lease the worker holds after this call. A camera it runs that is missing here is no longer its own. */
  leases: z.array(CameraLease),
  /** Leases to stop, flush and release (a fair share for a joining worker, a disabled camera). */
  handOff: z.array(LeaseRef),
});
export type WorkerLeases = z.infer<typeof WorkerLeases>;

/** `GET /api/v1/workers`: the worker tier at a glance. */
export const WorkerInfo = z.object({
  id: z.string().uuid(),
  name: z.string(),
  version: z.string().nullable(),
  capacity: z.number().int(),
  live: z.boolean(),
  registeredAt: z.string().datetime(),
  heartbeatAt: z.string().datetime(),
  /** Seconds since the last heartbeat. */
  heartbeatAgeS: z.number(),
  cameras: z.array(
    z.object({
      cameraId: z.string().uuid(),
      epoch: z.number().int(),
      grantedAt: z.string().datetime(),
      /** Seconds since the lease was granted. */
      leaseAgeS: z.number(),
      /** Seconds since it was last renewed. */
      renewedAgeS: z.number(),
      handOffRequested: z.boolean(),
    }),
  ),
});
export type WorkerInfo = z.infer<typeof WorkerInfo>;
export const WorkerList = z.object({
  ttlMs: z.number().int(),
  workers: z.array(WorkerInfo),
  /** Enabled cameras no live worker holds. */
  unassigned: z.array(z.string().uuid()),
});
export type WorkerList = z.infer<typeof WorkerList>;
