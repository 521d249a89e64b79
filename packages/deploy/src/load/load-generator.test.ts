import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { percentileOf, startLoad } from './load-generator.js';

describe('fixed-rate load generator', () => {
  let server: Server;
  let port: number;
  let n = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      n++;
      if (n % 10 === 0) {
        res.writeHead(503, { 'x-version': 'v1' });
        res.end();
      } else {
        res.writeHead(200, { 'x-version': 'v1' });
        res.end('{"version":"v1"}');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends at the fixed rate, counts versions and failures, and stops by itself', async () => {
    const load = startLoad({ url: `http://127.0.0.1:${port}/`, rps: 200, maxDurationMs: 500 });
    await new Promise((r) => setTimeout(r, 700));
    const report = await load.stop();
    expect(report.sent).toBeGreaterThanOrEqual(90);
    expect(report.sent).toBeLessThanOrEqual(110);
    expect(report.failed).toBe(Math.floor(report.sent / 10));
    expect(report.failures[0]).toMatch(/status 503 from v1/);
    expect(report.versions.v1).toBe(report.ok);
    expect(report.timeline).toHaveLength(report.sent);
    expect(load.report()).toBe(report);
  });

  it('counts refused connections as failures', async () => {
    const load = startLoad({ url: 'http://127.0.0.1:1/', rps: 50, maxDurationMs: 5000 });
    await new Promise((r) => setTimeout(r, 200));
    const report = await load.stop();
    expect(report.failed).toBe(report.sent);
    expect(report.failures[0]).toMatch(/ECONNREFUSED/);
  });

  it('computes percentiles', () => {
    expect(percentileOf([], 99)).toBe(0);
    expect(percentileOf([3, 1, 2], 99)).toBe(3);
  });
});
