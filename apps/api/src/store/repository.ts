/**
 * Every query the API runs, written once over the `Db` seam, so PostgreSQL and the embedded PGlite
 * store execute the same SQL. Numbers are cast in SQL (`::int`, `::float8`) because the two drivers
 * disagree on how they return bigint.
 */
import type {
  AggregateBucket,
  Camera,
  CameraLatestCounts,
  CameraPatch,
  CameraStatusState,
  CrossingEvent,
  IntervalAggregate,
  Totals,
  VehicleClass,
  CountLine,
  Zone,
  SpeedCalibration,
} from '@its/contracts';
import type { Db, Queryable } from '../db/db.js';
import { notFound } from '../errors.js';
import { mapInSlices } from '../event-loop.js';
import { CLAIM_ROLLUPS, combineContributions, planTouchedHours } from './contributions.js';
import { fenceItems, openEpochs } from './leases.js';
import { planTotalsByClass } from './totals-query.js';
import {
  planAggregateQuery,
  toAggregateBucket,
  toIso,
  type AggregateFilter,
  type AggregateRow,
} from './aggregate-query.js';

/** A camera as validated by `CameraInput` (defaults applied). */
export interface NewCamera {
  name: string;
  streamUrl: string;
  location: { lat: number; lon: number };
  lines: CountLine[];
  zones: Zone[];
  calibration: SpeedCalibration | null;
  enabled: boolean;
}

export interface StatusUpdate {
  cameraId: string;
  state: CameraStatusState;
  reason: string | null;
  fps: number | null;
  /** The reporter's lease epoch; a report under an epoch that is not the camera's open one is ignored. */
  epoch?: number | undefined;
}

/** The session of minutes written without one (before sessions existed): re-sent, they replace. */
export const NIL_SESSION = '00000000-0000-0000-0000-000000000000';

export interface ApiKeyRow {
  id: string;
  name: string;
  prefix: string;
  keyHash: string;
  createdAt: string;
  lastUsedAt: string | null;
  revoked: boolean;
}

export interface InsertResult<T> {
  accepted: number;
  duplicates: number;
  /** What is newly stored (events) or stored with new values (aggregates): what to publish live. */
  stored: T[];
}

interface CameraRow {
  id: string;
  name: string;
  stream_url: string;
  lat: number;
  lon: number;
  geometry: { lines?: CountLine[]; zones?: Zone[]; calibration?: SpeedCalibration | null };
  enabled: boolean;
  status_state: CameraStatusState;
  status_reason: string | null;
  last_seen_at: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

const CAMERA_COLUMNS = `id, name, stream_url, lat, lon, geometry, enabled, status_state, status_reason, last_seen_at, created_at, updated_at`;

function toCamera(r: CameraRow): Camera {
  return {
    id: r.id,
    name: r.name,
    streamUrl: r.stream_url,
    location: { lat: Number(r.lat), lon: Number(r.lon) },
    lines: r.geometry.lines ?? [],
    zones: r.geometry.zones ?? [],
    calibration: r.geometry.calibration ?? null,
    enabled: r.enabled,
    status: {
      state: r.status_state,
      reason: r.status_reason,
      lastSeenAt: r.last_seen_at === null ? null : toIso(r.last_seen_at),
    },
    createdAt: toIso(r.created_at),
    updatedAt: toIso(r.updated_at),
  };
}

/** The cameras with these ids (any order; missing ids are absent). */
export async function loadCameras(q: Queryable, ids: readonly string[]): Promise<Camera[]> {
  if (ids.length === 0) return [];
  const res = await q.query<CameraRow>(`SELECT ${CAMERA_COLUMNS} FROM cameras WHERE id = ANY($1::uuid[])`, [
    [...new Set(ids)],
  ]);
  return res.rows.map(toCamera);
}

const geometryOf = (c: Pick<NewCamera, 'lines' | 'zones' | 'calibration'>) =>
  JSON.stringify({ lines: c.lines, zones: c.zones, calibration: c.calibration });

/** Throws 404 naming the first item whose camera does not exist, e.g. `body/events/3/cameraId: …`. */
async function assertCamerasExist(q: Queryable, ids: readonly string[], path: string): Promise<void> {
  const unique = [...new Set(ids)];
  const res = await q.query<{ id: string }>('SELECT id FROM cameras WHERE id = ANY($1::uuid[])', [unique]);
  const known = new Set(res.rows.map((r) => r.id));
  const index = ids.findIndex((id) => !known.has(id));
  if (index >= 0) throw notFound(`body/${path}/${index}/cameraId: camera "${ids[index]}" not found`);
}

/**
 * Last one wins: a batch may carry the same key twice (a worker retrying inside one flush). The result
 * is sorted by key so that concurrent batches lock rows in the same order and cannot deadlock.
 */
function dedupeBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  const map = new Map<string, T>();
  for (const item of items) map.set(key(item), item);
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, item]) => item);
}

