import { createServer, type Server } from 'node:http';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine } from '@its/docker-engine';
import { startLoad, type LoadReport } from '@its/deploy';
import type { EvidenceEntry } from '@its/deploy';
import {
  DOCKER,
  buildTestImages,
  cleanUp,
  freePort,
  makeEnvironments,
  runItsctl,
  spawnItsctl,
  testEnvironment,
  type TestEnvironments,
} from './test-support.fixture.js';

// Canary analysis and the post-switch watch on the real engine and HAProxy: the router's own
// per-request log is the evidence. Every version here passes all five health checks; the faulty ones
// misbehave only under traffic (5 % errors, twice the latency, failing 12 s after start).
//
// A CPU hog runs beside every test (two busy-looping Node processes, one per core of our 2-core CI
// machine, each stopping by itself after HOG_MAX_MS and killed in afterAll): verdicts must hold on a
// loaded, shared machine, not only on an idle one. ITS_CANARY_HOG=0 runs the suite without it.

const APPS = [
  'itscan',
  'itscanerr',
  'itscanslow',
  'itscanthin',
  'itswatch',
  'itscansyn',
  'itscanblind',
  'itswatchroll',
  'itscanprom',
  'itscanpromfail',
  'itscankill',
];
const engine = new DockerEngine({ socketPath: '/var/run/docker.sock' });
/**
 * Each run's apps carry a suffix of their own (environment names stay): two copies of this suite on
 * one engine — a CI clone beside a working tree — neither share containers nor remove each other's.
 */
const RUN = randomBytes(3).toString('hex');
const appOf = (env: string): string => `${env}-${RUN}`;

const HOG = process.env.ITS_CANARY_HOG !== '0';
/** Longer than the suite (≈ 4 min under load), short enough that a hog a crash left behind ends soon. */
const HOG_MAX_MS = 12 * 60_000;
const hogs: ChildProcess[] = [];
function startHog(cores: number): void {
  for (let i = 0; i < cores; i++)
    hogs.push(
      spawn(
        process.execPath,
        [
          '-e',
          `const end = Date.now() + ${HOG_MAX_MS}; let x = 0; while (Date.now() < end) x = (x + 1) % 1e9;`,
        ],
        { stdio: 'ignore' },
      ),
    );
}
function stopHog(): void {
  for (const h of hogs.splice(0)) if (h.exitCode === null && h.signalCode === null) h.kill('SIGKILL');
}
let envs: TestEnvironments;
const ports: Record<string, number> = {};

// 25 % then 50 %, 6 s each, judged with a 2-point error-rate floor (≈ 300 requests per side needed
// at 200 rps: the first window can be inconclusive and extend, which is part of what is shown). The
// p95 SLO is loose (2 s): with the hog beside it the host's queueing, not the version, would decide
// a tight one — for the baseline as much as for the canary.
const CANARY =
  'canary: { replicas: 1, maxExtensions: 3, steps: [{ weight: 25, pauseSeconds: 6 }, { weight: 50, pauseSeconds: 6 }, { weight: 100 }], analysis: { maxErrorRateIncrease: 0.02, slo: { p95Ms: 2000 } } }';
const SERVICE = 'env: { LATENCY_MS: "20" }';
// The slow version's test: 100 ms of service time, 200 ms for 3.0.0-slow. Under the hog the host's
// queueing adds 100–500 ms to both sides; with 20 ms a 2× slower service is a +10–15 % change of the
// latency clients see — under the 20 % floor, so rightly not failed. 100 ms keeps the regression
// what it is meant to be here: plainly visible to clients.
const SLOW_SERVICE = 'env: { LATENCY_MS: "100" }';

async function servedVersion(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  return ((await res.json()) as { version: string }).version;
}

