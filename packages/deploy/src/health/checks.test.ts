import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkApi,
  checkContainer,
  checkDatabase,
  checkExternal,
  checkPerformance,
  httpGet,
  percentile,
  readDatabaseEntry,
  runChecks,
  tcpConnect,
  type CheckDeps,
  type HttpAnswer,
} from './checks.js';
import { EnvironmentSchema } from '../config/environment-schema.js';

const cfg = EnvironmentSchema.parse({
  app: 'a',
  image: { repository: 'r' },
  router: { port: 1 },
}).healthChecks;
const replica = { name: 'r0', baseUrl: 'http://replica' };

/** A scripted world: a clock that advances by what the code sleeps and by each answer's latency. */
function deps(
  answers: Record<string, Array<HttpAnswer | Error | { latency: number; answer: HttpAnswer }>>,
  health: Array<{ running: boolean; health: string | undefined; output: string }> = [],
): CheckDeps & { clock: number } {
  const world = {
    clock: 0,
    now: () => world.clock,
    sleep: async (ms: number) => {
      world.clock += ms;
    },
    httpGet: async (url: string) => {
      const path = url.replace(/^https?:\/\/[^/]+/, '') || url;
      const queue = answers[path] ?? answers[url];
      const next = queue && queue.length > 1 ? queue.shift()! : queue?.[0];
      if (!next) throw new Error(`ECONNREFUSED ${url}`);
      if (next instanceof Error) throw next;
      if ('latency' in next) {
        world.clock += next.latency;
        return next.answer;
      }
      return next;
    },
    tcpConnect: async (host: string, port: number) => {
      if (port !== 5432) throw new Error(`connect ECONNREFUSED ${host}:${port}`);
    },
    containerHealth: async () => (health.length > 1 ? health.shift()! : health[0]!),
  };
  return world;
}

const ok = (body: unknown = { status: 'ok' }): HttpAnswer => ({ status: 200, body: JSON.stringify(body) });

describe('container check', () => {
  const cases = [
    {
      name: 'healthy after starting',
      states: [
        { running: true, health: 'starting', output: '' },
        { running: true, health: 'healthy', output: '' },
      ],
      ok: true,
      reason: 'healthy',
    },
    {
      name: 'no HEALTHCHECK: running is enough',
      states: [{ running: true, health: undefined, output: '' }],
      ok: true,
      reason: 'running (the image defines no HEALTHCHECK)',
    },
    {
      name: 'unhealthy with the probe output',
      states: [{ running: true, health: 'unhealthy', output: 'curl: refused\n' }],
      ok: false,
      reason: 'engine reports unhealthy: curl: refused',
    },
    {
      name: 'exited',
      states: [{ running: false, health: undefined, output: 'exited with 1' }],
      ok: false,
      reason: 'container is not running: exited with 1',
    },
    {
      name: 'still starting at the deadline',
      states: [{ running: true, health: 'starting', output: '' }],
      ok: false,
      reason: 'still "starting" after 1000 ms',
    },
  ];
  for (const c of cases)
    it(c.name, async () => {
      const r = await checkContainer(deps({}, [...c.states]), replica, 1000);
      expect(r).toMatchObject({ check: 'container', target: 'r0', ok: c.ok, reason: c.reason });
    });
});

describe('API check', () => {
  it('retries until the expected status and body', async () => {
    const d = deps({ '/health': [new Error('ECONNREFUSED'), { status: 503, body: 'starting' }, ok()] });
    const r = await checkApi(d, replica, { ...cfg.api, expectBody: '"status":"ok"' });
    expect(r).toMatchObject({ ok: true, attempts: 3, reason: 'GET /health → 200' });
    expect(d.clock).toBe(1000);
  });

  it('fails after its retries naming the last reason', async () => {
    const r = await checkApi(deps({ '/health': [{ status: 500, body: 'boom' }] }), replica, {
      ...cfg.api,
      retries: 3,
    });
    expect(r).toMatchObject({
      ok: false,
      attempts: 3,
      reason: 'GET /health answered 500, expected 200: boom (after 3 attempts)',
    });
  });

  it('checks the body', async () => {
    const r = await checkApi(deps({ '/health': [ok({ status: 'degraded' })] }), replica, {
      ...cfg.api,
      retries: 1,
      expectBody: '"status":"ok"',
    });
    expect(r.reason).toMatch(/body lacks "\\"status\\":\\"ok\\""/);
  });

  it('reports transport errors', async () => {
    const r = await checkApi(deps({}), replica, { ...cfg.api, retries: 1 });
    expect(r.reason).toBe('GET /health: ECONNREFUSED http://replica/health (after 1 attempts)');
  });
});

