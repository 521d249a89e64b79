import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, renderBuildSummary } from './render-build-summary.js';

describe('renderBuildSummary', () => {
  it('aligns a table of built, failed and skipped rows', () => {
    const table = renderBuildSummary([
      {
        target: 'production',
        platform: 'linux/amd64',
        tag: 'its:production',
        status: 'built',
        sizeBytes: 792_000_000,
        durationMs: 113_900,
        steps: 20,
        cached: 17,
      },
      {
        target: 'edge',
        platform: 'linux/amd64',
        tag: 'its:edge',
        status: 'failed',
        sizeBytes: null,
        durationMs: 4_200,
        steps: 9,
        cached: 3,
      },
      {
        target: 'edge',
        platform: 'linux/arm64',
        tag: '',
        status: 'skipped',
        sizeBytes: null,
        durationMs: null,
        steps: null,
        cached: null,
        reason: 'no QEMU',
      },
    ]);
    expect(table.split('\n')).toEqual([
      'TARGET      PLATFORM     STATUS   SIZE      DURATION  CACHE HITS  IMAGE',
      'production  linux/amd64  built    792.0 MB  1m54s     17/20       its:production',
      'edge        linux/amd64  failed   -         4.2s      3/9         its:edge',
      'edge        linux/arm64  skipped  -         -         -           skipped: no QEMU',
    ]);
  });
  const bytes: [number | null, string][] = [
    [null, '-'],
    [1_500, '1.5 kB'],
    [333_000_000, '333.0 MB'],
    [1_040_000_000, '1.04 GB'],
  ];
  for (const [n, text] of bytes) it(`formatBytes(${n}) = ${text}`, () => expect(formatBytes(n)).toBe(text));
  const durations: [number | null, string][] = [
    [null, '-'],
    [800, '0.8s'],
    [59_940, '59.9s'],
    [61_000, '1m01s'],
  ];
  for (const [n, text] of durations)
    it(`formatDuration(${n}) = ${text}`, () => expect(formatDuration(n)).toBe(text));
});
