import type { CountLine } from '@its/contracts';
import { describe, expect, it } from 'vitest';
import { createLineTrackState, stepLineCounter, type LineCounterOptions } from './line-counter.js';

const OPTIONS: LineCounterOptions = {
  hysteresis: 0.015,
  confirmFrames: 2,
  recountCooldownMs: Infinity,
  frameAspect: 1,
};
/** Horizontal line across the middle, drawn left to right: its right side is the lower half. */
const LINE: Pick<CountLine, 'a' | 'b' | 'direction'> = {
  a: { x: 0.2, y: 0.5 },
  b: { x: 0.8, y: 0.5 },
  direction: 'both',
};

/** Feed a path of y positions at x = 0.5, one per 100 ms; return the counted directions. */
function countPath(ys: number[], line = LINE, options: Partial<LineCounterOptions> = {}, x = 0.5) {
  let state = createLineTrackState();
  const out: string[] = [];
  ys.forEach((y, i) => {
    const step = stepLineCounter(state, { x, y }, i * 100, line, { ...OPTIONS, ...options });
    state = step.state;
    if (step.crossing) out.push(`${step.crossing.direction}#${step.crossing.countIndex}`);
  });
  return out;
}

const down = [0.3, 0.35, 0.4, 0.45, 0.48, 0.52, 0.55, 0.6, 0.65];
const up = [...down].reverse();

describe('stepLineCounter', () => {
  it.each([
    { name: 'moving down across a left-to-right line is forward', ys: down, want: ['forward#0'] },
    { name: 'moving up across it is reverse', ys: up, want: ['reverse#0'] },
    { name: 'staying on one side counts nothing', ys: [0.3, 0.35, 0.4, 0.45, 0.4, 0.3], want: [] },
    {
      name: 'wobbling on the line inside the margin, then leaving downwards, counts once',
      ys: [0.4, 0.45, 0.49, 0.51, 0.495, 0.505, 0.49, 0.51, 0.498, 0.52, 0.55, 0.6],
      want: ['forward#0'],
    },
    {
      name: 'wobbling on the line and going back where it came from counts nothing',
      ys: [0.4, 0.45, 0.49, 0.51, 0.495, 0.505, 0.49, 0.51, 0.45, 0.4],
      want: [],
    },
    {
      name: 'one outlying frame beyond the margin does not count (confirmFrames 2)',
      ys: [0.4, 0.45, 0.53, 0.45, 0.4, 0.38],
      want: [],
    },
    {
      name: 'born on the line: the first side held is not a crossing',
      ys: [0.5, 0.505, 0.52, 0.55, 0.6],
      want: [],
    },
    {
      name: 'down then up again counts both directions',
      ys: [...down, ...up],
      want: ['forward#0', 'reverse#0'],
    },
    {
      name: 'crossing twice in the same direction counts once (no cooldown)',
      ys: [...down, ...up, ...down],
      want: ['forward#0', 'reverse#0'],
    },
    { name: 'an empty path counts nothing', ys: [], want: [] },
  ])('$name', ({ ys, want }) => {
    expect(countPath(ys)).toEqual(want);
  });

  it.each([
    { filter: 'forward' as const, ys: down, want: ['forward#0'] },
    { filter: 'forward' as const, ys: up, want: [] },
    { filter: 'reverse' as const, ys: down, want: [] },
    { filter: 'reverse' as const, ys: up, want: ['reverse#0'] },
    { filter: 'both' as const, ys: [...down, ...up], want: ['forward#0', 'reverse#0'] },
  ])('direction filter $filter', ({ filter, ys, want }) => {
    expect(countPath(ys, { ...LINE, direction: filter })).toEqual(want);
  });

  it('forward follows the line orientation: reversing a and b swaps the directions', () => {
    const flipped = { a: LINE.b, b: LINE.a, direction: 'both' as const };
    expect(countPath(down, flipped)).toEqual(['reverse#0']);
    expect(countPath(up, flipped)).toEqual(['forward#0']);
  });

  it('a vertical line drawn top to bottom: moving right to left is forward', () => {
    const vertical = { a: { x: 0.5, y: 0.2 }, b: { x: 0.5, y: 0.8 }, direction: 'both' as const };
    let state = createLineTrackState();
    const out: string[] = [];
    [0.7, 0.6, 0.55, 0.45, 0.4, 0.3].forEach((x, i) => {
      const s = stepLineCounter(state, { x, y: 0.5 }, i * 100, vertical, OPTIONS);
      state = s.state;
      if (s.crossing) out.push(s.crossing.direction);
    });
    expect(out).toEqual(['forward']);
  });

  it.each([
    { name: 'through the middle of the segment', x: 0.5, want: ['forward#0'] },
    { name: 'just inside an end', x: 0.21, want: ['forward#0'] },
    { name: 'beside the segment', x: 0.9, want: [] },
    { name: 'beside the other end', x: 0.1, want: [] },
  ])('segment extent: $name', ({ x, want }) => {
    expect(countPath(down, LINE, {}, x)).toEqual(want);
  });

  it('a cooldown lets the same track count again in the same direction after it', () => {
    const there = [...down, ...up, ...down];
    expect(countPath(there, LINE, { recountCooldownMs: 1000 })).toEqual([
      'forward#0',
      'reverse#0',
      'forward#1',
    ]);
    expect(countPath(there, LINE, { recountCooldownMs: 5000 })).toEqual(['forward#0', 'reverse#0']);
  });

  it('confirmFrames 1 counts on the first observation beyond the margin', () => {
    let state = createLineTrackState();
    const hits = [0.4, 0.45, 0.53].map((y, i) => {
      const s = stepLineCounter(state, { x: 0.5, y }, i * 100, LINE, { ...OPTIONS, confirmFrames: 1 });
      state = s.state;
      return s.crossing?.direction ?? null;
    });
    expect(hits).toEqual([null, null, 'forward']);
  });

  it('a larger hysteresis ignores a wider wobble', () => {
    const wobble = [0.45, 0.47, 0.53, 0.52, 0.47, 0.46, 0.53, 0.54, 0.45, 0.44];
    expect(countPath(wobble, LINE, { hysteresis: 0.01 }).length).toBeGreaterThan(0);
    expect(countPath(wobble, LINE, { hysteresis: 0.04 })).toEqual([]);
  });

  it('does not mutate the previous state', () => {
    const s0 = createLineTrackState();
    const snapshot = JSON.stringify(s0);
    stepLineCounter(s0, { x: 0.5, y: 0.3 }, 0, LINE, OPTIONS);
    expect(JSON.stringify(s0)).toBe(snapshot);
  });
});
