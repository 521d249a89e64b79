/**
 * `npm run bench` (packages/delivery) / `npm run bench:deploy` (root): deployments under a fixed
 * request rate through the router, side by side with `docker-compose up -d` recreating the same
 * service, then a healthy canary under CPU contention with a fresh and with a serving baseline.
 * Bounded: every load phase and the CPU hog stop by themselves; about two minutes plus the
 * contention rows' BENCH_CONTENTION_SECONDS (600 by default).
 * Prints a Markdown table and writes reports/bench/deploy.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { deploy, type DeploySummary } from '@its/deploy';
import { percentileOf, startLoad, type LoadReport } from '@its/deploy';
import { DockerEngine, publishedPort } from '@its/docker-engine';
import { resolveComposeCommand } from '@its/docker-engine';
import {
  buildTestImages,
  cleanUp,
  freePort,
  makeEnvironments,
  repoRoot,
  testEnvironment,
  type TestEnvironments,
} from '../test/deploy/test-support.fixture.js';

const RPS = Number(process.env.BENCH_RPS ?? 200);
const APPS = [
  'itsbenchroll',
  'itsbenchbg',
  'itsbenchcompose',
  'itsbenchcan',
  'itsbenchwatch',
  'itsbenchcanfresh',
  'itsbenchcanserv',
];
/** The contention rows: at most this long in all, and at most this many deployments per baseline kind. */
const CONTENTION_SECONDS = Number(process.env.BENCH_CONTENTION_SECONDS ?? 600);
const CONTENTION_RUNS = Number(process.env.BENCH_CONTENTION_RUNS ?? 12);
/** A hog that outlives nothing: each busy loop ends by itself after the contention budget plus a margin. */
function startHog(cores: number, maxMs: number): ChildProcess[] {
  return Array.from({ length: cores }, () =>
    spawn(
      process.execPath,
      ['-e', `const end = Date.now() + ${maxMs}; let x = 0; while (Date.now() < end) x = (x + 1) % 1e9;`],
      {
        stdio: 'ignore',
      },
    ),
  );
}

