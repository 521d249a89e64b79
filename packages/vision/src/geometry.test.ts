import { describe, expect, it } from 'vitest';
import {
  areaOfBox,
  bottomCentre,
  iou,
  isPointInPolygon,
  lineParameterAtCrossing,
  polygonArea,
  segmentsIntersect,
  signedDistanceToLine,
} from './geometry.js';

describe('iou', () => {
  it.each([
    { name: 'identical boxes', a: { x: 0, y: 0, w: 1, h: 1 }, b: { x: 0, y: 0, w: 1, h: 1 }, want: 1 },
    { name: 'disjoint boxes', a: { x: 0, y: 0, w: 1, h: 1 }, b: { x: 2, y: 2, w: 1, h: 1 }, want: 0 },
    { name: 'touching edges', a: { x: 0, y: 0, w: 1, h: 1 }, b: { x: 1, y: 0, w: 1, h: 1 }, want: 0 },
    { name: 'half overlap', a: { x: 0, y: 0, w: 2, h: 1 }, b: { x: 1, y: 0, w: 2, h: 1 }, want: 1 / 3 },
    { name: 'contained quarter', a: { x: 0, y: 0, w: 2, h: 2 }, b: { x: 0, y: 0, w: 1, h: 1 }, want: 0.25 },
    { name: 'degenerate box', a: { x: 0, y: 0, w: 0, h: 0 }, b: { x: 0, y: 0, w: 0, h: 0 }, want: 0 },
  ])('$name', ({ a, b, want }) => {
    expect(iou(a, b)).toBeCloseTo(want, 12);
    expect(iou(b, a)).toBeCloseTo(want, 12);
  });
});

describe('points and boxes', () => {
  it('bottomCentre is the middle of the lower edge', () => {
    expect(bottomCentre({ x: 0.2, y: 0.1, w: 0.4, h: 0.3 })).toEqual({ x: 0.4, y: 0.4 });
  });
  it('areaOfBox ignores negative sizes', () => {
    expect(areaOfBox({ x: 0, y: 0, w: -1, h: 2 })).toBe(0);
    expect(areaOfBox({ x: 0, y: 0, w: 0.5, h: 0.5 })).toBe(0.25);
  });
});

describe('signedDistanceToLine (positive = right side looking from a to b, y down)', () => {
  const a = { x: 0, y: 0.5 };
  const b = { x: 1, y: 0.5 };
  it.each([
    { name: 'below a left-to-right line is right', p: { x: 0.5, y: 0.7 }, want: 0.2 },
    { name: 'above a left-to-right line is left', p: { x: 0.5, y: 0.3 }, want: -0.2 },
    { name: 'on the line', p: { x: 0.3, y: 0.5 }, want: 0 },
  ])('$name', ({ p, want }) => {
    expect(signedDistanceToLine(p, a, b)).toBeCloseTo(want, 12);
  });
  it('a downward line a→b has its right side on the image left', () => {
    expect(signedDistanceToLine({ x: 0.2, y: 0.5 }, { x: 0.5, y: 0 }, { x: 0.5, y: 1 })).toBeCloseTo(0.3, 12);
  });
  it('scales x by the aspect so distances are in frame heights', () => {
    expect(signedDistanceToLine({ x: 0.2, y: 0.5 }, { x: 0.5, y: 0 }, { x: 0.5, y: 1 }, 2)).toBeCloseTo(
      0.6,
      12,
    );
  });
  it('returns 0 for a degenerate line', () => {
    expect(signedDistanceToLine({ x: 0.2, y: 0.5 }, a, a)).toBe(0);
  });
});

describe('lineParameterAtCrossing', () => {
  const a = { x: 0.2, y: 0.5 };
  const b = { x: 0.6, y: 0.5 };
  it.each([
    { name: 'through the middle', p: { x: 0.4, y: 0.4 }, q: { x: 0.4, y: 0.6 }, want: 0.5 },
    { name: 'at a', p: { x: 0.2, y: 0.4 }, q: { x: 0.2, y: 0.6 }, want: 0 },
    { name: 'beyond b', p: { x: 0.8, y: 0.4 }, q: { x: 0.8, y: 0.6 }, want: 1.5 },
    { name: 'diagonal path', p: { x: 0.3, y: 0.4 }, q: { x: 0.5, y: 0.6 }, want: 0.5 },
  ])('$name', ({ p, q, want }) => {
    expect(lineParameterAtCrossing(p, q, a, b, 16 / 9)).toBeCloseTo(want, 12);
  });
  it('is null for a path parallel to the line', () => {
    expect(lineParameterAtCrossing({ x: 0, y: 0.4 }, { x: 1, y: 0.4 }, a, b)).toBeNull();
  });
});

describe('segmentsIntersect', () => {
  const p = (x: number, y: number) => ({ x, y });
  it.each([
    { name: 'crossing X', s: [p(0, 0), p(1, 1), p(0, 1), p(1, 0)], want: true },
    { name: 'parallel apart', s: [p(0, 0), p(1, 0), p(0, 1), p(1, 1)], want: false },
    { name: 'T touching', s: [p(0, 0), p(1, 0), p(0.5, 0), p(0.5, 1)], want: true },
    { name: 'collinear overlapping', s: [p(0, 0), p(2, 0), p(1, 0), p(3, 0)], want: true },
    { name: 'collinear disjoint', s: [p(0, 0), p(1, 0), p(2, 0), p(3, 0)], want: false },
    { name: 'would cross if extended', s: [p(0, 0), p(1, 1), p(3, 0), p(2, 1)], want: false },
    { name: 'shared endpoint', s: [p(0, 0), p(1, 1), p(1, 1), p(2, 0)], want: true },
  ])('$name', ({ s, want }) => {
    expect(segmentsIntersect(s[0]!, s[1]!, s[2]!, s[3]!)).toBe(want);
  });
});

describe('polygons', () => {
  const square = [
    { x: 0.1, y: 0.1 },
    { x: 0.5, y: 0.1 },
    { x: 0.5, y: 0.5 },
    { x: 0.1, y: 0.5 },
  ];
  const concave = [
    { x: 0, y: 0 },
    { x: 1, y: 0 },
    { x: 1, y: 1 },
    { x: 0.5, y: 0.3 },
    { x: 0, y: 1 },
  ];
  it.each([
    { name: 'inside square', poly: square, p: { x: 0.3, y: 0.3 }, want: true },
    { name: 'outside square', poly: square, p: { x: 0.6, y: 0.3 }, want: false },
    { name: 'in the notch of a concave polygon', poly: concave, p: { x: 0.5, y: 0.8 }, want: false },
    { name: 'in an arm of a concave polygon', poly: concave, p: { x: 0.9, y: 0.8 }, want: true },
  ])('isPointInPolygon: $name', ({ poly, p, want }) => {
    expect(isPointInPolygon(p, poly)).toBe(want);
  });
  it('polygonArea is orientation-independent', () => {
    expect(polygonArea(square)).toBeCloseTo(0.16, 12);
    expect(polygonArea([...square].reverse())).toBeCloseTo(0.16, 12);
    expect(polygonArea(concave)).toBeCloseTo(1 - 0.5 * 1 * 0.7, 12);
  });
});
