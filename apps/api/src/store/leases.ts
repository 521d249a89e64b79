/**
 * Camera leases: many vision workers share the cameras, each camera held by exactly one worker at a
 * time, coordinated by the API in the database (workers hold no database credentials). The same SQL
 * runs on PostgreSQL and the embedded store.
 *
 * - A worker heartbeats every third of the TTL (`heartbeat`): registers, renews what it still holds,
 *   ends what it released, and receives every lease it holds now — new grants included — and the ones
 *   to hand off. Heartbeats are serialised by a transaction-scoped advisory lock, and a partial unique
 *   index allows one open lease per camera: two workers asking for one camera at once, exactly one
 *   gets it.
 * - A lease not renewed for the TTL has expired; the next heartbeat of any worker ends it and may grant
 *   the camera again with the next epoch (the fencing token).
 * - Fair share (planFairShare): a worker's target is ceil(cameras / live workers), capped by its
 *   capacity. A worker above it, or above the floor while another live worker is below the floor, is
 *   asked to hand off the excess: it stops the camera, flushes its counts and releases the lease; the
 *   camera is then free for the next heartbeat of a worker below its target (workers follow freed
 *   cameras on the live stream, so that is at once). Never two holders at once.
 * - Fencing (`fenceItems`): an ingested item that names an epoch is refused (409) when it is timed at or
 *   after the end of that epoch's lease (released, handed off, expired): another worker may hold the
 *   camera then. Items timed before the end are kept, however late they arrive (a buffered batch after
 *   a restart), which is what makes a restart lose nothing.
 */
import type {
  Camera,
  IntervalAggregate,
  WorkerHeartbeat,
  WorkerInfo,
  WorkerLeases,
  WorkerList,
} from '@its/contracts';
import type { Db, Queryable } from '../db/db.js';
import { conflict } from '../errors.js';
import { toIso } from './aggregate-query.js';
import { finalizeEndedSessions } from './contributions.js';

// Any constant, distinct from the migrations' lock: serialises lease decisions across API replicas.
const LEASE_LOCK_KEY = 727_274_002;

type Heartbeat = {
  [K in keyof WorkerHeartbeat]-?: Exclude<WorkerHeartbeat[K], undefined>;
};

interface OpenLeaseRow {
  camera_id: string;
  epoch: number;
  worker_id: string;
  granted_at: Date | string;
  renewed_at: Date | string;
  expires_at: Date | string;
  handoff_requested_at: Date | string | null;
}

/** A live worker as the fair share sees it. */
export interface ShareWorker {
  id: string;
  capacity: number;
  /** Open leases not already being handed off. */
  holding: number;
  /** Its CAMERA_IDS; null: any camera. */
  filter: readonly string[] | null;
}

/**
 * Pure: how many leases `me` should hold, and how many of its own to hand off. `me` shares the cameras
 * it may take (`eligible`: enabled, and in its filter if it has one) with its peers — the live workers
 * that may take some of them too — evenly: a target of ceil(eligible / peers), or more when the other
 * peers' capacity cannot cover them, capped by its capacity. A worker above its target, or above the
 * floor while a peer that could take one of its cameras is below it, gives back the excess (the latter
 * one per heartbeat, so that shares converge without every worker shedding at once).
 */
export function planFairShare(input: {
  eligible: readonly string[];
  /** The cameras `me` holds now (not already being handed off). */
  mine: readonly string[];
  workers: readonly ShareWorker[];
  me: string;
}): { target: number; shed: number } {
  const me = input.workers.find((w) => w.id === input.me);
  if (!me) return { target: 0, shed: 0 };
  const eligible = new Set(input.eligible);
  const mayTakeAny = (w: ShareWorker, ids: Iterable<string>) => {
    if (w.filter === null) return true;
    const f = new Set(w.filter);
    for (const id of ids) if (f.has(id)) return true;
    return false;
  };
  const peers = input.workers.filter((w) => w.id === me.id || mayTakeAny(w, eligible));
  const pool = eligible.size;
  const ceil = Math.ceil(pool / peers.length);
  const floor = Math.floor(pool / peers.length);
  const othersCover = peers.filter((w) => w.id !== me.id).reduce((n, w) => n + Math.min(w.capacity, ceil), 0);
  const target = Math.min(me.capacity, Math.max(ceil, pool - othersCover));
  let shed = Math.max(0, me.holding - target);
  if (
    shed === 0 &&
    me.holding > floor &&
    peers.some((w) => w.id !== me.id && w.holding < Math.min(floor, w.capacity) && mayTakeAny(w, input.mine))
  )
    shed = 1;
  return { target, shed };
}

export interface FencedItem {
  cameraId: string;
  epoch: number | undefined;
  /** When the item was counted: a crossing's ts, an interval's start. */
  at: string;
  /** Its place in the request, for the message: `aggregates/3`. */
  path: string;
}