interface ContentionRow {
  baseline: 'fresh' | 'serving';
  runs: number;
  falseRollbacks: number;
  /** The deciding sentence of each false rollback. */
  reasons: string[];
  commandMs: number[];
  loadAverage: number[];
}
const engine = new DockerEngine({ socketPath: '/var/run/docker.sock' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stderr.write(`${line}\n`);

interface Phase {
  name: string;
  rps: number;
  sent: number;
  failed: number;
  firstFailures: string[];
  commandMs: number;
  /** Command start → the moment after which every request answered with the new version. */
  allTrafficMovedMs: number | undefined;
  deploy?: { totalMs: number; healthWaitMs: number; beyondHealthMs: number };
  /** A faulty version: its first failed request → the last request it answered (send times). */
  faultToRollbackMs?: number;
}

function faultToRollback(report: LoadReport, faulty: string): number | undefined {
  const bySend = [...report.timeline].sort((a, b) => a.atMs - b.atMs);
  const onset = bySend.find((t) => !t.ok);
  if (!onset) return undefined;
  const last = [...bySend].reverse().find((t) => !t.ok || t.version === faulty)!;
  return Math.round(last.atMs - onset.atMs);
}

/** When, relative to startMs, traffic settled on `version` for good (by send time). */
function settledAt(report: LoadReport, version: string, startMs: number): number | undefined {
  const bySend = [...report.timeline].sort((a, b) => a.atMs - b.atMs);
  let last = -1;
  bySend.forEach((t, i) => {
    if (t.version !== version) last = i;
  });
  const first = bySend[last + 1];
  return first ? Math.max(0, first.atMs - startMs) : undefined;
}

async function underLoad(
  name: string,
  port: number,
  version: string,
  action: () => Promise<DeploySummary | void>,
  faulty?: string,
): Promise<Phase> {
  const loadStart = performance.now();
  const load = startLoad({ url: `http://127.0.0.1:${port}/`, rps: RPS, maxDurationMs: 120_000 });
  await sleep(1000);
  const t0 = performance.now();
  // A faulty version's deployment ends in an error (rolled back): that is the measured outcome.
  const summary = await action().catch((e: unknown) => {
    if (!faulty) throw e;
    log(`  (rolled back as expected: ${(e as Error).message.split('\n')[0]})`);
    return undefined;
  });
  const commandMs = performance.now() - t0;
  await sleep(1500);
  const report = await load.stop();
  const moved = settledAt(report, version, t0 - loadStart);
  const phase: Phase = {
    name,
    rps: RPS,
    sent: report.sent,
    failed: report.failed,
    firstFailures: report.failures.slice(0, 3),
    commandMs: Math.round(commandMs),
    allTrafficMovedMs: moved === undefined ? undefined : Math.round(moved),
    ...(faulty ? { faultToRollbackMs: faultToRollback(report, faulty) } : {}),
  };
  if (summary) {
    // The unavoidable part: each new replica's start until the engine first calls it healthy.
    const healthWaitMs = summary.checks
      .filter((c) => c.check === 'container')
      .reduce((sum, c) => sum + c.durationMs, 0);
    phase.deploy = {
      totalMs: summary.durationMs,
      healthWaitMs,
      beyondHealthMs: summary.durationMs - healthWaitMs,
    };
  }
  log(
    `  ${name}: ${phase.failed} failed of ${phase.sent}; command ${phase.commandMs} ms; all traffic on ${version} from +${phase.allTrafficMovedMs} ms`,
  );
  return phase;
}

function ctx(envs: TestEnvironments) {
  return {
    cwd: repoRoot,
    env: process.env,
    now: () => new Date(),
    log: () => {},
    signal: new AbortController().signal,
    environmentsDir: envs.dir,
    stateDir: envs.stateDir,
  };
}

interface Throughput {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
}

/** Closed loop: `connections` keep-alive clients as fast as they can for durationMs. */
async function maxThroughput(url: string, connections: number, durationMs: number): Promise<Throughput> {
  const { Agent, request } = await import('node:http');
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  let failed = 0;
  const end = performance.now() + durationMs;
  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = request(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(performance.now() - t0);
          else failed++;
          resolve();
        });
      });
      req.on('error', () => {
        failed++;
        resolve();
      });
      req.end();
    });
  const worker = async () => {
    while (performance.now() < end) await one();
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsed = performance.now() - t0;
  agent.destroy();
  return {
    rps: Math.round(latencies.length / (elapsed / 1000)),
    p50Ms: +percentileOf(latencies, 50).toFixed(2),
    p99Ms: +percentileOf(latencies, 99).toFixed(2),
    failed,
  };
}

async function fixedRateLatency(url: string, durationMs: number): Promise<Throughput> {
  const load = startLoad({ url, rps: RPS, maxDurationMs: durationMs });
  await sleep(durationMs + 200);
  const r = await load.stop();
  return {
    rps: Math.round(r.ok / (r.durationMs / 1000)),
    p50Ms: +percentileOf(r.latenciesMs, 50).toFixed(2),
    p99Ms: +percentileOf(r.latenciesMs, 99).toFixed(2),
    failed: r.failed,
  };
}

/**
 * A healthy canary (1.0.0 ↔ 1.1.0, the same service) while every core runs a busy loop: deployments
 * alternate between an environment comparing with a fresh baseline and one comparing with the
 * serving set, under the bench's fixed rate, until CONTENTION_SECONDS or CONTENTION_RUNS each.
 * Every rollback here is a false one.
 */
