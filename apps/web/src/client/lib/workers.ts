/**
 * The vision workers as the System page shows them: `GET /api/v1/workers` joined with the camera list
 * for names. Pure: the time since the answer was fetched is passed in, so ages keep counting between
 * refreshes and a worker that stops heartbeating turns "not live" on screen at its TTL, not 15 s later.
 */
import type { Camera, WorkerList } from '@its/contracts';

export type CameraRef = {
  id: string;
  /** The camera's name, or a short id when the camera list does not have it (deleted, past its page). */
  name: string;
  /** False when `name` is the fallback. */
  known: boolean;
  href: string;
};

export type WorkerCameraRow = CameraRef & {
  epoch: number;
  leaseAgeS: number;
  renewedAgeS: number;
  handingOff: boolean;
};

export type WorkerRow = {
  id: string;
  name: string;
  version: string | null;
  capacity: number;
  /** Open leases, the ones being handed off included: the worker still runs those cameras. */
  held: number;
  live: boolean;
  heartbeatAt: string;
  heartbeatAgeS: number;
  cameras: WorkerCameraRow[];
};

export type WorkersView = {
  ttlS: number;
  workers: WorkerRow[];
  live: number;
  held: number;
  unassigned: CameraRef[];
};

const byName = (a: { name: string; id: string }, b: { name: string; id: string }) =>
  a.name.localeCompare(b.name, 'en') || a.id.localeCompare(b.id);

/** Workers live first, then by name; each worker's cameras and the unassigned ones by name. */
export function summarizeWorkers(
  list: WorkerList,
  cameras: readonly Pick<Camera, 'id' | 'name'>[],
  elapsedMs: number,
): WorkersView {
  const names = new Map(cameras.map((c) => [c.id, c.name]));
  const extraS = Math.max(0, elapsedMs) / 1000;
  const ref = (id: string): CameraRef => {
    const name = names.get(id);
    return {
      id,
      name: name ?? `Camera ${id.slice(0, 8)}`,
      known: name !== undefined,
      href: `/cameras/${encodeURIComponent(id)}`,
    };
  };
  const workers = list.workers.map((w): WorkerRow => {
    const heartbeatAgeS = w.heartbeatAgeS + extraS;
    return {
      id: w.id,
      name: w.name,
      version: w.version,
      capacity: w.capacity,
      held: w.cameras.length,
      // The API's verdict at answer time, aged since: a heartbeat older than the TTL is not live.
      live: w.live && heartbeatAgeS * 1000 < list.ttlMs,
      heartbeatAt: w.heartbeatAt,
      heartbeatAgeS,
      cameras: w.cameras
        .map((c) => ({
          ...ref(c.cameraId),
          epoch: c.epoch,
          leaseAgeS: c.leaseAgeS + extraS,
          renewedAgeS: c.renewedAgeS + extraS,
          handingOff: c.handOffRequested,
        }))
        .sort(byName),
    };
  });
  workers.sort((a, b) => Number(b.live) - Number(a.live) || byName(a, b));
  return {
    ttlS: list.ttlMs / 1000,
    workers,
    live: workers.filter((w) => w.live).length,
    held: workers.reduce((n, w) => n + w.held, 0),
    unassigned: list.unassigned.map(ref).sort(byName),
  };
}
