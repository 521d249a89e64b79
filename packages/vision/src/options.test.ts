import { describe, expect, it } from 'vitest';
import { VisionInputError } from './errors.js';
import { DEFAULT_ANALYTICS_OPTIONS, resolveAnalyticsOptions } from './options.js';

describe('resolveAnalyticsOptions', () => {
  it('returns the defaults for no overrides', () => {
    expect(resolveAnalyticsOptions()).toEqual(DEFAULT_ANALYTICS_OPTIONS);
  });
  it('overlays valid overrides', () => {
    const o = resolveAnalyticsOptions({ minHits: 5, hysteresis: 0.03, recountCooldownMs: 10_000 });
    expect([o.minHits, o.hysteresis, o.recountCooldownMs, o.maxAge]).toEqual([
      5,
      0.03,
      10_000,
      DEFAULT_ANALYTICS_OPTIONS.maxAge,
    ]);
  });
  it.each([
    {
      name: 'score above 1',
      o: { highScore: 1.5 },
      msg: /^options\.highScore: must be ≥ 0 and ≤ 1, got 1\.5/,
    },
    {
      name: 'fractional frames',
      o: { minHits: 2.5 },
      msg: /^options\.minHits: must be a whole number, got 2\.5/,
    },
    { name: 'zero IoU gate', o: { matchIou: 0 }, msg: /^options\.matchIou: must be > 0/ },
    {
      name: 'not a number',
      o: { maxAge: 'ten' as unknown as number },
      msg: /^options\.maxAge: must be a number/,
    },
    { name: 'NaN', o: { hysteresis: Number.NaN }, msg: /^options\.hysteresis: must be a number/ },
    { name: 'unknown key', o: { hysterisis: 0.1 } as never, msg: /^options\.hysterisis: unknown option/ },
    {
      name: 'low above high',
      o: { lowScore: 0.7, highScore: 0.6 },
      msg: /^options\.lowScore: must not exceed highScore/,
    },
  ])('rejects $name, naming the field', ({ o, msg }) => {
    expect(() => resolveAnalyticsOptions(o)).toThrow(msg);
  });
  it('reports every problem together', () => {
    try {
      resolveAnalyticsOptions({ highScore: 2, minHits: 0, maxSpeedKmh: 1000 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(VisionInputError);
      expect((e as VisionInputError).problems.map((p) => p.path)).toEqual([
        'options.highScore',
        'options.minHits',
        'options.maxSpeedKmh',
      ]);
    }
  });
});
