import { describe, expect, it } from 'vitest';
import { formatSweep, sweepScenes, SWEEP_SETTINGS } from './sweep.js';

describe('sweepScenes', () => {
  it('summarises each setting over the seeds and formats a table', () => {
    const settings = [{ ...SWEEP_SETTINGS[0]!, durationS: 30 }];
    const rows = sweepScenes(settings, [3, 4]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      setting: settings[0]!.name,
      scenes: 2,
      worstCountAccuracy: 1,
      speedsWithin10Pct: 1,
    });
    expect(rows[0]!.crossings).toBeGreaterThan(10);
    const table = formatSweep(rows);
    expect(table.split('\n')).toHaveLength(3);
    expect(table).toContain('| clean, 12 veh/min/lane | 2 |');
  });
});