export { planTouchedHours } from './contributions.js';

export interface RepositoryOptions {
  /**
   * Default 'rollup': hourly and daily aggregate queries read whole past hours from the hourly rollup.
   * 'raw' reads every minute: the reference the rollup is tested against, and a way out should a
   * rollup ever be suspected of drifting.
   */
  aggregateSource?: 'rollup' | 'raw';
}

export function createRepository(db: Db, opts: RepositoryOptions = {}) {
  const rollup = (opts.aggregateSource ?? 'rollup') === 'rollup';
  return {
    db,

    async createCamera(id: string, input: NewCamera, now: Date): Promise<Camera> {
      const res = await db.query<CameraRow>(
        `INSERT INTO cameras (id, name, stream_url, lat, lon, geometry, enabled, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $8) RETURNING ${CAMERA_COLUMNS}`,
        [
          id,
          input.name,
          input.streamUrl,
          input.location.lat,
          input.location.lon,
          geometryOf(input),
          input.enabled,
          now,
        ],
      );
      return toCamera(res.rows[0]!);
    },

    async listCameras(page: { limit: number; offset: number }): Promise<{ items: Camera[]; total: number }> {
      const [rows, count] = await Promise.all([
        db.query<CameraRow>(
          `SELECT ${CAMERA_COLUMNS} FROM cameras ORDER BY created_at, id LIMIT $1 OFFSET $2`,
          [page.limit, page.offset],
        ),
        db.query<{ n: number }>('SELECT count(*)::int AS n FROM cameras'),
      ]);
      return { items: rows.rows.map(toCamera), total: count.rows[0]?.n ?? 0 };
    },

    async getCamera(id: string): Promise<Camera | undefined> {
      const res = await db.query<CameraRow>(`SELECT ${CAMERA_COLUMNS} FROM cameras WHERE id = $1`, [id]);
      return res.rows[0] ? toCamera(res.rows[0]) : undefined;
    },

    async updateCamera(id: string, patch: CameraPatch, now: Date): Promise<Camera | undefined> {
      return db.transaction(async (tx) => {
        const cur = await tx.query<CameraRow>(
          `SELECT ${CAMERA_COLUMNS} FROM cameras WHERE id = $1 FOR UPDATE`,
          [id],
        );
        if (!cur.rows[0]) return undefined;
        const c = toCamera(cur.rows[0]);
        const next: NewCamera = {
          name: patch.name ?? c.name,
          streamUrl: patch.streamUrl ?? c.streamUrl,
          location: patch.location ?? c.location,
          lines: patch.lines ?? c.lines,
          zones: patch.zones ?? c.zones,
          calibration: patch.calibration === undefined ? c.calibration : patch.calibration,
          enabled: patch.enabled ?? c.enabled,
        };
        const res = await tx.query<CameraRow>(
          `UPDATE cameras SET name = $2, stream_url = $3, lat = $4, lon = $5, geometry = $6::jsonb, enabled = $7, updated_at = $8
           WHERE id = $1 RETURNING ${CAMERA_COLUMNS}`,
          [
            id,
            next.name,
            next.streamUrl,
            next.location.lat,
            next.location.lon,
            geometryOf(next),
            next.enabled,
            now,
          ],
        );
        return toCamera(res.rows[0]!);
      });
    },

    async deleteCamera(id: string): Promise<boolean> {
      const res = await db.query('DELETE FROM cameras WHERE id = $1', [id]);
      return res.rowCount > 0;
    },

    async cameraExists(id: string): Promise<boolean> {
      const res = await db.query('SELECT 1 FROM cameras WHERE id = $1', [id]);
      return res.rows.length > 0;
    },

    /** Stores new events, ignores known ids; one transaction. Fenced by lease epoch (store/leases.ts). */
    async insertEvents(
      events: readonly CrossingEvent[],
      now: Date = new Date(),
    ): Promise<InsertResult<CrossingEvent>> {
      return db.transaction(async (tx) => {
        await assertCamerasExist(
          tx,
          events.map((e) => e.cameraId),
          'events',
        );
        await fenceItems(
          tx,
          events.map((e, i) => ({ cameraId: e.cameraId, epoch: e.epoch, at: e.ts, path: `events/${i}` })),
          now,
        );
        const rows = dedupeBy(events, (e) => e.id);
        const res = await tx.query<{ id: string }>(
          `INSERT INTO crossing_events (id, camera_id, line_id, lane, class, direction, ts, speed_kmh, track_id)
           SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::float8[], $9::text[])
           ON CONFLICT (id) DO NOTHING RETURNING id`,
          [
            rows.map((e) => e.id),
            rows.map((e) => e.cameraId),
            rows.map((e) => e.lineId),
            rows.map((e) => e.lane),
            rows.map((e) => e.class),
            rows.map((e) => e.direction),
            rows.map((e) => e.ts),
            rows.map((e) => e.speedKmh),
            rows.map((e) => e.trackId),
          ],
        );
        const inserted = new Set(res.rows.map((r) => r.id));
        const stored = rows.filter((e) => inserted.has(e.id));
        return { accepted: stored.length, duplicates: events.length - stored.length, stored };
      });
    },

    /**
     * Stores each session's figures for its minutes — inserted, or replacing that same session's on a
     * re-send; partial figures of a minute still being counted (`partial`) replace the session's earlier
     * partial ones, never its final ones — and recomputes the touched minutes of interval_aggregates as
     * the combination of every session's final figures (store/contributions.ts); one transaction, fenced by lease epoch (store/leases.ts). The
     * hourly rollup of the touched hours is recomputed by the table's triggers (migration 3) inside this
     * transaction, so a batch whose rollup cannot be updated stores nothing. `stored` holds the combined
     * minutes: what live viewers must see.
     */
    async upsertAggregates(
      aggregates: readonly IntervalAggregate[],
      now: Date,
    ): Promise<InsertResult<IntervalAggregate>> {
      return db.transaction(async (tx) => {
        await assertCamerasExist(
          tx,
          aggregates.map((a) => a.cameraId),
          'aggregates',
        );
        await fenceItems(
          tx,
          aggregates.map((a, i) => ({
            cameraId: a.cameraId,
            epoch: a.epoch,
            at: a.intervalStart,
            path: `aggregates/${i}`,
          })),
          now,
        );
        const rows = dedupeBy(
          aggregates,
          (a) =>
            `${a.cameraId}|${new Date(a.intervalStart).getTime()}|${a.lane}|${a.class}|${a.session ?? NIL_SESSION}`,
        );
        // Locks the touched hours first, in key order: a concurrent batch of another session for the
        // same minute waits here, and its recompute then sees this one's contribution.
        await tx.query(CLAIM_ROLLUPS, planTouchedHours(rows));
        const sessionKeys = [
          rows.map((a) => a.cameraId),
          rows.map((a) => a.intervalStart),
          rows.map((a) => a.lane),
          rows.map((a) => a.class),
          rows.map((a) => a.session ?? NIL_SESSION),
        ];
        // Which of them this session already sent: counted before the write rather than read from
        // RETURNING xmax, which PostgreSQL refuses on a partitioned table (the table is to be
        // partitioned by time in a later release, which must not break this one's ingestion).
        const known = await tx.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM interval_contributions c
           JOIN unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::uuid[]) AS k(camera_id, interval_start, lane, class, session_id)
             ON c.camera_id = k.camera_id AND c.interval_start = k.interval_start AND c.lane = k.lane
               AND c.class = k.class AND c.session_id = k.session_id`,
          sessionKeys,
        );
        await tx.query(
          // A session's partial figures never replace its final ones (a late, reordered partial).
          `INSERT INTO interval_contributions AS c
             (camera_id, interval_start, lane, class, session_id, volume, occupancy_pct, observed_ms, mean_speed_kmh, p85_speed_kmh, partial, epoch)
           SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::uuid[], $6::int[], $7::float8[], $8::int[], $9::float8[], $10::float8[], $11::boolean[], $12::int[])
           ON CONFLICT (camera_id, interval_start, lane, class, session_id) DO UPDATE SET
             volume = EXCLUDED.volume, occupancy_pct = EXCLUDED.occupancy_pct, observed_ms = EXCLUDED.observed_ms,
             mean_speed_kmh = EXCLUDED.mean_speed_kmh, p85_speed_kmh = EXCLUDED.p85_speed_kmh,
             partial = EXCLUDED.partial, epoch = EXCLUDED.epoch
           WHERE c.partial OR NOT EXCLUDED.partial`,
          [
            ...sessionKeys,
            rows.map((a) => a.volume),
            rows.map((a) => a.occupancyPct),
            rows.map((a) => a.observedMs ?? null),
            rows.map((a) => a.meanSpeedKmh),
            rows.map((a) => a.p85SpeedKmh),
            rows.map((a) => a.partial === true),
            rows.map((a) => a.epoch ?? null),
          ],
        );
        const keys = dedupeBy(
          rows,
          (a) => `${a.cameraId}|${new Date(a.intervalStart).getTime()}|${a.lane}|${a.class}`,
        );
        const combined = await combineContributions(tx, keys, now);
        const accepted = rows.length - Number(known.rows[0]?.n ?? 0);
        return {
          accepted,
          duplicates: aggregates.length - accepted,
          // Minutes only partial figures reached are not stored yet: nothing to show live.
          stored: combined,
        };
      });
    },

    /**
     * Records what the worker sees of each camera; one transaction. A report under a lease epoch that is
     * not the camera's open one (a worker that lost or handed off the camera) is left out: it would
     * overwrite what the holder reports.
     */
    async updateStatuses(updates: readonly StatusUpdate[], now: Date): Promise<StatusUpdate[]> {
      return db.transaction(async (tx) => {
        await assertCamerasExist(
          tx,
          updates.map((u) => u.cameraId),
          'cameras',
        );
        const stamped = updates.filter((u) => u.epoch !== undefined);
        const open = stamped.length
          ? await openEpochs(
              tx,
              stamped.map((u) => u.cameraId),
              now,
            )
          : new Map<string, number>();
        const rows = dedupeBy(
          updates.filter((u) => u.epoch === undefined || open.get(u.cameraId) === u.epoch),
          (u) => u.cameraId,
        );
        if (rows.length === 0) return [];
        await tx.query(
          `UPDATE cameras c SET status_state = u.state, status_reason = u.reason, status_fps = u.fps, last_seen_at = $5
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::float8[]) AS u(id, state, reason, fps)
           WHERE c.id = u.id`,
          [
            rows.map((u) => u.cameraId),
            rows.map((u) => u.state),
            rows.map((u) => u.reason),
            rows.map((u) => u.fps),
            now,
          ],
        );
        return rows;
      });
    },

    async queryAggregates(filter: AggregateFilter): Promise<AggregateBucket[]> {
      const { sql, params } = planAggregateQuery(filter, { rollup });
      const res = await db.query<AggregateRow>(sql, params);
      // In slices: a 50 000-row answer would otherwise hold the event loop for a second under load.
      return mapInSlices(res.rows, (r) => toAggregateBucket(r, filter.groupBy));
    },

    /** Each camera's latest stored interval, split by lane × class; cameras without data included. */
    async latestCounts(cameraId?: string): Promise<CameraLatestCounts[]> {
      const res = await db.query<{
        camera_id: string;
        interval_start: Date | string | null;
        lane: string | null;
        class: VehicleClass | null;
        volume: number | null;
        occupancy_pct: number | null;
        mean_speed_kmh: number | null;
        p85_speed_kmh: number | null;
      }>(
        // The correlated max() walks the (camera_id, interval_start, …) primary key backwards: one
        // index probe per camera instead of a scan of every interval.
        `WITH latest AS (
           SELECT c.id AS camera_id, c.created_at,
             (SELECT max(a.interval_start) FROM interval_aggregates a WHERE a.camera_id = c.id) AS interval_start
           FROM cameras c WHERE ($1::uuid IS NULL OR c.id = $1::uuid)
         )
         SELECT l.camera_id, l.interval_start, a.lane, a.class, a.volume, a.occupancy_pct, a.mean_speed_kmh, a.p85_speed_kmh
         FROM latest l
         LEFT JOIN interval_aggregates a ON a.camera_id = l.camera_id AND a.interval_start = l.interval_start
         ORDER BY l.created_at, l.camera_id, a.lane, a.class`,
        [cameraId ?? null],
      );
      const byCamera = new Map<string, CameraLatestCounts>();
      for (const r of res.rows) {
        let item = byCamera.get(r.camera_id);
        if (!item) {
          item = {
            cameraId: r.camera_id,
            intervalStart: r.interval_start === null ? null : toIso(r.interval_start),
            volume: 0,
            counts: [],
          };
          byCamera.set(r.camera_id, item);
        }
        if (r.lane !== null && r.class !== null) {
          const volume = Number(r.volume);
          item.volume += volume;
          item.counts.push({
            lane: r.lane,
            class: r.class,
            volume,
            occupancyPct: Number(r.occupancy_pct),
            meanSpeedKmh: r.mean_speed_kmh,
            p85SpeedKmh: r.p85_speed_kmh,
          });
        }
      }
      return [...byCamera.values()];
    },

    async totals(filter: {
      cameraId?: string | undefined;
      from?: string | undefined;
      to?: string | undefined;
    }): Promise<Totals> {
      const params = [filter.cameraId ?? null, filter.from ?? null, filter.to ?? null];
      const range = (col: string) =>
        `($1::uuid IS NULL OR camera_id = $1::uuid) AND ($2::timestamptz IS NULL OR ${col} >= $2::timestamptz) AND ($3::timestamptz IS NULL OR ${col} < $3::timestamptz)`;
      const [cameras, byClass, crossings] = await Promise.all([
        db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM cameras WHERE ($1::uuid IS NULL OR id = $1::uuid)',
          [filter.cameraId ?? null],
        ),
        (() => {
          // Whole hours from the hourly rollup, the edges from the minutes (store/totals-query.ts).
          const q = planTotalsByClass(filter, { rollup });
          return db.query<{ class: VehicleClass; volume: number; n: number }>(q.sql, q.params);
        })(),
        db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM crossing_events WHERE ${range('ts')}`,
          params,
        ),
      ]);
      const classes = byClass.rows.map((r) => ({ class: r.class, volume: Math.round(Number(r.volume)) }));
      return {
        from: filter.from ?? null,
        to: filter.to ?? null,
        cameras: cameras.rows[0]?.n ?? 0,
        volume: classes.reduce((s, c) => s + c.volume, 0),
        intervals: byClass.rows.reduce((s, r) => s + Number(r.n), 0),
        crossings: crossings.rows[0]?.n ?? 0,
        byClass: classes,
      };
    },

    async insertApiKey(row: Omit<ApiKeyRow, 'lastUsedAt' | 'revoked'>): Promise<void> {
      await db.query(
        'INSERT INTO api_keys (id, name, prefix, key_hash, created_at) VALUES ($1, $2, $3, $4, $5)',
        [row.id, row.name, row.prefix, row.keyHash, row.createdAt],
      );
    },

    async findApiKeyByPrefix(prefix: string): Promise<ApiKeyRow | undefined> {
      const res = await db.query<{
        id: string;
        name: string;
        prefix: string;
        key_hash: string;
        created_at: Date | string;
        last_used_at: Date | string | null;
        revoked: boolean;
      }>(
        'SELECT id, name, prefix, key_hash, created_at, last_used_at, revoked FROM api_keys WHERE prefix = $1',
        [prefix],
      );
      const r = res.rows[0];
      if (!r) return undefined;
      return {
        id: r.id,
        name: r.name,
        prefix: r.prefix,
        keyHash: r.key_hash,
        createdAt: toIso(r.created_at),
        lastUsedAt: r.last_used_at === null ? null : toIso(r.last_used_at),
        revoked: r.revoked,
      };
    },

    /** Records use at most once a minute per key, so authentication does not write on every request. */
    async touchApiKey(id: string, now: Date): Promise<void> {
      await db.query(
        `UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2::timestamptz - interval '1 minute')`,
        [id, now],
      );
    },

    async revokeApiKey(id: string): Promise<boolean> {
      const res = await db.query('UPDATE api_keys SET revoked = true WHERE id = $1', [id]);
      return res.rowCount > 0;
    },
  };
}

export type Repository = ReturnType<typeof createRepository>;
