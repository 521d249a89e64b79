import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';
import { planRetention, type RetentionHorizons } from '../src/store/retention.js';

const NOW = new Date('2026-12-07T12:30:00.000Z');
const none: RetentionHorizons = { rawKeptFrom: null, rollupsKeptFrom: null };
const d = (s: string) => new Date(s);

describe('planRetention', () => {
  it.each([
    {
      name: 'counts whole days back from the start of today (UTC)',
      settings: { rawDays: 35, rollupDays: 730 },
      stored: none,
      want: { rawKeptFrom: d('2026-11-02T00:00:00Z'), rollupsKeptFrom: d('2024-12-07T00:00:00Z') },
    },
    {
      name: '0 keeps forever',
      settings: { rawDays: 0, rollupDays: 0 },
      stored: none,
      want: none,
    },
    {
      name: 'never moves a horizon back when a setting is raised',
      settings: { rawDays: 90, rollupDays: 730 },
      stored: { rawKeptFrom: d('2026-11-02T00:00:00Z'), rollupsKeptFrom: null },
      want: { rawKeptFrom: d('2026-11-02T00:00:00Z'), rollupsKeptFrom: d('2024-12-07T00:00:00Z') },
    },
    {
      name: 'keeps a stored horizon when retention is turned off',
      settings: { rawDays: 0, rollupDays: 0 },
      stored: { rawKeptFrom: d('2026-11-02T00:00:00Z'), rollupsKeptFrom: null },
      want: { rawKeptFrom: d('2026-11-02T00:00:00Z'), rollupsKeptFrom: null },
    },
  ])('$name', ({ settings, stored, want }) => {
    expect(planRetention(settings, NOW, stored)).toEqual(want);
  });
});

describe('retention settings', () => {
  const env = { LOG_LEVEL: 'silent' };
  const errors = (extra: Record<string, string>) => {
    try {
      loadConfig({ ...env, ...extra });
      return [];
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return err.message;
    }
  };
  it('defaults: everything kept (retention is the operator’s decision), checked hourly', () => {
    const c = loadConfig(env);
    expect([c.RETENTION_RAW_DAYS, c.RETENTION_ROLLUP_DAYS, c.RETENTION_INTERVAL_MS]).toEqual([
      0, 0, 3_600_000,
    ]);
  });
  it.each([
    [{ RETENTION_RAW_DAYS: '-1' }, 'RETENTION_RAW_DAYS: must be an integer between 0 and 36500'],
    [{ RETENTION_ROLLUP_DAYS: 'a year' }, 'RETENTION_ROLLUP_DAYS: must be a number'],
    [{ RETENTION_INTERVAL_MS: '1.5' }, 'RETENTION_INTERVAL_MS: must be an integer'],
    [
      { RETENTION_RAW_DAYS: '40', RETENTION_ROLLUP_DAYS: '30' },
      'RETENTION_ROLLUP_DAYS: 30 is shorter than RETENTION_RAW_DAYS (40)',
    ],
    [
      { RETENTION_RAW_DAYS: '0', RETENTION_ROLLUP_DAYS: '730' },
      'RETENTION_ROLLUP_DAYS: 730 would delete hourly rollups while RETENTION_RAW_DAYS=0',
    ],
  ])('%j is refused naming the variable', (extra, message) => {
    expect(errors(extra)).toContain(message);
  });
  it.each([
    { RETENTION_RAW_DAYS: '0', RETENTION_ROLLUP_DAYS: '0' },
    { RETENTION_RAW_DAYS: '30', RETENTION_ROLLUP_DAYS: '30' },
    { RETENTION_ROLLUP_DAYS: '0' },
  ])('%j is accepted', (extra) => {
    expect(errors(extra)).toEqual([]);
  });
});