describe('database check', () => {
  it('reads the contract form (an array of checks)', () => {
    expect(
      readDatabaseEntry(
        JSON.stringify({ checks: [{ name: 'database', status: 'fail', reason: 'refused' }] }),
        'database',
      ),
    ).toEqual({ status: 'fail', reason: 'refused' });
    expect(readDatabaseEntry(JSON.stringify({ checks: { database: { status: 'up' } } }), 'database')).toEqual(
      { status: 'up' },
    );
    expect(
      readDatabaseEntry(JSON.stringify({ checks: { database: { status: 'down', error: 'x' } } }), 'database'),
    ).toEqual({ status: 'down', reason: 'x' });
    expect(readDatabaseEntry('not json', 'database')).toBeUndefined();
    expect(readDatabaseEntry('{"checks":[]}', 'database')).toBeUndefined();
  });

  const ready = (status: string, code = 200) => ({
    status: code,
    body: JSON.stringify({
      status,
      checks: [{ name: 'database', status, reason: status === 'ok' ? null : 'connection refused' }],
    }),
  });
  const cases: Array<{
    name: string;
    answers: Record<string, HttpAnswer[]>;
    tcp: string | undefined;
    ok: boolean;
    reason: string;
  }> = [
    {
      name: 'ok',
      answers: { '/health/ready': [ready('ok')] },
      tcp: undefined,
      ok: true,
      reason: 'database ok',
    },
    {
      name: 'failing entry',
      answers: { '/health/ready': [ready('fail', 503)] },
      tcp: undefined,
      ok: false,
      reason: 'GET /health/ready → 503: database is "fail" (connection refused)',
    },
    {
      name: 'no entry',
      answers: { '/health/ready': [ok({})] },
      tcp: undefined,
      ok: false,
      reason:
        'GET /health/ready → 200 has no "database" check: {} (if this service has no database, turn the check off: healthChecks.database.enabled: false)',
    },
    {
      name: 'no readiness endpoint',
      answers: { '/health/ready': [{ status: 404, body: 'Not Found' }] },
      tcp: undefined,
      ok: false,
      reason:
        'GET /health/ready → 404 has no "database" check: Not Found (if this service has no database, turn the check off: healthChecks.database.enabled: false)',
    },
    {
      name: 'unreachable',
      answers: {},
      tcp: undefined,
      ok: false,
      reason: 'GET /health/ready: ECONNREFUSED http://replica/health/ready',
    },
    {
      name: 'direct probe ok',
      answers: { '/health/ready': [ready('ok')] },
      tcp: 'db:5432',
      ok: true,
      reason: 'database ok; db:5432 accepts connections',
    },
    {
      name: 'direct probe refused',
      answers: { '/health/ready': [ready('ok')] },
      tcp: 'db:5433',
      ok: false,
      reason: 'direct probe of db:5433: connect ECONNREFUSED db:5433',
    },
  ];
  for (const c of cases)
    it(c.name, async () => {
      const r = await checkDatabase(
        deps(c.answers),
        replica,
        { ...cfg.database, ...(c.tcp ? { tcp: c.tcp } : {}) },
        1000,
      );
      expect(r).toMatchObject({ check: 'database', ok: c.ok, reason: c.reason });
    });
});

describe('external services check', () => {
  it('passes when every listed dependency answers, failing on 5xx and refused connections', async () => {
    const d = deps({
      'http://maps/ping': [{ status: 404, body: '' }],
      'http://bad/': [{ status: 502, body: '' }],
    });
    expect(
      await checkExternal(
        d,
        [
          { name: 'maps', url: 'http://maps/ping' },
          { name: 'pg', tcp: 'db:5432' },
        ],
        1000,
      ),
    ).toMatchObject({ ok: true, reason: '2 service(s) reachable', target: 'maps, pg' });
    const r = await checkExternal(
      d,
      [
        { name: 'bad', url: 'http://bad/' },
        { name: 'redis', tcp: 'cache:6379' },
      ],
      1000,
    );
    expect(r).toMatchObject({
      ok: false,
      reason: 'bad: http://bad/ answered 502; redis: connect ECONNREFUSED cache:6379',
    });
  });
});