async function baselinesOf(app: string): Promise<string[]> {
  return (await engine.listContainers({ 'its.app': appOf(app), 'its.canary-role': 'baseline' })).map((c) =>
    (c.Names[0] ?? c.Id).replace(/^\//, ''),
  );
}

async function versionsOf(app: string): Promise<string[]> {
  return (await engine.listContainers({ 'its.app': appOf(app), 'its.role': 'replica' }))
    .filter((c) => c.State === 'running')
    .map((c) => c.Labels['its.version']!)
    .sort();
}

async function deployUnderLoad(env: string, args: string[], rps = 200) {
  const load = startLoad({ url: `http://127.0.0.1:${ports[env]}/`, rps, maxDurationMs: 150_000 });
  await new Promise((r) => setTimeout(r, 500));
  const run = await runItsctl(['deploy', '-e', env, ...args], envs);
  await new Promise((r) => setTimeout(r, 300));
  return { run, traffic: await load.stop() };
}

async function evidenceOf(
  env: string,
): Promise<{ outcome: string; reason: string; evidence: EvidenceEntry[] }> {
  const list = await runItsctl(['history', '-e', env, '--json', '-n', '1'], envs);
  const id = (JSON.parse(list.stdout) as Array<{ id: string }>)[0]!.id;
  const one = await runItsctl(['history', '-e', env, '--deployment', id, '--json'], envs);
  expect(one.code, one.stderr).toBe(0);
  return JSON.parse(one.stdout) as { outcome: string; reason: string; evidence: EvidenceEntry[] };
}

/** Failed requests sent after the first failure and before the last one: the fault's window. */
function faultWindowMs(traffic: LoadReport): number {
  const failed = traffic.timeline.filter((t) => !t.ok).map((t) => t.atMs);
  return failed.length === 0 ? 0 : Math.max(...failed) - Math.min(...failed);
}

/**
 * A Slack stand-in (Slack itself cannot be reached from here): a real HTTP server on 127.0.0.1 that
 * records the webhook bodies the deployments post. SLACK_WEBHOOK_URL points at it during the tests.
 */
const slack: { server?: Server; texts: string[] } = { texts: [] };
async function startSlackStandIn(): Promise<string> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      slack.texts.push((JSON.parse(body) as { text: string }).text);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  slack.server = server;
  const address = server.address() as { port: number };
  return `http://127.0.0.1:${address.port}/services/T0TEST/B0TEST/SECRETPART`;
}

