/**
 * Where the embedded store stops being enough. PGlite runs every query on the API's one event loop
 * (PostgreSQL compiled to WebAssembly, executed synchronously in this process), so while a query
 * reads, /health, readiness and every other request wait. Reads of raw minutes cost about 0.6 µs a row
 * there; an uncached all-camera query over one day of minutes reads cameras × ≈ 10 series × 1440 rows,
 * ≈ 170 ms at 20 cameras — the 200 ms objective. Above that fleet, PostgreSQL (DATABASE_URL) runs
 * queries in its own processes and the API only parses the answers.
 */
import type { Queryable } from '../db/db.js';

/** Cameras above which the start-up log asks for PostgreSQL. */
export const EMBEDDED_STORE_MAX_CAMERAS = 20;

/** Pure: the warning to log for a fleet of `cameras` on the embedded store, or undefined. */
export function planEmbeddedStoreWarning(cameras: number): string | undefined {
  if (cameras <= EMBEDDED_STORE_MAX_CAMERAS) return undefined;
  return (
    `DATABASE_URL is unset: the embedded store (PGlite) runs every query on the API's event loop, and with ` +
    `${cameras} cameras (more than ${EMBEDDED_STORE_MAX_CAMERAS}) one uncached query over a day of minutes can hold ` +
    `/health and every other request for longer than 200 ms; set DATABASE_URL to a PostgreSQL server ` +
    `(apps/api README, "Embedded store or PostgreSQL")`
  );
}

/** The fleet size: every camera, enabled or not. */
export async function countCameras(db: Queryable): Promise<number> {
  return (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM cameras')).rows[0]!.n;
}