async function contentionRows(
  envs: TestEnvironments,
  ports: { itsbenchcanfresh: number; itsbenchcanserv: number },
): Promise<ContentionRow[]> {
  log(
    `healthy canary under CPU contention: fresh vs serving baseline (≤ ${CONTENTION_SECONDS} s, ≤ ${CONTENTION_RUNS} each)`,
  );
  const rows: Record<keyof typeof ports, ContentionRow> = {
    itsbenchcanfresh: {
      baseline: 'fresh',
      runs: 0,
      falseRollbacks: 0,
      reasons: [],
      commandMs: [],
      loadAverage: [],
    },
    itsbenchcanserv: {
      baseline: 'serving',
      runs: 0,
      falseRollbacks: 0,
      reasons: [],
      commandMs: [],
      loadAverage: [],
    },
  };
  const serving: Record<keyof typeof ports, string> = { itsbenchcanfresh: '1.0.0', itsbenchcanserv: '1.0.0' };
  const hog = startHog(cpus().length, (CONTENTION_SECONDS + 180) * 1000);
  const end = performance.now() + CONTENTION_SECONDS * 1000;
  try {
    for (let i = 0; performance.now() < end; i++) {
      if (rows.itsbenchcanfresh.runs >= CONTENTION_RUNS && rows.itsbenchcanserv.runs >= CONTENTION_RUNS)
        break;
      const app = i % 2 === 0 ? 'itsbenchcanfresh' : 'itsbenchcanserv';
      const row = rows[app];
      if (row.runs >= CONTENTION_RUNS) continue;
      const version = serving[app] === '1.0.0' ? '1.1.0' : '1.0.0';
      const load = startLoad({ url: `http://127.0.0.1:${ports[app]}/`, rps: RPS, maxDurationMs: 150_000 });
      await sleep(500);
      const t0 = performance.now();
      row.loadAverage.push(loadavg()[0]!);
      const outcome = await deploy(ctx(envs), { environment: app, version }).then(
        () => 'promoted',
        (e: unknown) => (e instanceof Error ? e.message.split('\n')[0]! : String(e)),
      );
      row.commandMs.push(Math.round(performance.now() - t0));
      await load.stop();
      row.runs++;
      if (outcome === 'promoted') serving[app] = version;
      else {
        row.falseRollbacks++;
        row.reasons.push(outcome.slice(0, 400));
      }
      log(
        `  ${row.baseline} #${row.runs}: ${outcome === 'promoted' ? `promoted ${version}` : `ROLLED BACK: ${outcome.slice(0, 200)}`} (load ${loadavg()[0]!.toFixed(1)})`,
      );
    }
  } finally {
    for (const h of hog) h.kill('SIGKILL');
  }
  return [rows.itsbenchcanfresh, rows.itsbenchcanserv];
}

