import { describe, expect, it } from 'vitest';
import { createMotionGate, measureChangedFraction } from './motion-gate.js';

const W = 64;
const H = 36;
const plane = (fill = 100) => new Uint8Array(W * H).fill(fill);
/** A plane with a bright w×h block at (x, y). */
const withBlock = (x: number, y: number, w = 8, h = 6) => {
  const p = plane();
  for (let j = y; j < y + h; j++) for (let i = x; i < x + w; i++) p[j * W + i] = 220;
  return p;
};

describe('measureChangedFraction', () => {
  it.each([
    { name: 'identical frames', a: plane(), b: plane(), want: 0 },
    { name: 'uniform sensor noise below the delta', a: plane(100), b: plane(110), want: 0 },
    { name: 'everything changed', a: plane(0), b: plane(255), want: 1 },
    { name: 'an 8×6 block appeared', a: plane(), b: withBlock(10, 10), want: 48 / (W * H) },
  ])('$name', ({ a, b, want }) => {
    expect(measureChangedFraction(a, b, W, H, 25, 1)).toBeCloseTo(want, 9);
  });
});

describe('createMotionGate', () => {
  it('infers the first frame, skips static ones, infers on motion and on the keyframe interval', () => {
    const gate = createMotionGate({ minChangedFraction: 0.01, step: 1, maxSkipMs: 1000 });
    const decisions = [
      gate.decide(plane(), W, H, 0),
      gate.decide(plane(), W, H, 100),
      gate.decide(withBlock(10, 10), W, H, 200),
      gate.decide(withBlock(10, 10), W, H, 300),
      gate.decide(withBlock(10, 10), W, H, 1250),
    ];
    expect(decisions.map((d) => [d.infer, d.reason])).toEqual([
      [true, 'first-frame'],
      [false, 'static'],
      [true, 'motion'],
      [false, 'static'],
      [true, 'keyframe'],
    ]);
  });
  it('compares with the last inferred frame, so slow motion accumulates', () => {
    const gate = createMotionGate({ minChangedFraction: 0.03, step: 1, maxSkipMs: 60_000 });
    gate.decide(withBlock(0, 10), W, H, 0);
    // The block creeps one pixel per frame: each step alone changes 12 pixels (0.5 %).
    const infers = [1, 2, 3, 4, 5, 6, 7, 8].map(
      (x, i) => gate.decide(withBlock(x, 10), W, H, (i + 1) * 100).infer,
    );
    expect(infers.some(Boolean)).toBe(true);
    expect(infers[0]).toBe(false);
  });
  it('restarts on a change of frame size', () => {
    const gate = createMotionGate();
    gate.decide(plane(), W, H, 0);
    expect(gate.decide(new Uint8Array(32 * 18), 32, 18, 100).reason).toBe('first-frame');
  });
  it('rejects a plane too small for its size, naming it', () => {
    expect(() => createMotionGate().decide(new Uint8Array(10), W, H, 0)).toThrow(/^luma: holds 10 bytes/);
  });
});