/** A real Prometheus (Debian's package; .ci/run installs it) scraping itself, for the PromQL checks. */
const prometheus: { child?: ChildProcess; url: string } = { url: '' };
async function startPrometheus(): Promise<string> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'its-canary-prom-'));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global: { scrape_interval: 1s }\nscrape_configs:\n  - job_name: prometheus\n    static_configs: [{ targets: ['127.0.0.1:${port}'] }]\n`,
  );
  prometheus.child = spawn(
    '/usr/bin/prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const scraped = await fetch(`${url}/api/v1/query?query=up`, { signal: AbortSignal.timeout(2000) })
      .then(async (r) => ((await r.json()) as { data?: { result?: unknown[] } }).data?.result?.length === 1)
      .catch(() => false);
    if (scraped) return url;
    if (Date.now() > deadline) throw new Error('Prometheus did not scrape itself within 60 s');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A canary judged by the built-in comparison (synthetic traffic) and two PromQL queries. */
function promCanary(maxRequests: number): string {
  const queries = [
    // {{version}} is substituted (and validated) before the query is sent.
    `{ name: prometheus-up, query: 'sum(up{job="prometheus", version!="{{version}}"})', min: 1 }`,
    `{ name: http-requests, query: 'sum(prometheus_http_requests_total)', max: ${maxRequests} }`,
  ];
  return `canary: { maxExtensions: 2, syntheticTraffic: { rps: 150 }, steps: [{ weight: 50, pauseSeconds: 4 }, { weight: 100 }], analysis: { maxErrorRateIncrease: 0.05 }, prometheus: { url: '${prometheus.url}', queries: [${queries.join(', ')}] } }`;
}

beforeAll(async () => {
  process.env.SLACK_WEBHOOK_URL = await startSlackStandIn();
  prometheus.url = await startPrometheus();
  await cleanUp(APPS.map(appOf));
  buildTestImages();
  for (const app of APPS) ports[app] = await freePort();
  envs = makeEnvironments({
    itscan: testEnvironment(appOf('itscan'), ports.itscan!, 'canary', SERVICE, CANARY),
    itscanerr: testEnvironment(appOf('itscanerr'), ports.itscanerr!, 'canary', SERVICE, CANARY),
    itscanslow: testEnvironment(appOf('itscanslow'), ports.itscanslow!, 'canary', SLOW_SERVICE, CANARY),
    itscanthin: testEnvironment(
      appOf('itscanthin'),
      ports.itscanthin!,
      'canary',
      SERVICE,
      'canary: { maxExtensions: 1, steps: [{ weight: 50, pauseSeconds: 3 }, { weight: 100 }] }',
    ),
    itscansyn: testEnvironment(
      appOf('itscansyn'),
      ports.itscansyn!,
      'canary',
      SERVICE,
      'canary: { maxExtensions: 2, syntheticTraffic: { rps: 150 }, steps: [{ weight: 50, pauseSeconds: 5 }, { weight: 100 }] }',
    ),
    itscanblind: testEnvironment(
      appOf('itscanblind'),
      ports.itscanblind!,
      'canary',
      SERVICE,
      'canary: { maxExtensions: 1, steps: [{ weight: 50, pauseSeconds: 4 }, { weight: 100 }] }',
    ),
    itscanprom: testEnvironment(appOf('itscanprom'), ports.itscanprom!, 'canary', SERVICE, promCanary(1e12)),
    itscanpromfail: testEnvironment(
      appOf('itscanpromfail'),
      ports.itscanpromfail!,
      'canary',
      SERVICE,
      promCanary(0),
    ),
    itscankill: testEnvironment(
      appOf('itscankill'),
      ports.itscankill!,
      'canary',
      SERVICE,
      'canary: { steps: [{ weight: 25, pauseSeconds: 30 }, { weight: 100 }] }',
    ),
    itswatchroll: testEnvironment(
      appOf('itswatchroll'),
      ports.itswatchroll!,
      'rolling',
      `${SERVICE}\nwatch: { seconds: 30, intervalMs: 500, windowSeconds: 5, minSamples: 20, slo: { maxErrorRate: 0.05 } }`,
    ),
    itswatch: testEnvironment(
      appOf('itswatch'),
      ports.itswatch!,
      'blue-green',
      `${SERVICE}\nwatch: { seconds: 30, intervalMs: 500, windowSeconds: 5, minSamples: 20, slo: { maxErrorRate: 0.05 } }`,
    ),
  });
  if (HOG) startHog(2);
}, 400_000);

/**
 * Each test first deploys its environment's 1.0.0 (a first deployment has no baseline: promoted at
 * once) and the environment is removed after it: only what the test needs runs, instead of twenty
 * idle replicas whose health probes (a Node process each, every 2 s) would load two cores by
 * themselves.
 */
const active: string[] = [];
async function serving(app: string): Promise<void> {
  active.push(app);
  for (let attempt = 1; ; attempt++) {
    const first = await runItsctl(['deploy', '-e', app, '-v', '1.0.0'], envs);
    if (first.code === 0) return;
    // A failed first deployment has rolled itself back (nothing serves). On a crowded host a new
    // replica's 2-s image probe can time out three times running: this is set-up, try once more.
    if (attempt >= 2) expect(first.code, first.stderr).toBe(0);
  }
}

afterEach(async () => {
  await cleanUp(active.splice(0).map(appOf));
}, 120_000);

afterAll(async () => {
  stopHog();
  delete process.env.SLACK_WEBHOOK_URL;
  prometheus.child?.kill('SIGTERM');
  slack.server?.close();
  await cleanUp(APPS.map(appOf));
}, 120_000);

describe('canary analysis under 200 rps', () => {
  it('passes a healthy version through every step and promotes it with zero failed requests', async () => {
    await serving('itscan');
    const { run, traffic } = await deployUnderLoad('itscan', ['-v', '1.1.0']);
    expect(run.code, run.stderr).toBe(0);
    expect(traffic.failures).toEqual([]);
    expect(traffic.sent).toBeGreaterThan(2000);
    expect(traffic.versions['1.1.0']).toBeGreaterThan(0);
    expect(await versionsOf('itscan')).toEqual(['1.1.0', '1.1.0']);
    expect(await servedVersion(ports.itscan!)).toBe('1.1.0');
    const { evidence, outcome } = await evidenceOf('itscan');
    expect(outcome).toBe('succeeded');
    const steps = evidence.filter((e) => e.kind === 'canary-step');
    // Each analysed weight ends in a pass, after any inconclusive extensions.
    expect(steps.filter((e) => e.verdict === 'pass').map((e) => e.weight)).toEqual([25, 50]);
    expect(steps.some((e) => e.verdict === 'fail')).toBe(false);
    // Compared with a fresh baseline of 1.0.0 started beside the canary, gone after promotion.
    for (const e of steps) {
      expect(e.baseline?.kind).toBe('fresh');
      expect(e.baseline?.replicas).toEqual([
        expect.stringMatching(new RegExp(`^${appOf('itscan')}-itscan-blue-\\w+-baseline-0$`)),
      ]);
    }
    expect(await baselinesOf('itscan')).toEqual([]);
    // Both new replicas' first 5 s in the router counted for neither side.
    expect(steps[0]!.warmup?.seconds).toBe(5);
    expect(steps[0]!.warmup?.excluded.canary).toBeGreaterThan(0);
    expect(steps[0]!.warmup?.excluded.baseline).toBeGreaterThan(0);
    const last = steps[steps.length - 1]!;
    expect(last.analysis.canary.requests).toBeGreaterThan(100);
    expect(last.analysis.baseline!.requests).toBeGreaterThan(100);
    expect(last.source).toMatch(/real traffic/);
    expect(last.analysis.metrics.map((m) => m.metric)).toEqual(
      expect.arrayContaining(['error-rate', 'latency']),
    );
    const latency = last.analysis.metrics.find((m) => m.metric === 'latency')!;
    expect(latency.test).toBe('van-elteren');
    expect(latency.strata!.windows).toBeGreaterThanOrEqual(5);
    // At 50 % the fresh baseline gets the other 50 % (the serving set weight 1 each, a fallback only):
    // canary ÷ (canary + baseline) is about one half.
    const share =
      last.analysis.canary.requests / (last.analysis.canary.requests + last.analysis.baseline!.requests);
    expect(share).toBeGreaterThan(0.35);
    expect(share).toBeLessThan(0.65);
    expect(evidence.some((e) => e.kind === 'watch')).toBe(true);
    expect(run.stderr).toMatch(/canary 2\/2 at 50 %: pass/);
    // Slack (the stand-in) heard the start and the success, with the last verdict's sentence.
    expect(slack.texts).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(
            `^\\[itscan\\] ${appOf('itscan')}: deploying 1\\.1\\.0 \\(canary, replacing 1\\.0\\.0\\)`,
          ),
        ),
        expect.stringMatching(
          new RegExp(
            `^\\[itscan\\] ${appOf('itscan')}: 1\\.1\\.0 deployed \\(canary, replaced 1\\.0\\.0\\).*canary step`,
          ),
        ),
      ]),
    );
    // The webhook's secret path is never printed.
    expect(run.stderr).not.toContain('SECRETPART');
  }, 240_000);

  it('rolls back a version serving 5 % errors, naming the error rate and its numbers', async () => {
    await serving('itscanerr');
    const { run, traffic } = await deployUnderLoad('itscanerr', ['-v', '3.0.0-errors']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/canary analysis failed at step \d\/2 \(\d+ %\): error rate: canary/);
    expect(await versionsOf('itscanerr')).toEqual(['1.0.0', '1.0.0']);
    expect(await baselinesOf('itscanerr')).toEqual([]);
    expect(await servedVersion(ports.itscanerr!)).toBe('1.0.0');
    const { evidence, outcome, reason } = await evidenceOf('itscanerr');
    expect(outcome).toBe('rolled-back');
    expect(reason).toMatch(/error rate/);
    const failed = evidence.find((e) => e.verdict === 'fail')!;
    const metric = failed.analysis.metrics.find((m) => m.metric === 'error-rate')!;
    expect(metric.verdict).toBe('fail');
    expect(metric.pValue).toBeLessThan(0.05);
    expect(failed.analysis.canary.errorRate).toBeGreaterThan(0.02);
    expect(failed.analysis.baseline!.errorRate).toBeLessThan(0.01);
    // Only requests the canary answered failed: its share of the traffic, never the baseline's.
    expect(traffic.failures.every((f) => /status 500 from 3\.0\.0-errors/.test(f))).toBe(true);
    expect(traffic.failed).toBeLessThan(traffic.sent * 0.05);
    expect(slack.texts).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(
            `^\\[itscanerr\\] ${appOf('itscanerr')}: ROLLED BACK to 1\\.0\\.0 \\(canary, from 3\\.0\\.0-errors\\).*error rate`,
          ),
        ),
      ]),
    );
  }, 240_000);

  it('rolls back a version with twice the latency, naming the latency test and both medians', async () => {
    await serving('itscanslow');
    const { run, traffic } = await deployUnderLoad('itscanslow', ['-v', '3.0.0-slow']);
    expect(run.code).toBe(1);
    // Usually at the first step; on a crowded host the 25 % step may pass under the 20 % floor (the
    // host's queueing adds to both sides, so +20 ms is a smaller share), and the 50 % step fails it.
    expect(run.stderr).toMatch(/canary analysis failed at step \d\/2 \(\d+ %\): latency/);
    expect(traffic.failed).toBe(0);
    expect(await versionsOf('itscanslow')).toEqual(['1.0.0', '1.0.0']);
    const { evidence } = await evidenceOf('itscanslow');
    const failed = evidence.find((e) => e.verdict === 'fail')!;
    const latency = failed.analysis.metrics.find((m) => m.metric === 'latency')!;
    expect(latency.test).toBe('van-elteren');
    expect(latency.pValue).toBeLessThan(0.05);
    // Load adds the same delay to both sides, so a ratio shrinks under it; the shift does not. The
    // service takes ≈ 100 ms and the slow version ≈ 200 ms: well over 30 ms apart, inside the same
    // windows and in the medians.
    expect(latency.effect).toBeGreaterThan(30);
    expect(failed.analysis.canary.p50! - failed.analysis.baseline!.p50!).toBeGreaterThan(30);
    expect(failed.baseline?.kind).toBe('fresh');
    expect(await baselinesOf('itscanslow')).toEqual([]);
  }, 240_000);

  it('kill -9 mid-analysis: status shows the fresh baseline, and the next deploy removes it', async () => {
    await serving('itscankill');
    const load = startLoad({ url: `http://127.0.0.1:${ports.itscankill}/`, rps: 50, maxDurationMs: 120_000 });
    try {
      const killed = await spawnItsctl(['deploy', '-e', 'itscankill', '-v', '1.1.0'], envs, (text, kill) => {
        if (/router: weights in blue/.test(text) && /\[\d+\/\d+\] canary step 1\/1/.test(text))
          kill('SIGKILL');
      });
      expect(killed.signal).toBe('SIGKILL');
      expect(await baselinesOf('itscankill')).toHaveLength(1);
      const status = await runItsctl(['status', '-e', 'itscankill'], envs);
      expect(status.stdout).toMatch(/-baseline-0: 1\.0\.0 slot blue \(live\), fresh canary baseline/);
      const next = await runItsctl(['deploy', '-e', 'itscankill', '-v', '1.0.0', '-s', 'rolling'], envs);
      expect(next.code, next.stderr).toBe(0);
      expect(next.stderr).toMatch(/cleaning up: undoing its steps/);
      expect(await baselinesOf('itscankill')).toEqual([]);
      expect(await versionsOf('itscankill')).toEqual(['1.0.0', '1.0.0']);
    } finally {
      const traffic = await load.stop();
      expect(traffic.failed).toBe(0);
    }
  }, 240_000);

  it('holds and extends on thin traffic, then fails as inconclusive — never a pass', async () => {
    await serving('itscanthin');
    const { run } = await deployUnderLoad('itscanthin', ['-v', '1.1.0'], 4);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/holding 50 % for another 3 s \(extension 1 of 1\)/);
    expect(run.stderr).toMatch(/stayed inconclusive at step 1\/1 \(50 %\) after 1 extension/);
    expect(await versionsOf('itscanthin')).toEqual(['1.0.0', '1.0.0']);
    const { evidence } = await evidenceOf('itscanthin');
    expect(evidence.map((e) => e.verdict)).toEqual(['inconclusive', 'inconclusive']);
    expect(evidence[1]!.analysis.canary.requests).toBeLessThan(50);
  }, 240_000);
});

