import { describe, expect, it } from 'vitest';
import type { RouterRequest } from '../router/router-log.js';
import { splitCanarySamples } from './canary-samples.js';

const req = (atMs: number, server: string, status = 200, totalMs = 20, backend = 'blue'): RouterRequest => ({
  atMs,
  backend,
  server,
  status,
  totalMs,
  termination: '----',
});

describe('splitCanarySamples', () => {
  const window = { slot: 'blue' as const, fromMs: 1000, toMs: 9000 };
  const sides = { canary: ['c0'], baseline: ['b0'] };
  const cases: Array<{
    name: string;
    requests: RouterRequest[];
    warmup?: Array<[string, number]>;
    canary: { requests: number; errors: number; latenciesMs: number[]; atMs: number[] };
    baseline: { requests: number; errors: number; latenciesMs: number[]; atMs: number[] };
    excluded: { canary: number; baseline: number };
    unrouted: number;
  }> = [
    {
      name: 'each side keeps its latencies with their accept times',
      requests: [req(1000, 'c0', 200, 21), req(1500, 'b0', 200, 19), req(8999, 'c0', 200, 23)],
      canary: { requests: 2, errors: 0, latenciesMs: [21, 23], atMs: [1000, 8999] },
      baseline: { requests: 1, errors: 0, latenciesMs: [19], atMs: [1500] },
      excluded: { canary: 0, baseline: 0 },
      unrouted: 0,
    },
    {
      name: 'outside the window, another backend, the serving set and a draining replica count for neither side',
      requests: [
        req(999, 'c0'),
        req(9000, 'b0'),
        req(2000, 'c0', 200, 20, 'green'),
        req(3000, 's0'),
        req(3000, 'old-1'),
      ],
      canary: { requests: 0, errors: 0, latenciesMs: [], atMs: [] },
      baseline: { requests: 0, errors: 0, latenciesMs: [], atMs: [] },
      excluded: { canary: 0, baseline: 0 },
      unrouted: 0,
    },
    {
      name: 'a 5xx or a broken response is an error, not a latency sample; <NOSRV> is unrouted',
      requests: [req(2000, 'c0', 503, 2), req(2000, 'b0', -1, 5000), req(2100, '<NOSRV>', 503, 0)],
      canary: { requests: 1, errors: 1, latenciesMs: [], atMs: [] },
      baseline: { requests: 1, errors: 1, latenciesMs: [], atMs: [] },
      excluded: { canary: 0, baseline: 0 },
      unrouted: 1,
    },
    {
      name: "each new server's warm-up (joined + warmupSeconds) counts for neither side, errors included",
      requests: [
        req(1000, 'c0', 500),
        req(5999, 'c0'),
        req(6000, 'c0', 200, 30),
        req(2000, 'b0'),
        req(3999, 'b0'),
        req(4000, 'b0', 200, 18),
      ],
      warmup: [
        ['c0', 6000],
        ['b0', 4000],
      ],
      canary: { requests: 1, errors: 0, latenciesMs: [30], atMs: [6000] },
      baseline: { requests: 1, errors: 0, latenciesMs: [18], atMs: [4000] },
      excluded: { canary: 2, baseline: 2 },
      unrouted: 0,
    },
    {
      name: 'a server with no warm-up entry (the long-running serving set as baseline) keeps every request',
      requests: [req(1000, 'b0'), req(1000, 'c0')],
      warmup: [['c0', 5000]],
      canary: { requests: 0, errors: 0, latenciesMs: [], atMs: [] },
      baseline: { requests: 1, errors: 0, latenciesMs: [20], atMs: [1000] },
      excluded: { canary: 1, baseline: 0 },
      unrouted: 0,
    },
  ];
  it.each(cases)('$name', (c) => {
    const split = splitCanarySamples(c.requests, window, sides, new Map(c.warmup ?? []));
    expect(split.canary).toEqual(c.canary);
    expect(split.baseline).toEqual(c.baseline);
    expect(split.warmupExcluded).toEqual(c.excluded);
    expect(split.unrouted).toBe(c.unrouted);
    expect(split.windowMs).toBe(8000);
  });
});
