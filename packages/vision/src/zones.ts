/**
 * Polygon zones: which tracks are inside (by bottom-centre point), how long each has dwelt, and which
 * lane × class pairs are occupied at this instant (the input of the occupancy time-fraction).
 */
import type { VehicleClass, Zone } from '@its/contracts';
import { bottomCentre, isPointInPolygon, type Box } from './geometry.js';

export interface ZoneTrack {
  id: number;
  class: VehicleClass;
  box: Box;
}

/** Ids of the zones whose polygon contains the track's bottom-centre. */
export function findZonesContaining(box: Box, zones: readonly Pick<Zone, 'id' | 'polygon'>[]): string[] {
  const p = bottomCentre(box);
  return zones.filter((z) => isPointInPolygon(p, z.polygon)).map((z) => z.id);
}

/** zoneId → when the track entered it (ms). */
export type DwellState = ReadonlyMap<string, number>;

export interface DwellStep {
  state: Map<string, number>;
  /** Zones the track left in this frame and how long it stayed. */
  exited: Array<{ zoneId: string; dwellMs: number }>;
}

/** Advance one track's dwell bookkeeping to the zones it is in now. */
export function stepDwell(prev: DwellState, insideNow: readonly string[], tsMs: number): DwellStep {
  const state = new Map<string, number>();
  const exited: DwellStep['exited'] = [];
  for (const id of insideNow) state.set(id, prev.get(id) ?? tsMs);
  for (const [id, since] of prev) if (!state.has(id)) exited.push({ zoneId: id, dwellMs: tsMs - since });
  return { state, exited };
}

export function laneClassKey(lane: string, cls: VehicleClass): string {
  return `${lane}\u0000${cls}`;
}

/**
 * The lane × class pairs occupied now: a pair is occupied when any zone of that lane contains at least
 * one track of that class. Zones without a lane feed dwell only.
 */
export function findOccupiedLaneClasses(
  tracks: readonly ZoneTrack[],
  zones: readonly Pick<Zone, 'id' | 'polygon' | 'lane'>[],
): Array<{ lane: string; class: VehicleClass }> {
  const laneZones = zones.filter((z): z is typeof z & { lane: string } => typeof z.lane === 'string');
  const out = new Map<string, { lane: string; class: VehicleClass }>();
  for (const t of tracks) {
    for (const z of laneZones) {
      if (findZonesContaining(t.box, [z]).length > 0)
        out.set(laneClassKey(z.lane, t.class), { lane: z.lane, class: t.class });
    }
  }
  return [...out.values()];
}