describe('where real traffic is thin or unreadable', () => {
  it('synthetic traffic, when configured, gives the analysis its samples — and the evidence says so', async () => {
    await serving('itscansyn');
    const run = await runItsctl(['deploy', '-e', 'itscansyn', '-v', '1.1.0'], envs);
    expect(run.code, run.stderr).toBe(0);
    const { evidence } = await evidenceOf('itscansyn');
    const passed = evidence.find((e) => e.kind === 'canary-step' && e.verdict === 'pass')!;
    expect(passed.synthetic).toBe(true);
    expect(passed.source).toMatch(/SYNTHETIC traffic: 150 rps/);
    expect(passed.analysis.canary.requests).toBeGreaterThan(100);
  }, 240_000);

  it('router statistics unreadable mid-analysis: inconclusive with that reason, then fails — never a pass', async () => {
    await serving('itscanblind');
    // The router keeps serving under another name; the engine can no longer give its log by name.
    const router = `${appOf('itscanblind')}-itscanblind-router`;
    const load = startLoad({
      url: `http://127.0.0.1:${ports.itscanblind}/`,
      rps: 100,
      maxDurationMs: 60_000,
    });
    let renamed = false;
    try {
      const deploying = runItsctl(['deploy', '-e', 'itscanblind', '-v', '1.1.0'], envs);
      // Rename once the step has begun (the canary is registered, its pause running).
      for (let i = 0; i < 200 && !renamed; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const weights = spawnSync(
          DOCKER,
          ['ps', '--filter', `label=its.app=${appOf('itscanblind')}`, '--format', '{{.Names}}'],
          {
            encoding: 'utf8',
          },
        ).stdout;
        if (weights.split('\n').filter((n) => n.includes('-blue-')).length >= 3) {
          renamed = spawnSync(DOCKER, ['rename', router, `${router}-hidden`]).status === 0;
        }
      }
      expect(renamed).toBe(true);
      const run = await deploying;
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/router statistics unreadable/);
      expect(run.stderr).toMatch(/stayed inconclusive/);
    } finally {
      if (renamed) spawnSync(DOCKER, ['rename', `${router}-hidden`, router]);
    }
    const traffic = await load.stop();
    expect(traffic.failed).toBe(0);
    expect(await versionsOf('itscanblind')).toEqual(['1.0.0', '1.0.0']);
    const { evidence } = await evidenceOf('itscanblind');
    expect(evidence.length).toBeGreaterThan(0);
    expect(evidence.every((e) => e.verdict === 'inconclusive' && /unreadable/.test(e.sentence))).toBe(true);
  }, 240_000);
});

