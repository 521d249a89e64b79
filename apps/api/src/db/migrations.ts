/**
 * Versioned, forward-only migrations, the same for PostgreSQL and PGlite.
 *
 * The expand/contract rule (see README): a migration released with version N must keep release N-1
 * working against the new schema, because during a rolling or blue-green deployment both run at once.
 * So a migration only *expands*: add tables, add nullable (or defaulted) columns, add indexes. Renames,
 * drops and NOT NULL without a default are done in two releases: N expands and writes both shapes,
 * N+1 (once nothing reads the old shape) contracts. Never edit a released migration; add a new one.
 */
import type { Db, Queryable } from './db.js';

export interface Migration {
  version: number;
  name: string;
  statements: readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'cameras, crossing events, interval aggregates',
    statements: [
      `CREATE TABLE cameras (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        stream_url text NOT NULL,
        lat double precision NOT NULL,
        lon double precision NOT NULL,
        geometry jsonb NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        status_state text NOT NULL DEFAULT 'unknown',
        status_reason text,
        status_fps double precision,
        last_seen_at timestamptz,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`,
      `CREATE INDEX cameras_created_at_idx ON cameras (created_at, id)`,
      `CREATE TABLE crossing_events (
        id uuid PRIMARY KEY,
        camera_id uuid NOT NULL REFERENCES cameras (id) ON DELETE CASCADE,
        line_id text NOT NULL,
        lane text NOT NULL,
        class text NOT NULL,
        direction text NOT NULL,
        ts timestamptz NOT NULL,
        speed_kmh double precision,
        track_id text,
        received_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE INDEX crossing_events_camera_ts_idx ON crossing_events (camera_id, ts)`,
      `CREATE INDEX crossing_events_ts_idx ON crossing_events (ts)`,
      // The primary key is also the idempotency key of ingestion and, led by camera_id and
      // interval_start, the index behind per-camera range queries.
      `CREATE TABLE interval_aggregates (
        camera_id uuid NOT NULL REFERENCES cameras (id) ON DELETE CASCADE,
        interval_start timestamptz NOT NULL,
        lane text NOT NULL,
        class text NOT NULL,
        volume integer NOT NULL,
        occupancy_pct double precision NOT NULL,
        mean_speed_kmh double precision,
        p85_speed_kmh double precision,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (camera_id, interval_start, lane, class)
      )`,
      // Range queries over all cameras (dashboard overview, totals).
      `CREATE INDEX interval_aggregates_start_idx ON interval_aggregates (interval_start)`,
    ],
  },
  {
    version: 2,
    name: 'api keys',
    statements: [
      `CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        prefix text NOT NULL UNIQUE,
        key_hash text NOT NULL,
        created_at timestamptz NOT NULL,
        last_used_at timestamptz,
        revoked boolean NOT NULL DEFAULT false
      )`,
    ],
  },
  {
    version: 3,
    name: 'hourly rollups of interval aggregates, kept by triggers',
    statements: [
      // One row per camera × lane × class × UTC hour, holding sums and counts (never averages), so
      // hourly and daily buckets can be added up from it with exactly the occupancy and speed maths
      // of the raw minutes (store/aggregate-query.ts). Volumes are integer like the minutes' (≤ 100 000
      // a minute by contract, so ≤ 6 000 000 an hour): the query then sums the same type from both
      // sources. The float sums are numeric: added exactly, an hour's sum plus its neighbours' equals
      // the sum of their minutes to the last digit, where float8 sums in another order differ in the
      // last bits and can flip a rounded answer. The defaults let a writer claim a row before filling it.
      `CREATE TABLE interval_rollups_hourly (
        camera_id uuid NOT NULL REFERENCES cameras (id) ON DELETE CASCADE,
        hour_start timestamptz NOT NULL,
        lane text NOT NULL,
        class text NOT NULL,
        minutes integer NOT NULL DEFAULT 0,
        last_minute timestamptz,
        volume integer NOT NULL DEFAULT 0,
        occupancy_sum numeric NOT NULL DEFAULT 0,
        mean_speed_kmh_sum numeric,
        mean_speed_kmh_volume integer,
        p85_speed_kmh_sum numeric,
        p85_speed_kmh_volume integer,
        PRIMARY KEY (camera_id, hour_start, lane, class)
      )`,
      // All-camera range queries, the case the rollup exists for.
      `CREATE INDEX interval_rollups_hourly_start_idx ON interval_rollups_hourly (hour_start)`,
      // Kept by triggers rather than by the API's ingestion code, so that every writer keeps it — above
      // all the previous release, which keeps ingesting during a rolling or blue-green deployment and
      // knows nothing of the rollup — and always in the writer's own transaction: a rollup that cannot
      // be updated fails the write. The hours a statement touched are recomputed from their stored
      // minutes, not adjusted by deltas: an upsert replaces a re-sent minute, and a delta would need
      // the value it replaced.
      //
      // Claim first, in key order: two transactions writing different minutes of one hour must not both
      // recompute it from snapshots that miss the other's minutes (under READ COMMITTED the later one
      // would overwrite the row with a sum lacking the earlier one's). Holding the row lock makes the
      // second wait until the first commits; its recompute, a new statement, then takes a new snapshot
      // that sees both. Deletions only lock the rows that exist (their camera may be going away), and
      // drop the rows whose hour has no minute left.
      `CREATE FUNCTION refresh_interval_rollups_hourly() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          PERFORM 1 FROM interval_rollups_hourly r
            JOIN (SELECT DISTINCT camera_id, date_bin('1 hour', interval_start, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS hour_start, lane, class FROM changed) t USING (camera_id, hour_start, lane, class)
            ORDER BY r.camera_id, r.hour_start, r.lane, r.class FOR UPDATE OF r;
        ELSE
          INSERT INTO interval_rollups_hourly AS r (camera_id, hour_start, lane, class)
            SELECT * FROM (SELECT DISTINCT camera_id, date_bin('1 hour', interval_start, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS hour_start, lane, class FROM changed) t ORDER BY 1, 2, 3, 4
            ON CONFLICT (camera_id, hour_start, lane, class) DO UPDATE SET minutes = r.minutes;
        END IF;
        INSERT INTO interval_rollups_hourly AS r (camera_id, hour_start, lane, class, minutes, last_minute,
            volume, occupancy_sum, mean_speed_kmh_sum, mean_speed_kmh_volume, p85_speed_kmh_sum, p85_speed_kmh_volume)
          SELECT a.camera_id, t.hour_start, a.lane, a.class, count(*), max(a.interval_start), sum(a.volume),
            sum(a.occupancy_pct::numeric),
            sum((a.mean_speed_kmh * a.volume)::numeric), sum(a.volume) FILTER (WHERE a.mean_speed_kmh IS NOT NULL),
            sum((a.p85_speed_kmh * a.volume)::numeric), sum(a.volume) FILTER (WHERE a.p85_speed_kmh IS NOT NULL)
          FROM (SELECT DISTINCT camera_id, date_bin('1 hour', interval_start, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS hour_start, lane, class FROM changed) t
          JOIN interval_aggregates a ON a.camera_id = t.camera_id AND a.lane = t.lane AND a.class = t.class
            AND a.interval_start >= t.hour_start AND a.interval_start < t.hour_start + interval '1 hour'
          GROUP BY a.camera_id, t.hour_start, a.lane, a.class
          ON CONFLICT (camera_id, hour_start, lane, class) DO UPDATE SET
            minutes = EXCLUDED.minutes, last_minute = EXCLUDED.last_minute, volume = EXCLUDED.volume,
            occupancy_sum = EXCLUDED.occupancy_sum, mean_speed_kmh_sum = EXCLUDED.mean_speed_kmh_sum,
            mean_speed_kmh_volume = EXCLUDED.mean_speed_kmh_volume, p85_speed_kmh_sum = EXCLUDED.p85_speed_kmh_sum,
            p85_speed_kmh_volume = EXCLUDED.p85_speed_kmh_volume;
        IF TG_OP = 'DELETE' THEN
          DELETE FROM interval_rollups_hourly r USING (SELECT DISTINCT camera_id, date_bin('1 hour', interval_start, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS hour_start, lane, class FROM changed) t
          WHERE r.camera_id = t.camera_id AND r.hour_start = t.hour_start AND r.lane = t.lane AND r.class = t.class
            AND NOT EXISTS (SELECT 1 FROM interval_aggregates a WHERE a.camera_id = t.camera_id AND a.lane = t.lane
              AND a.class = t.class AND a.interval_start >= t.hour_start AND a.interval_start < t.hour_start + interval '1 hour');
        END IF;
        RETURN NULL;
      END
      $fn$`,
      // A trigger with transition tables takes one event; an upsert fires the insert and the update one.
      // Created before the backfill: the trigger's lock on interval_aggregates holds writers off until
      // this migration commits, so no minute lands between the backfill's snapshot and the trigger.
      `CREATE TRIGGER interval_rollups_hourly_on_insert AFTER INSERT ON interval_aggregates
        REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION refresh_interval_rollups_hourly()`,
      `CREATE TRIGGER interval_rollups_hourly_on_update AFTER UPDATE ON interval_aggregates
        REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION refresh_interval_rollups_hourly()`,
      `CREATE TRIGGER interval_rollups_hourly_on_delete AFTER DELETE ON interval_aggregates
        REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION refresh_interval_rollups_hourly()`,
      // Backfill: the recompute above, for every hour.
      `INSERT INTO interval_rollups_hourly (camera_id, hour_start, lane, class, minutes, last_minute, volume,
         occupancy_sum, mean_speed_kmh_sum, mean_speed_kmh_volume, p85_speed_kmh_sum, p85_speed_kmh_volume)
       SELECT camera_id, date_bin('1 hour', interval_start, TIMESTAMPTZ '1970-01-01 00:00:00+00'), lane, class,
         count(*), max(interval_start), sum(volume), sum(occupancy_pct::numeric),
         sum((mean_speed_kmh * volume)::numeric), sum(volume) FILTER (WHERE mean_speed_kmh IS NOT NULL),
         sum((p85_speed_kmh * volume)::numeric), sum(volume) FILTER (WHERE p85_speed_kmh IS NOT NULL)
       FROM interval_aggregates
       GROUP BY 1, 2, 3, 4`,
    ],
  },
  {
    version: 4,
    name: 'api key scopes',
    statements: [
      // Keys created before scopes existed keep what the worker needs (ingest, read) and lose camera
      // writes, the gap this closes: a worker's key could rewrite every camera. The default also covers
      // keys inserted by release N-1 during a rolling deploy. Camera writes need a key created with
      // cameras:write, or the ADMIN_TOKEN (auth/api-key-store.ts, apps/api/README.md "Auth").
      `ALTER TABLE api_keys ADD COLUMN scopes text[] NOT NULL DEFAULT ARRAY['ingest', 'read']::text[]`,
    ],
  },
  {
    version: 5,
    name: 'worker registry, camera leases with epochs, per-session interval contributions',
    statements: [
      // A worker process registers under an id it draws at start (a restart is a new worker) and stays
      // live while it heartbeats: expires_at = last heartbeat + the lease TTL.
      `CREATE TABLE workers (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        version text,
        capacity integer NOT NULL,
        camera_filter uuid[],
        registered_at timestamptz NOT NULL,
        heartbeat_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL
      )`,
      // Every grant of a camera is a row: its epoch (fencing token, increasing per camera) and when it
      // ended (released, handed off, expired). The history is what fences a late write: an item timed
      // at or after its epoch's end was counted while another worker may hold the camera.
      `CREATE TABLE camera_leases (
        camera_id uuid NOT NULL REFERENCES cameras (id) ON DELETE CASCADE,
        epoch integer NOT NULL,
        worker_id uuid NOT NULL,
        granted_at timestamptz NOT NULL,
        renewed_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        handoff_requested_at timestamptz,
        ended_at timestamptz,
        end_reason text,
        PRIMARY KEY (camera_id, epoch)
      )`,
      `CREATE INDEX camera_leases_open_idx ON camera_leases (worker_id) WHERE ended_at IS NULL`,
      // One open lease per camera, whatever the code above it does: a second grant fails the transaction.
      `CREATE UNIQUE INDEX camera_leases_one_open_idx ON camera_leases (camera_id) WHERE ended_at IS NULL`,
      // What each counting session (one worker pipeline of one camera) reported for a minute. The
      // minute's interval_aggregates row is their combination, recomputed on every write: a re-sent
      // batch replaces its own session's row (no double count), two sessions add up (a restart or a
      // hand-off inside a minute loses nothing). Rows written before sessions existed carry the nil
      // session and keep the old replace-on-resend meaning.
      `CREATE TABLE interval_contributions (
        camera_id uuid NOT NULL REFERENCES cameras (id) ON DELETE CASCADE,
        interval_start timestamptz NOT NULL,
        lane text NOT NULL,
        class text NOT NULL,
        session_id uuid NOT NULL,
        volume integer NOT NULL,
        occupancy_pct double precision NOT NULL,
        observed_ms integer,
        mean_speed_kmh double precision,
        p85_speed_kmh double precision,
        -- A minute the session is still counting: left out of the stored minute until the session sends
        -- its final figures, or its lease ends without them (a worker killed mid-minute).
        partial boolean NOT NULL DEFAULT false,
        epoch integer,
        PRIMARY KEY (camera_id, interval_start, lane, class, session_id)
      )`,
      `CREATE INDEX interval_contributions_partial_idx ON interval_contributions (camera_id, epoch) WHERE partial`,
      `CREATE INDEX interval_contributions_start_idx ON interval_contributions (interval_start)`,
      `INSERT INTO interval_contributions (camera_id, interval_start, lane, class, session_id, volume, occupancy_pct,
         observed_ms, mean_speed_kmh, p85_speed_kmh)
       SELECT camera_id, interval_start, lane, class, '00000000-0000-0000-0000-000000000000'::uuid, volume,
         occupancy_pct, NULL, mean_speed_kmh, p85_speed_kmh
       FROM interval_aggregates`,
    ],
  },
  {
    version: 6,
    name: 'retention horizon: the rollup triggers leave hours before the raw-minute horizon alone',
    statements: [
      // One row: how far back the store keeps raw minutes and hourly rollups (store/retention.ts moves
      // both forward, never back), and the lease that lets one API replica at a time apply them.
      // '-infinity': nothing purged yet.
      `CREATE TABLE store_retention (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        raw_kept_from timestamptz NOT NULL DEFAULT '-infinity',
        rollups_kept_from timestamptz NOT NULL DEFAULT '-infinity',
        lease_holder text,
        lease_until timestamptz,
        last_run_at timestamptz,
        last_result jsonb
      )`,
      `INSERT INTO store_retention DEFAULT VALUES`,
      // Migration 3's function, with one change: minutes before raw_kept_from are left out of `changed`.
      // Purging raw minutes (a DELETE) must not touch the rollup of their hours — they are the only
      // record of them once the minutes are gone — and a late minute written into a purged hour must
      // not recompute that hour from the one minute left (which would replace its rollup with a sum
      // lacking every purged minute). Both are statements whose changed rows all lie before the
      // horizon. For every other write it behaves exactly as before: release N-1, which keeps
      // ingesting during a rolling deploy, sees no difference (-infinity until the first purge).
      `CREATE OR REPLACE FUNCTION refresh_interval_rollups_hourly() RETURNS trigger LANGUAGE plpgsql AS $fn$
      DECLARE
        horizon timestamptz := coalesce((SELECT raw_kept_from FROM store_retention), '-infinity');
      BEGIN
        IF TG_OP = 'DELETE' THEN
          PERFORM 1 FROM interval_rollups_hourly r
            JOIN (SELECT DISTINCT camera_id, date_bin('1 hour', interval_start, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS hour_start, lane, class FROM changed WHERE interval_start >= horizon) t USING (camera_id, hour_start, lane, class)
            ORDER BY r.camera_id, r.hour_start, r.lane, r.class FOR UPDATE OF r;
        ELSE
          INSERT INTO interval_rollups_hourly AS r (camera_id, hour_start, lane, class)
            SELECT * FROM (SELECT DISTINCT camera_id, date_bin('1 hour', interval_start, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS hour_start, lane, class FROM changed WHERE interval_start >= horizon) t ORDER BY 1, 2, 3, 4
            ON CONFLICT (camera_id, hour_start, lane, class) DO UPDATE SET minutes = r.minutes;
        END IF;
        INSERT INTO interval_rollups_hourly AS r (camera_id, hour_start, lane, class, minutes, last_minute,
            volume, occupancy_sum, mean_speed_kmh_sum, mean_speed_kmh_volume, p85_speed_kmh_sum, p85_speed_kmh_volume)
          SELECT a.camera_id, t.hour_start, a.lane, a.class, count(*), max(a.interval_start), sum(a.volume),
            sum(a.occupancy_pct::numeric),
            sum((a.mean_speed_kmh * a.volume)::numeric), sum(a.volume) FILTER (WHERE a.mean_speed_kmh IS NOT NULL),
            sum((a.p85_speed_kmh * a.volume)::numeric), sum(a.volume) FILTER (WHERE a.p85_speed_kmh IS NOT NULL)
          FROM (SELECT DISTINCT camera_id, date_bin('1 hour', interval_start, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS hour_start, lane, class FROM changed WHERE interval_start >= horizon) t
          JOIN interval_aggregates a ON a.camera_id = t.camera_id AND a.lane = t.lane AND a.class = t.class
            AND a.interval_start >= t.hour_start AND a.interval_start < t.hour_start + interval '1 hour'
          GROUP BY a.camera_id, t.hour_start, a.lane, a.class
          ON CONFLICT (camera_id, hour_start, lane, class) DO UPDATE SET
            minutes = EXCLUDED.minutes, last_minute = EXCLUDED.last_minute, volume = EXCLUDED.volume,
            occupancy_sum = EXCLUDED.occupancy_sum, mean_speed_kmh_sum = EXCLUDED.mean_speed_kmh_sum,
            mean_speed_kmh_volume = EXCLUDED.mean_speed_kmh_volume, p85_speed_kmh_sum = EXCLUDED.p85_speed_kmh_sum,
            p85_speed_kmh_volume = EXCLUDED.p85_speed_kmh_volume;
        IF TG_OP = 'DELETE' THEN
          DELETE FROM interval_rollups_hourly r USING (SELECT DISTINCT camera_id, date_bin('1 hour', interval_start, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS hour_start, lane, class FROM changed WHERE interval_start >= horizon) t
          WHERE r.camera_id = t.camera_id AND r.hour_start = t.hour_start AND r.lane = t.lane AND r.class = t.class
            AND NOT EXISTS (SELECT 1 FROM interval_aggregates a WHERE a.camera_id = t.camera_id AND a.lane = t.lane
              AND a.class = t.class AND a.interval_start >= t.hour_start AND a.interval_start < t.hour_start + interval '1 hour');
        END IF;
        RETURN NULL;
      END
      $fn$`,
    ],
  },
];

