import type { Zone } from '@its/contracts';
import { describe, expect, it } from 'vitest';
import { findOccupiedLaneClasses, findZonesContaining, laneClassKey, stepDwell } from './zones.js';

const square = (x0: number, y0: number, x1: number, y1: number) => [
  { x: x0, y: y0 },
  { x: x1, y: y0 },
  { x: x1, y: y1 },
  { x: x0, y: y1 },
];
const ZONES: Zone[] = [
  { id: 'left', name: 'Left', polygon: square(0, 0.5, 0.5, 1), lane: 'l1' },
  { id: 'right', name: 'Right', polygon: square(0.5, 0.5, 1, 1), lane: 'l2' },
  { id: 'plaza', name: 'Plaza, no lane', polygon: square(0, 0, 1, 0.5) },
];
/** A box whose bottom-centre is (x, y). */
const at = (x: number, y: number) => ({ x: x - 0.05, y: y - 0.1, w: 0.1, h: 0.1 });

describe('findZonesContaining', () => {
  it.each([
    { name: 'bottom-centre in the left zone', box: at(0.25, 0.7), want: ['left'] },
    { name: 'bottom-centre in the right zone', box: at(0.75, 0.7), want: ['right'] },
    { name: 'bottom-centre in the lane-less zone', box: at(0.25, 0.3), want: ['plaza'] },
    {
      name: 'box overlapping a zone with its bottom-centre outside',
      box: { x: 0.2, y: 0.4, w: 0.1, h: 0.05 },
      want: ['plaza'],
    },
    { name: 'outside every zone', box: at(0.25, 1.2), want: [] },
  ])('$name', ({ box, want }) => {
    expect(findZonesContaining(box, ZONES)).toEqual(want);
  });
});

describe('stepDwell', () => {
  it('tracks entry time, dwell and exits', () => {
    const s1 = stepDwell(new Map(), ['left'], 1000);
    expect([...s1.state]).toEqual([['left', 1000]]);
    const s2 = stepDwell(s1.state, ['left', 'plaza'], 1500);
    expect([...s2.state]).toEqual([
      ['left', 1000],
      ['plaza', 1500],
    ]);
    expect(s2.exited).toEqual([]);
    const s3 = stepDwell(s2.state, ['plaza'], 4000);
    expect(s3.exited).toEqual([{ zoneId: 'left', dwellMs: 3000 }]);
    const s4 = stepDwell(s3.state, [], 4500);
    expect(s4.exited).toEqual([{ zoneId: 'plaza', dwellMs: 3000 }]);
    expect(s4.state.size).toBe(0);
  });
});

describe('findOccupiedLaneClasses', () => {
  it('reports each lane × class pair once, and only for zones with a lane', () => {
    const occupied = findOccupiedLaneClasses(
      [
        { id: 1, class: 'car', box: at(0.2, 0.7) },
        { id: 2, class: 'car', box: at(0.3, 0.8) },
        { id: 3, class: 'bus', box: at(0.7, 0.7) },
        { id: 4, class: 'truck', box: at(0.5, 0.2) },
      ],
      ZONES,
    );
    expect(occupied.map((o) => laneClassKey(o.lane, o.class)).sort()).toEqual(
      [laneClassKey('l1', 'car'), laneClassKey('l2', 'bus')].sort(),
    );
  });
  it('is empty with no tracks', () => {
    expect(findOccupiedLaneClasses([], ZONES)).toEqual([]);
  });
});