describe('PromQL beside the built-in comparison (a real Prometheus)', () => {
  it('passes when the queries hold, and keeps their values in the evidence', async () => {
    await serving('itscanprom');
    const run = await runItsctl(['deploy', '-e', 'itscanprom', '-v', '1.1.0'], envs);
    expect(run.code, run.stderr).toBe(0);
    const { evidence } = await evidenceOf('itscanprom');
    const step = evidence.find((e) => e.kind === 'canary-step' && e.verdict === 'pass')!;
    expect(step.prometheus.map((p) => [p.name, p.verdict])).toEqual([
      ['prometheus-up', 'pass'],
      ['http-requests', 'pass'],
    ]);
    expect(step.prometheus[0]!.value).toBe(1);
  }, 240_000);

  it('rolls back when a query breaks its limit, naming the query and its value', async () => {
    await serving('itscanpromfail');
    const run = await runItsctl(['deploy', '-e', 'itscanpromfail', '-v', '1.1.0'], envs);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/canary analysis failed at step 1\/1 \(50 %\): prometheus http-requests: /);
    expect(await versionsOf('itscanpromfail')).toEqual(['1.0.0', '1.0.0']);
    const { evidence } = await evidenceOf('itscanpromfail');
    const failed = evidence.find((e) => e.verdict === 'fail')!;
    expect(failed.prometheus.find((p) => p.name === 'http-requests')).toMatchObject({ verdict: 'fail' });
    expect(failed.prometheus.find((p) => p.name === 'http-requests')!.value).toBeGreaterThan(0);
  }, 240_000);
});