describe('performance check', () => {
  it('passes when the p95 of the probes is within the SLO', async () => {
    const r = await checkPerformance(
      deps({ '/health': [{ latency: 20, answer: ok() }] }),
      replica,
      { ...cfg.performance, probes: 10, p95Ms: 50 },
      1000,
    );
    expect(r).toMatchObject({
      ok: true,
      reason: 'p95 of 10 probes of /health = 20 ms ≤ SLO 50 ms',
      detail: { p95Ms: 20, sloMs: 50, errors: 0 },
    });
  });

  it('fails when the p95 exceeds the SLO', async () => {
    const answers = [
      ...Array.from({ length: 18 }, () => ({ latency: 10, answer: ok() })),
      { latency: 400, answer: ok() },
      { latency: 400, answer: ok() },
    ];
    const r = await checkPerformance(
      deps({ '/health': answers }),
      replica,
      { ...cfg.performance, probes: 20, p95Ms: 200 },
      1000,
    );
    expect(r).toMatchObject({ ok: false, reason: 'p95 of 20 probes of /health = 400 ms > SLO 200 ms' });
  });

  it('fails on errors whatever the latency', async () => {
    const r = await checkPerformance(
      deps({ '/health': [{ status: 500, body: '' }] }),
      replica,
      { ...cfg.performance, probes: 4 },
      1000,
    );
    expect(r).toMatchObject({ ok: false, reason: '4 of 4 probes of /health failed' });
  });

  it('percentile by nearest rank', () => {
    expect(percentile([], 95)).toBe(0);
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        95,
      ),
    ).toBe(95);
  });
});

describe('runChecks', () => {
  const healthy = [{ running: true, health: 'healthy', output: '' }];
  const world = () =>
    deps(
      {
        '/health': [ok()],
        '/health/ready': [{ status: 200, body: '{"checks":[{"name":"database","status":"ok"}]}' }],
      },
      healthy,
    );

  it('runs container and API per replica, the version-wide checks once', async () => {
    const results = await runChecks(
      world(),
      [replica, { name: 'r1', baseUrl: 'http://replica' }],
      ['container', 'api', 'database', 'external', 'performance'],
      {
        ...cfg,
        database: { ...cfg.database, enabled: true },
        external: [{ name: 'pg', tcp: 'db:5432' }],
      },
    );
    expect(results.map((r) => `${r.check}:${r.target}:${r.ok}`)).toEqual([
      'container:r0:true',
      'api:r0:true',
      'container:r1:true',
      'api:r1:true',
      'database:r0:true',
      'external:pg:true',
      'performance:r0:true',
    ]);
  });

  it('by default, a service without a readiness endpoint passes on container, API and performance', async () => {
    const noDatabase = deps(
      { '/health': [ok()], '/health/ready': [{ status: 404, body: 'Not Found' }] },
      healthy,
    );
    const results = await runChecks(
      noDatabase,
      [replica],
      ['container', 'api', 'database', 'performance'],
      cfg,
    );
    expect(results.map((r) => `${r.check}:${r.ok}`)).toEqual([
      'container:true',
      'api:true',
      'performance:true',
    ]);
  });

  it('stops at the first failure', async () => {
    const d = deps({ '/health': [{ status: 503, body: 'no' }] }, healthy);
    const results = await runChecks(d, [replica], ['container', 'api', 'database'], {
      ...cfg,
      api: { ...cfg.api, retries: 2 },
    });
    expect(results.map((r) => `${r.check}:${r.ok}`)).toEqual(['container:true', 'api:false']);
  });

  it('skips disabled checks and runs nothing without replicas', async () => {
    const results = await runChecks(world(), [replica], ['container', 'api', 'database', 'performance'], {
      ...cfg,
      container: { enabled: false, timeoutMs: 1 },
      database: { ...cfg.database, enabled: false },
      performance: { ...cfg.performance, enabled: false },
    });
    expect(results.map((r) => r.check)).toEqual(['api']);
    expect(await runChecks(world(), [], ['database'], cfg)).toEqual([]);
  });
});

describe('real HTTP and TCP probes', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((req, res) =>
      req.url === '/slow' ? setTimeout(() => res.end('late'), 500) : res.end('hello'),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('GETs with a timeout', async () => {
    expect(await httpGet(`http://127.0.0.1:${port}/`, 1000)).toEqual({ status: 200, body: 'hello' });
    await expect(httpGet(`http://127.0.0.1:${port}/slow`, 50)).rejects.toThrow(/timed out after 50 ms/);
  });

  it('connects over TCP', async () => {
    await expect(tcpConnect('127.0.0.1', port, 1000)).resolves.toBeUndefined();
    await expect(tcpConnect('127.0.0.1', 1, 1000)).rejects.toThrow(/ECONNREFUSED/);
  });
});