/**
 * Refuses (409, naming the first offending item) items counted under an epoch that had ended by the
 * item's time, or under an epoch this store never granted. Items without an epoch pass (a worker from
 * before leases). Runs inside the ingest transaction.
 */
export async function fenceItems(q: Queryable, items: readonly FencedItem[], now: Date): Promise<void> {
  const stamped = items.filter((i) => i.epoch !== undefined);
  if (stamped.length === 0) return;
  const pairs = [...new Map(stamped.map((i) => [`${i.cameraId}/${i.epoch}`, i])).values()];
  const res = await q.query<{ camera_id: string; epoch: number; end_at: Date | string | null }>(
    `SELECT l.camera_id, l.epoch,
       coalesce(l.ended_at, CASE WHEN l.expires_at <= $3::timestamptz THEN l.expires_at END) AS end_at
     FROM camera_leases l
     JOIN unnest($1::uuid[], $2::int[]) AS u(camera_id, epoch) ON l.camera_id = u.camera_id AND l.epoch = u.epoch`,
    [pairs.map((p) => p.cameraId), pairs.map((p) => p.epoch), now],
  );
  const ends = new Map(
    res.rows.map((r) => [`${r.camera_id}/${r.epoch}`, r.end_at === null ? null : new Date(r.end_at)]),
  );
  for (const item of stamped) {
    const key = `${item.cameraId}/${item.epoch}`;
    if (!ends.has(key))
      throw conflict(
        `body/${item.path}/epoch: camera "${item.cameraId}" was never leased under epoch ${item.epoch}; the worker must drop the camera and take a new lease`,
      );
    const end = ends.get(key);
    if (end && new Date(item.at).getTime() >= end.getTime())
      throw conflict(
        `body/${item.path}/epoch: the lease of camera "${item.cameraId}" under epoch ${item.epoch} ended at ${end.toISOString()}, before this item (${item.at}); another worker may hold the camera — drop it and take a new lease`,
      );
  }
}

/** The open epoch of each camera (cameras without an open lease are absent). */
export async function openEpochs(
  q: Queryable,
  cameraIds: readonly string[],
  now: Date,
): Promise<Map<string, number>> {
  const res = await q.query<{ camera_id: string; epoch: number }>(
    `SELECT camera_id, epoch FROM camera_leases
     WHERE camera_id = ANY($1::uuid[]) AND ended_at IS NULL AND expires_at > $2::timestamptz`,
    [[...new Set(cameraIds)], now],
  );
  return new Map(res.rows.map((r) => [r.camera_id, Number(r.epoch)]));
}