export const LATEST_MIGRATION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

/** Pure: which migrations still need to run, in order. */
export function planMigrations(
  applied: readonly number[],
  all: readonly Migration[] = MIGRATIONS,
): Migration[] {
  const done = new Set(applied);
  return [...all].filter((m) => !done.has(m.version)).sort((a, b) => a.version - b.version);
}

const CREATE_LEDGER = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

// Any constant; serialises concurrent migrators (two replicas starting at once).
const LOCK_KEY = 727_274_001;

async function readApplied(q: Queryable): Promise<number[]> {
  const res = await q.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
  return res.rows.map((r) => Number(r.version));
}

/** Applies pending migrations in one transaction; returns the versions it applied. */
export async function runMigrations(db: Db, all: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    await tx.query(CREATE_LEDGER);
    const pending = planMigrations(await readApplied(tx), all);
    for (const m of pending) {
      for (const sql of m.statements) await tx.query(sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
    }
    return pending.map((m) => m.version);
  });
}

/** The highest applied version, or 0 when the ledger does not exist yet. */
export async function readSchemaVersion(db: Queryable): Promise<number> {
  const exists = await db.query<{ t: string | null }>(`SELECT to_regclass('schema_migrations')::text AS t`);
  if (!exists.rows[0]?.t) return 0;
  const res = await db.query<{ v: number | null }>('SELECT max(version)::int AS v FROM schema_migrations');
  return res.rows[0]?.v ?? 0;
}
