import { describe, expect, it } from 'vitest';
import { ROUTER_LOG_FORMAT, renderHaproxyConfig } from './haproxy-config.js';
import { canaryWeights, isFailedRequest, parseRouterLog, samplesOf, splitSamples } from './router-log.js';

const t0 = 1_790_000_000_000;
const line = (dt: number, backend: string, server: string, status: number, ms: number, term = '----') =>
  `ITSREQ ${t0 + dt} ${backend} ${server} ${status} ${ms} ${term}`;

describe('the router log', () => {
  it('is configured in the router: one line per request on stdout, in the format the parser reads', () => {
    const cfg = renderHaproxyConfig([]);
    expect(cfg).toContain('log stdout format raw local0 info');
    expect(cfg).toContain(`log-format "${ROUTER_LOG_FORMAT}"`);
    expect(ROUTER_LOG_FORMAT).toBe('ITSREQ %Ts%ms %b %s %ST %Ta %tsc');
  });

  it('parses request lines and skips everything else (HAProxy notices, partial lines)', () => {
    const text = [
      '[NOTICE]   (1) : haproxy version is 2.6.12',
      line(5, 'blue', 'b-d1-0', 200, 21),
      line(6, 'blue', '<NOSRV>', 503, -1, 'SC--'),
      'ITSREQ 123 blue',
      line(7, 'green', 'g-d2-0', -1, 12, 'CD--'),
    ].join('\n');
    expect(parseRouterLog(text)).toEqual([
      { atMs: t0 + 5, backend: 'blue', server: 'b-d1-0', status: 200, totalMs: 21, termination: '----' },
      { atMs: t0 + 6, backend: 'blue', server: '<NOSRV>', status: 503, totalMs: -1, termination: 'SC--' },
      { atMs: t0 + 7, backend: 'green', server: 'g-d2-0', status: -1, totalMs: 12, termination: 'CD--' },
    ]);
  });

  it('counts 5xx and broken responses as failures, 4xx as answers', () => {
    const [ok, notFound, error, broken] = parseRouterLog(
      [
        line(0, 'b', 's', 200, 1),
        line(0, 'b', 's', 404, 1),
        line(0, 'b', 's', 502, 1),
        line(0, 'b', 's', -1, 1),
      ].join('\n'),
    );
    expect([ok!, notFound!, error!, broken!].map(isFailedRequest)).toEqual([false, false, true, true]);
  });

  it('splits a window of one backend between canary and baseline; latency only from answered requests', () => {
    const requests = parseRouterLog(
      [
        line(-1, 'blue', 'b-d2-0', 200, 99), // before the window
        line(0, 'blue', 'b-d2-0', 200, 30),
        line(10, 'blue', 'b-d2-0', 500, 2),
        line(20, 'blue', 'b-d1-0', 200, 20),
        line(30, 'blue', 'b-d1-1', 200, 22),
        line(40, 'green', 'b-d1-1', 200, 5), // other backend
        line(50, 'blue', 'b-d0-0', 200, 5), // an old server still draining: neither side
        line(60, 'blue', '<NOSRV>', 503, 0),
        line(1000, 'blue', 'b-d1-0', 200, 20), // at the window's end: excluded
      ].join('\n'),
    );
    const split = splitSamples(
      requests,
      { slot: 'blue', fromMs: t0, toMs: t0 + 1000 },
      ['b-d2-0'],
      ['b-d1-0', 'b-d1-1'],
    );
    expect(split).toEqual({
      canary: { requests: 2, errors: 1, latenciesMs: [30] },
      baseline: { requests: 2, errors: 0, latenciesMs: [20, 22] },
      unrouted: 1,
      windowMs: 1000,
    });
    // After a switch a request no server took is the new version's failure.
    expect(samplesOf(requests, { slot: 'blue', fromMs: t0, toMs: t0 + 1000 }, ['b-d2-0'])).toEqual({
      requests: 3,
      errors: 2,
      latenciesMs: [30],
      unrouted: 1,
    });
  });
});

describe('canaryWeights', () => {
  const share = (w: Array<{ server: string; weight: number }>, canary: string[]) => {
    const total = w.reduce((a, b) => a + b.weight, 0);
    return w.filter((x) => canary.includes(x.server)).reduce((a, b) => a + b.weight, 0) / total;
  };
  const cases: Array<[number, string[], string[]]> = [
    [5, ['c0'], ['b0', 'b1']],
    [25, ['c0'], ['b0', 'b1', 'b2']],
    [50, ['c0', 'c1'], ['b0', 'b1']],
    [1, ['c0'], ['b0', 'b1', 'b2', 'b3', 'b4', 'b5']],
    [99, ['c0'], ['b0']],
  ];
  it.each(cases)('%i %% to %j against %j: the share within half a point, every weight 1..256', (p, c, b) => {
    const w = canaryWeights(p, c, b);
    expect(Math.abs(share(w, c) - p / 100)).toBeLessThan(0.005);
    expect(w.every((x) => x.weight >= 1 && x.weight <= 256)).toBe(true);
  });
  it('100 % (or nothing to compare with) gives the canary everything and the baseline 0', () => {
    expect(canaryWeights(100, ['c0'], ['b0'])).toEqual([
      { server: 'c0', weight: 100 },
      { server: 'b0', weight: 0 },
    ]);
    expect(canaryWeights(30, ['c0'], [])).toEqual([{ server: 'c0', weight: 100 }]);
  });
});