export function createLeaseStore(
  db: Db,
  opts: { ttlMs: number; loadCameras: (q: Queryable, ids: readonly string[]) => Promise<Camera[]> },
) {
  const ttl = opts.ttlMs;

  /** Ends every lease whose TTL ran out (at its expiry, which is what fencing compares against). */
  const expire = (q: Queryable, now: Date) =>
    q.query<{ camera_id: string; epoch: number }>(
      `UPDATE camera_leases SET ended_at = expires_at, end_reason = 'expired'
       WHERE ended_at IS NULL AND expires_at <= $1::timestamptz RETURNING camera_id, epoch`,
      [now],
    );

  return {
    ttlMs: ttl,

    /**
     * `freed`: cameras whose lease this call ended (released, expired, taken away): tell the other
     * workers. `finalized`: minutes recombined because an ended lease's session left partial figures.
     */
    async heartbeat(
      hb: Heartbeat,
      now: Date,
    ): Promise<{ answer: WorkerLeases; freed: string[]; finalized: IntervalAggregate[] }> {
      const expiresAt = new Date(now.getTime() + ttl);
      return db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [LEASE_LOCK_KEY]);
        const freed: string[] = [];
        const ended: { cameraId: string; epoch: number }[] = [];
        const collect = (res: { rows: { camera_id: string; epoch: number }[] }) => {
          freed.push(...res.rows.map((r) => r.camera_id));
          ended.push(...res.rows.map((r) => ({ cameraId: r.camera_id, epoch: Number(r.epoch) })));
        };
        if (hb.leaving) {
          collect(
            await tx.query<{ camera_id: string; epoch: number }>(
              `UPDATE camera_leases SET ended_at = $2::timestamptz, end_reason = 'worker leaving'
               WHERE worker_id = $1 AND ended_at IS NULL RETURNING camera_id, epoch`,
              [hb.workerId, now],
            ),
          );
          await tx.query(`UPDATE workers SET heartbeat_at = $2, expires_at = $2 WHERE id = $1`, [
            hb.workerId,
            now,
          ]);
          const finalized = await finalizeEndedSessions(tx, ended, now);
          return { answer: { ttlMs: ttl, leases: [], handOff: [] }, freed, finalized };
        }
        await tx.query(
          `INSERT INTO workers (id, name, version, capacity, camera_filter, registered_at, heartbeat_at, expires_at)
           VALUES ($1, $2, $3, $4, $5::uuid[], $6, $6, $7)
           ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, version = EXCLUDED.version,
             capacity = EXCLUDED.capacity, camera_filter = EXCLUDED.camera_filter,
             heartbeat_at = EXCLUDED.heartbeat_at, expires_at = EXCLUDED.expires_at`,
          [hb.workerId, hb.name, hb.version, hb.capacity, hb.cameraIds, now, expiresAt],
        );
        collect(await expire(tx, now));
        if (hb.released.length > 0)
          collect(
            await tx.query<{ camera_id: string; epoch: number }>(
              `UPDATE camera_leases l SET ended_at = $4::timestamptz, end_reason = 'released'
               FROM unnest($2::uuid[], $3::int[]) AS u(camera_id, epoch)
               WHERE l.camera_id = u.camera_id AND l.epoch = u.epoch AND l.worker_id = $1 AND l.ended_at IS NULL
               RETURNING l.camera_id, l.epoch`,
              [hb.workerId, hb.released.map((r) => r.cameraId), hb.released.map((r) => r.epoch), now],
            ),
          );
        // A disabled camera, or one outside the worker's filter, is taken away at once: what the worker
        // counted before now is still accepted (fencing is by time), what it counts after is refused.
        const takenAway = await tx.query<{ camera_id: string; epoch: number }>(
          `UPDATE camera_leases l SET ended_at = $2::timestamptz, end_reason = 'camera disabled or filtered out'
           FROM cameras c
           WHERE l.camera_id = c.id AND l.worker_id = $1 AND l.ended_at IS NULL
             AND (NOT c.enabled OR ($3::uuid[] IS NOT NULL AND NOT (c.id = ANY($3::uuid[]))))
           RETURNING l.camera_id, l.epoch`,
          [hb.workerId, now, hb.cameraIds],
        );
        ended.push(...takenAway.rows.map((r) => ({ cameraId: r.camera_id, epoch: Number(r.epoch) })));
        // Freed for another worker only when it is enabled; a disabled camera needs nobody.
        if (freed.length > 0) {
          const enabled = await tx.query<{ id: string }>(
            'SELECT id FROM cameras WHERE enabled AND id = ANY($1::uuid[])',
            [freed],
          );
          freed.splice(0, freed.length, ...enabled.rows.map((r) => r.id));
        }
        await tx.query(
          `UPDATE camera_leases SET renewed_at = $2, expires_at = $3
           WHERE worker_id = $1 AND ended_at IS NULL`,
          [hb.workerId, now, expiresAt],
        );

        // One after another: a transaction is one connection (concurrent queries on it are queued by
        // the driver anyway, and pg 9 refuses them).
        const workers = await tx.query<{ id: string; capacity: number; camera_filter: string[] | null }>(
          `SELECT id, capacity, camera_filter::text[] AS camera_filter FROM workers WHERE expires_at > $1::timestamptz ORDER BY id`,
          [now],
        );
        const holding = await tx.query<{ worker_id: string; camera_id: string }>(
          `SELECT worker_id, camera_id FROM camera_leases WHERE ended_at IS NULL AND handoff_requested_at IS NULL`,
        );
        const eligible = await tx.query<{ id: string }>(
          `SELECT id FROM cameras WHERE enabled AND ($1::uuid[] IS NULL OR id = ANY($1::uuid[]))`,
          [hb.cameraIds],
        );
        const held = new Map<string, number>();
        for (const r of holding.rows) held.set(r.worker_id, (held.get(r.worker_id) ?? 0) + 1);
        const plan = planFairShare({
          eligible: eligible.rows.map((r) => r.id),
          mine: holding.rows.filter((r) => r.worker_id === hb.workerId).map((r) => r.camera_id),
          workers: workers.rows.map((w) => ({
            id: w.id,
            capacity: Number(w.capacity),
            holding: held.get(w.id) ?? 0,
            filter: w.camera_filter,
          })),
          me: hb.workerId,
        });
        if (plan.shed > 0)
          // The most recently granted go first: the oldest leases keep their warm trackers.
          await tx.query(
            `UPDATE camera_leases SET handoff_requested_at = $2
             WHERE (camera_id, epoch) IN (
               SELECT camera_id, epoch FROM camera_leases
               WHERE worker_id = $1 AND ended_at IS NULL AND handoff_requested_at IS NULL
               ORDER BY granted_at DESC, camera_id DESC LIMIT $3)`,
            [hb.workerId, now, plan.shed],
          );
        const mine = held.get(hb.workerId) ?? 0;
        const room = plan.shed > 0 ? 0 : plan.target - mine;
        if (room > 0)
          await tx.query(
            `INSERT INTO camera_leases (camera_id, epoch, worker_id, granted_at, renewed_at, expires_at)
             SELECT c.id, coalesce((SELECT max(p.epoch) FROM camera_leases p WHERE p.camera_id = c.id), 0) + 1,
               $1, $2, $2, $3
             FROM cameras c
             WHERE c.enabled AND ($4::uuid[] IS NULL OR c.id = ANY($4::uuid[]))
               AND NOT EXISTS (SELECT 1 FROM camera_leases o WHERE o.camera_id = c.id AND o.ended_at IS NULL)
             ORDER BY c.created_at, c.id
             LIMIT $5`,
            [hb.workerId, now, expiresAt, hb.cameraIds, room],
          );

        const open = await tx.query<OpenLeaseRow>(
          `SELECT camera_id, epoch, worker_id, granted_at, renewed_at, expires_at, handoff_requested_at
           FROM camera_leases WHERE worker_id = $1 AND ended_at IS NULL ORDER BY granted_at, camera_id`,
          [hb.workerId],
        );
        const cameras = new Map(
          (
            await opts.loadCameras(
              tx,
              open.rows.map((r) => r.camera_id),
            )
          ).map((c) => [c.id, c]),
        );
        const answer: WorkerLeases = {
          ttlMs: ttl,
          leases: open.rows.flatMap((r) => {
            const camera = cameras.get(r.camera_id);
            return camera
              ? [
                  {
                    cameraId: r.camera_id,
                    epoch: Number(r.epoch),
                    grantedAt: toIso(r.granted_at),
                    expiresAt: toIso(r.expires_at),
                    camera,
                  },
                ]
              : [];
          }),
          handOff: open.rows
            .filter((r) => r.handoff_requested_at !== null)
            .map((r) => ({ cameraId: r.camera_id, epoch: Number(r.epoch) })),
        };
        const finalized = await finalizeEndedSessions(tx, ended, now);
        return { answer, freed: [...new Set(freed)], finalized };
      });
    },

    /** Workers seen within the last hour (live or not), each with its open leases; and the unassigned cameras. */
    async list(now: Date): Promise<WorkerList> {
      const since = new Date(now.getTime() - 3_600_000);
      const [workers, leases, unassigned] = await Promise.all([
        db.query<{
          id: string;
          name: string;
          version: string | null;
          capacity: number;
          registered_at: Date | string;
          heartbeat_at: Date | string;
          expires_at: Date | string;
        }>(
          `SELECT id, name, version, capacity, registered_at, heartbeat_at, expires_at FROM workers
           WHERE heartbeat_at >= $1::timestamptz ORDER BY registered_at, id`,
          [since],
        ),
        db.query<OpenLeaseRow>(
          `SELECT camera_id, epoch, worker_id, granted_at, renewed_at, expires_at, handoff_requested_at
           FROM camera_leases WHERE ended_at IS NULL AND expires_at > $1::timestamptz ORDER BY granted_at, camera_id`,
          [now],
        ),
        db.query<{ id: string }>(
          `SELECT c.id FROM cameras c WHERE c.enabled AND NOT EXISTS (
             SELECT 1 FROM camera_leases l WHERE l.camera_id = c.id AND l.ended_at IS NULL AND l.expires_at > $1::timestamptz)
           ORDER BY c.created_at, c.id`,
          [now],
        ),
      ]);
      const ageS = (t: Date | string) =>
        Math.max(0, Math.round((now.getTime() - new Date(t).getTime()) / 100) / 10);
      const byWorker = new Map<string, WorkerInfo['cameras']>();
      for (const l of leases.rows) {
        const list = byWorker.get(l.worker_id) ?? [];
        list.push({
          cameraId: l.camera_id,
          epoch: Number(l.epoch),
          grantedAt: toIso(l.granted_at),
          leaseAgeS: ageS(l.granted_at),
          renewedAgeS: ageS(l.renewed_at),
          handOffRequested: l.handoff_requested_at !== null,
        });
        byWorker.set(l.worker_id, list);
      }
      return {
        ttlMs: ttl,
        workers: workers.rows.map((w) => ({
          id: w.id,
          name: w.name,
          version: w.version,
          capacity: Number(w.capacity),
          live: new Date(w.expires_at).getTime() > now.getTime(),
          registeredAt: toIso(w.registered_at),
          heartbeatAt: toIso(w.heartbeat_at),
          heartbeatAgeS: ageS(w.heartbeat_at),
          cameras: byWorker.get(w.id) ?? [],
        })),
        unassigned: unassigned.rows.map((r) => r.id),
      };
    },
  };
}

export type LeaseStore = ReturnType<typeof createLeaseStore>;