describe('post-switch watch', () => {
  it('flips a blue-green switch back when the new version starts failing 12 s after it started', async () => {
    await serving('itswatch');
    const { run, traffic } = await deployUnderLoad('itswatch', ['-v', '3.0.0-late'], 100);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/post-switch watch failed/);
    expect(await servedVersion(ports.itswatch!)).toBe('1.0.0');
    const { evidence, outcome } = await evidenceOf('itswatch');
    expect(outcome).toBe('rolled-back');
    const watch = evidence.find((e) => e.kind === 'watch')!;
    expect(watch.verdict).toBe('fail');
    // Some requests fail between the fault and the flip; the flip comes within seconds of it.
    expect(traffic.failed).toBeGreaterThan(0);
    expect(faultWindowMs(traffic)).toBeLessThan(5000);
    expect(traffic.versions['1.0.0']).toBeGreaterThan(0);
  }, 240_000);

  it('rolling: restarts the stopped old replicas and removes the new ones when the watch fails', async () => {
    await serving('itswatchroll');
    const { run, traffic } = await deployUnderLoad('itswatchroll', ['-v', '3.0.0-late'], 100);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/post-switch watch failed/);
    expect(run.stderr).toMatch(
      new RegExp(`undo: start ${appOf('itswatchroll')}-itswatchroll-blue-\\S+ again`),
    );
    expect(await versionsOf('itswatchroll')).toEqual(['1.0.0', '1.0.0']);
    expect(await servedVersion(ports.itswatchroll!)).toBe('1.0.0');
    expect((await evidenceOf('itswatchroll')).outcome).toBe('rolled-back');
    // Rolling had stopped the old set: restarting it takes a few seconds more than a flip.
    expect(traffic.failed).toBeGreaterThan(0);
    expect(faultWindowMs(traffic)).toBeLessThan(15_000);
  }, 240_000);
});