async function composePhase(port: number): Promise<Phase | { name: string; skipped: string }> {
  // Compose v2 (`docker compose`) or v1 (`docker-compose`), whichever this machine has.
  const composeCommand = resolveComposeCommand();
  if (!composeCommand)
    return {
      name: 'docker-compose up -d (recreate)',
      skipped:
        'neither docker compose (v2) nor docker-compose (v1) is installed (apt-get install -y docker-compose)',
    };
  const dir = makeEnvironments({}).dir;
  const file = join(dir, 'docker-compose.yml');
  // The same service, published straight on 127.0.0.1 as compose users do; a new image recreates it.
  writeFileSync(
    file,
    `version: "2.4"\nservices:\n  testsvc:\n    image: its-testsvc:\${SVC_VERSION}\n    init: true\n    environment:\n      APP_VERSION: \${SVC_VERSION}\n    ports: ["127.0.0.1:${port}:8000"]\n    labels: { its.app: itsbenchcompose }\n`,
  );
  const compose = (version: string, ...args: string[]) =>
    new Promise<number>((resolve) => {
      const [program, ...prefix] = composeCommand;
      const child = spawn(program!, [...prefix, '-p', 'itsbenchcompose', '-f', file, ...args], {
        env: { ...process.env, SVC_VERSION: version, DOCKER_HOST: 'unix:///var/run/docker.sock' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let errors = '';
      // Read stderr: an unread pipe never ends, and 'close' would never come.
      child.stderr.on('data', (d: Buffer) => (errors += d.toString()));
      child.on('close', (code) => {
        if (code !== 0) log(`  ${composeCommand.join(' ')} ${args.join(' ')} failed: ${errors.trim()}`);
        resolve(code ?? 1);
      });
    });
  if ((await compose('1.0.0', 'up', '-d')) !== 0)
    return { name: 'docker-compose up -d (recreate)', skipped: 'docker-compose up failed' };
  // Ready when it answers.
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await sleep(100);
  }
  try {
    return await underLoad('docker-compose up -d (recreate)', port, '1.1.0', async () => {
      await compose('1.1.0', 'up', '-d');
    });
  } finally {
    await compose('1.1.0', 'down', '-t', '5');
  }
}

async function main(): Promise<void> {
  const t0 = performance.now();
  log(
    `deployment benchmark at ${RPS} rps through the router (bounded; about two minutes, then ≤ ${CONTENTION_SECONDS} s of contention rows)`,
  );
  await cleanUp(APPS);
  buildTestImages();
  const rollPort = await freePort();
  const bgPort = await freePort();
  const composePort = await freePort();
  const canPort = await freePort();
  const watchPort = await freePort();
  const freshPort = await freePort();
  const servPort = await freePort();
  const envs = makeEnvironments({
    itsbenchroll: testEnvironment('itsbenchroll', rollPort, 'rolling'),
    itsbenchbg: testEnvironment('itsbenchbg', bgPort, 'blue-green'),
    itsbenchcan: testEnvironment(
      'itsbenchcan',
      canPort,
      'canary',
      'env: { LATENCY_MS: "20" }',
      'canary: { steps: [{ weight: 25, pauseSeconds: 6 }, { weight: 50, pauseSeconds: 6 }, { weight: 100 }], analysis: { maxErrorRateIncrease: 0.02 } }',
    ),
    ...Object.fromEntries(
      (
        [
          ['itsbenchcanfresh', 'fresh', freshPort],
          ['itsbenchcanserv', 'serving', servPort],
        ] as const
      ).map(([app, baseline, port]) => [
        app,
        testEnvironment(
          app,
          port,
          'canary',
          'env: { LATENCY_MS: "20" }',
          `canary: { steps: [{ weight: 25, pauseSeconds: 6 }, { weight: 50, pauseSeconds: 6 }, { weight: 100 }], analysis: { maxErrorRateIncrease: 0.02, baseline: ${baseline} } }`,
        ),
      ]),
    ),
    itsbenchwatch: testEnvironment(
      'itsbenchwatch',
      watchPort,
      'blue-green',
      'env: { LATENCY_MS: "20" }\nwatch: { seconds: 30, intervalMs: 500, windowSeconds: 5 }',
    ),
  });
  const phases: Array<Phase | { name: string; skipped: string }> = [];
  const contention: ContentionRow[] = [];
  let overhead:
    { direct: Throughput; router: Throughput; directFixed: Throughput; routerFixed: Throughput } | undefined;
  try {
    await deploy(ctx(envs), { environment: 'itsbenchroll', version: '1.0.0' });
    await deploy(ctx(envs), { environment: 'itsbenchbg', version: '1.0.0' });
    await deploy(ctx(envs), { environment: 'itsbenchcan', version: '1.0.0' });
    await deploy(ctx(envs), { environment: 'itsbenchwatch', version: '1.0.0' });

    log('router overhead: one replica direct vs the router in front of two');
    const replica = (await engine.listContainers({ 'its.app': 'itsbenchroll', 'its.role': 'replica' }))[0]!;
    const directPort = publishedPort((await engine.inspectContainer(replica.Id))!, 8000)!;
    const direct = await maxThroughput(`http://127.0.0.1:${directPort}/`, 16, 5000);
    const router = await maxThroughput(`http://127.0.0.1:${rollPort}/`, 16, 5000);
    const directFixed = await fixedRateLatency(`http://127.0.0.1:${directPort}/`, 5000);
    const routerFixed = await fixedRateLatency(`http://127.0.0.1:${rollPort}/`, 5000);
    overhead = { direct, router, directFixed, routerFixed };
    log(`  direct ${direct.rps} rps p99 ${direct.p99Ms} ms; router ${router.rps} rps p99 ${router.p99Ms} ms`);

    log('rolling 1.0.0 → 1.1.0, then --rollback (a redeploy of 1.0.0)');
    phases.push(
      await underLoad('rolling deploy', rollPort, '1.1.0', () =>
        deploy(ctx(envs), { environment: 'itsbenchroll', version: '1.1.0' }),
      ),
    );
    phases.push(
      await underLoad('rolling rollback (redeploy)', rollPort, '1.0.0', () =>
        deploy(ctx(envs), { environment: 'itsbenchroll', rollback: true }),
      ),
    );

    log('blue-green 1.0.0 → 1.1.0, then --rollback (a traffic flip)');
    phases.push(
      await underLoad('blue-green deploy', bgPort, '1.1.0', () =>
        deploy(ctx(envs), { environment: 'itsbenchbg', version: '1.1.0' }),
      ),
    );
    phases.push(
      await underLoad('blue-green rollback (flip)', bgPort, '1.0.0', () =>
        deploy(ctx(envs), { environment: 'itsbenchbg', rollback: true }),
      ),
    );

    log('canary 1.0.0 → 1.1.0 (25 → 50 → 100 %, 6 s steps), analysed and promoted');
    phases.push(
      await underLoad('canary deploy (promoted)', canPort, '1.1.0', () =>
        deploy(ctx(envs), { environment: 'itsbenchcan', version: '1.1.0' }),
      ),
    );
    log('canary of a version with twice the latency: rolled back at the first step');
    phases.push(
      await underLoad(
        'canary rollback (latency ×2)',
        canPort,
        '1.1.0',
        () => deploy(ctx(envs), { environment: 'itsbenchcan', version: '3.0.0-slow' }),
        '3.0.0-slow',
      ),
    );
    log('canary of a version that fails 12 s after it starts: fault onset → rollback');
    phases.push(
      await underLoad(
        'canary, fault mid-analysis',
        canPort,
        '1.1.0',
        () => deploy(ctx(envs), { environment: 'itsbenchcan', version: '3.0.0-late' }),
        '3.0.0-late',
      ),
    );
    log('blue-green of a version that fails 12 s after it starts: the post-switch watch flips back');
    phases.push(
      await underLoad(
        'blue-green, fault after the switch (watch)',
        watchPort,
        '1.0.0',
        () => deploy(ctx(envs), { environment: 'itsbenchwatch', version: '3.0.0-late' }),
        '3.0.0-late',
      ),
    );

    log('docker-compose up -d recreating the same service');
    phases.push(await composePhase(composePort));

    contention.push(
      ...(await contentionRows(envs, { itsbenchcanfresh: freshPort, itsbenchcanserv: servPort })),
    );
  } finally {
    await cleanUp(APPS);
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const result = {
    date: new Date().toISOString(),
    machine: `${cpu}, ${cpus().length} cores`,
    rps: RPS,
    phases,
    contention,
    overhead,
    totalSeconds: Math.round((performance.now() - t0) / 1000),
  };
  mkdirSync(join(repoRoot, 'reports', 'bench'), { recursive: true });
  writeFileSync(join(repoRoot, 'reports', 'bench', 'deploy.json'), `${JSON.stringify(result, null, 2)}\n`);
  const rows = phases.map((p) =>
    'skipped' in p
      ? `| ${p.name} | skipped: ${p.skipped} | | | | | |`
      : `| ${p.name} | ${p.failed} / ${p.sent} | ${p.commandMs} | ${p.allTrafficMovedMs ?? '–'} | ${p.deploy ? p.deploy.healthWaitMs : '–'} | ${p.deploy ? p.deploy.beyondHealthMs : '–'} | ${p.faultToRollbackMs ?? '–'} |`,
  );
  process.stdout.write(
    [
      `Machine: ${result.machine}; ${RPS} rps fixed rate, keep-alive, through the router (compose: straight to its published port).`,
      '',
      '| operation | failed / sent | command (ms) | traffic all on target from (ms) | waiting for healthy (ms) | beyond container start + healthy (ms) | fault onset → rollback (ms) |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
      '| healthy canary under CPU contention (a busy loop per core beside it) | deployments | false rollbacks | command p50 (ms) | load average (1 min) during the runs |',
      '| --- | --- | --- | --- | --- |',
      ...contention.map(
        (c) =>
          `| baseline: ${c.baseline} | ${c.runs} | **${c.falseRollbacks}** / ${c.runs} | ${c.commandMs.length ? Math.round(percentileOf(c.commandMs, 50)) : '–'} | ${c.loadAverage.length ? `${Math.min(...c.loadAverage).toFixed(1)}–${Math.max(...c.loadAverage).toFixed(1)}` : '–'} |`,
      ),
      ...contention.flatMap((c) => c.reasons.map((r) => `- ${c.baseline} false rollback: ${r}`)),
      '',
      overhead
        ? [
            '| path | max rps (16 conns) | p50 / p99 at max (ms) | p50 / p99 at ' + RPS + ' rps (ms) |',
            '| --- | --- | --- | --- |',
            `| direct to one replica | ${overhead.direct.rps} | ${overhead.direct.p50Ms} / ${overhead.direct.p99Ms} | ${overhead.directFixed.p50Ms} / ${overhead.directFixed.p99Ms} |`,
            `| through HAProxy (2 replicas) | ${overhead.router.rps} | ${overhead.router.p50Ms} / ${overhead.router.p99Ms} | ${overhead.routerFixed.p50Ms} / ${overhead.routerFixed.p99Ms} |`,
          ].join('\n')
        : '',
      '',
    ].join('\n'),
  );
}

await main();
