import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { DockerEngine } from '@its/docker-engine';
import { DeployStore } from '@its/deploy';
import { startLoad } from '@its/deploy';
import {
  DOCKER,
  buildTestImages,
  cleanUp,
  freePort,
  makeEnvironments,
  repoRoot,
  runItsctl,
  spawnItsctl,
  testEnvironment,
  type TestEnvironments,
} from './test-support.fixture.js';

// Real Docker Engine, real HAProxy (the repo's image), the tiny test service; traffic from an
// in-process keep-alive load generator at a fixed 100 rps through the router.

const APPS = ['itsroll', 'itsbg', 'itsbad', 'itslock', 'itskill', 'itsstop', 'itstaken'];
const engine = new DockerEngine({ socketPath: '/var/run/docker.sock' });
let envs: TestEnvironments;
const ports: Record<string, number> = {};

async function servedVersion(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  return ((await res.json()) as { version: string }).version;
}

async function replicasOf(app: string) {
  return (await engine.listContainers({ 'its.app': app, 'its.role': 'replica' })).map((c) => ({
    name: c.Names[0],
    version: c.Labels['its.version'],
    state: c.State,
    slot: c.Labels['its.slot'],
  }));
}

/** Deploys while 100 rps flow through the router; returns the command's result and the traffic report. */
async function deployUnderLoad(env: string, args: string[]) {
  const load = startLoad({ url: `http://127.0.0.1:${ports[env]}/`, rps: 100, maxDurationMs: 90_000 });
  await new Promise((r) => setTimeout(r, 500));
  const run = await runItsctl(['deploy', '-e', env, ...args], envs);
  await new Promise((r) => setTimeout(r, 500));
  return { run, traffic: await load.stop() };
}

beforeAll(async () => {
  await cleanUp(APPS);
  buildTestImages();
  for (const app of APPS) ports[app] = await freePort();
  envs = makeEnvironments({
    itsroll: testEnvironment('itsroll', ports.itsroll!, 'rolling'),
    itsbg: testEnvironment('itsbg', ports.itsbg!, 'blue-green'),
    itsbad: testEnvironment('itsbad', ports.itsbad!, 'rolling'),
    // Slow starts keep the first deploy holding the lock well past the second one's start-up.
    itslock: testEnvironment('itslock', ports.itslock!, 'rolling', 'env: { STARTUP_MS: "3000" }'),
    itskill: testEnvironment('itskill', ports.itskill!, 'rolling', 'env: { STARTUP_MS: "1500" }'),
    itsstop: testEnvironment('itsstop', ports.itsstop!, 'rolling', 'replicas: 1', 'order: stop-first'),
    itstaken: testEnvironment('itstaken', ports.itstaken!, 'rolling'),
  });
}, 300_000);

afterAll(async () => {
  await cleanUp(APPS);
}, 120_000);

describe('rolling deployment on the real engine and HAProxy', () => {
  it('deploys, then rolls 1.0.0 → 1.1.0 and back under 100 rps with zero failed requests', async () => {
    const first = await runItsctl(['deploy', '-e', 'itsroll', '-v', '1.0.0'], envs);
    expect(first.code, first.stderr).toBe(0);
    expect(await servedVersion(ports.itsroll!)).toBe('1.0.0');

    const up = await deployUnderLoad('itsroll', ['-v', '1.1.0']);
    expect(up.run.code, up.run.stderr).toBe(0);
    expect(up.traffic.failures).toEqual([]);
    expect(up.traffic.failed).toBe(0);
    expect(up.traffic.sent).toBeGreaterThan(200);
    expect(up.traffic.versions['1.1.0']).toBeGreaterThan(0);
    expect(up.run.stderr).toMatch(/strategy: rolling/);
    expect(up.run.stderr).toMatch(/digest: +sha256:/);
    const after = await replicasOf('itsroll');
    expect(after).toHaveLength(2);
    expect(after.every((r) => r.version === '1.1.0' && r.state === 'running')).toBe(true);

    const back = await deployUnderLoad('itsroll', ['--rollback']);
    expect(back.run.code, back.run.stderr).toBe(0);
    expect(back.traffic.failed).toBe(0);
    expect(await servedVersion(ports.itsroll!)).toBe('1.0.0');
    expect((await replicasOf('itsroll')).map((r) => r.version)).toEqual(['1.0.0', '1.0.0']);

    const history = await runItsctl(['history', '-e', 'itsroll', '--json'], envs);
    const rows = JSON.parse(history.stdout) as Array<{
      action: string;
      version: string;
      outcome: string;
      checks: unknown[];
    }>;
    expect(rows.map((r) => `${r.action} ${r.version} ${r.outcome}`)).toEqual([
      'rollback 1.0.0 succeeded',
      'deploy 1.1.0 succeeded',
      'deploy 1.0.0 succeeded',
    ]);
    expect(rows[1]!.checks.length).toBeGreaterThanOrEqual(5);
  }, 240_000);
});

describe('blue-green deployment', () => {
  it('switches all traffic in one step with zero failed requests, then flips back instantly', async () => {
    const first = await runItsctl(['deploy', '-e', 'itsbg', '-v', '1.0.0'], envs);
    expect(first.code, first.stderr).toBe(0);

    const up = await deployUnderLoad('itsbg', ['-v', '1.1.0']);
    expect(up.run.code, up.run.stderr).toBe(0);
    expect(up.traffic.failed).toBe(0);
    // One switch: once green answers, blue never answers a request sent later (in send order; 50 ms
    // covers requests already on their way to the router when the map changed).
    const bySend = [...up.traffic.timeline].sort((a, b) => a.atMs - b.atMs);
    const firstGreen = bySend.find((t) => t.version === '1.1.0')!;
    expect(bySend[0]!.version).toBe('1.0.0');
    expect(bySend.filter((t) => t.atMs > firstGreen.atMs + 50 && t.version !== '1.1.0')).toEqual([]);
    // Blue is kept running for an instant rollback.
    const kept = await replicasOf('itsbg');
    expect(kept.filter((r) => r.version === '1.0.0' && r.state === 'running')).toHaveLength(2);

    const back = await deployUnderLoad('itsbg', ['--rollback']);
    expect(back.run.code, back.run.stderr).toBe(0);
    expect(back.run.stderr).toMatch(/rollback-flip/);
    expect(back.traffic.failed).toBe(0);
    expect(await servedVersion(ports.itsbg!)).toBe('1.0.0');
    // The flip starts nothing: the same four containers exist.
    expect((await replicasOf('itsbg')).map((r) => r.name).sort()).toEqual(kept.map((r) => r.name).sort());
  }, 240_000);
});

describe('stop-first rolling (a singleton that must never run twice)', () => {
  it('never runs the old and the new replica at the same time', async () => {
    const first = await runItsctl(['deploy', '-e', 'itsstop', '-v', '1.0.0'], envs);
    expect(first.code, first.stderr).toBe(0);
    let most = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const running = (await engine.listContainers({ 'its.app': 'itsstop', 'its.role': 'replica' })).filter(
          (c) => c.State === 'running',
        );
        most = Math.max(most, running.length);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const run = await runItsctl(['deploy', '-e', 'itsstop', '-v', '1.1.0'], envs);
    watching = false;
    await watcher;
    expect(run.code, run.stderr).toBe(0);
    expect(most).toBe(1);
    expect(await servedVersion(ports.itsstop!)).toBe('1.1.0');
  }, 120_000);
});

describe('a restarted router', () => {
  it('comes back serving the same slot and servers (its file follows every runtime change)', async () => {
    // After the flip above, green (live) holds 1.0.0 and blue 1.1.0: a restart must lose neither.
    const restart = spawnSync(DOCKER, ['restart', '-t', '2', 'itsbg-itsbg-router'], { encoding: 'utf8' });
    expect(restart.status, restart.stderr).toBe(0);
    let version = '';
    for (let i = 0; i < 100 && version === ''; i++) {
      version = await servedVersion(ports.itsbg!).catch(() => '');
      if (version === '') await new Promise((r) => setTimeout(r, 100));
    }
    expect(version).toBe('1.0.0');
    const status = JSON.parse((await runItsctl(['status', '-e', 'itsbg', '--json'], envs)).stdout) as {
      router: { activeSlot: string };
      kept?: { slot: string; version: string; until: string };
      replicas: Array<{ slot: string; router: string }>;
    };
    expect(status.router.activeSlot).toBe('green');
    expect(status.kept).toMatchObject({
      slot: 'blue',
      version: '1.1.0',
      until: expect.stringMatching(/^\d{4}-/),
    });
    expect(status.replicas.map((r) => r.router.split(' ')[0])).toEqual(['ready', 'ready', 'ready', 'ready']);
  }, 60_000);
});

describe('retiring the kept set', () => {
  it('keeps it inside its window, retires it on request without touching traffic', async () => {
    const early = await runItsctl(['retire', '-e', 'itsbg'], envs);
    expect(early.code, early.stderr).toBe(0);
    expect(early.stdout).toMatch(/^itsbg: nothing retired: the kept set stays until \d{4}-\d\d-\d\dT/);
    expect(await replicasOf('itsbg')).toHaveLength(4);
    const load = startLoad({ url: `http://127.0.0.1:${ports.itsbg}/`, rps: 100, maxDurationMs: 30_000 });
    const now = await runItsctl(['retire', '-e', 'itsbg', '--now'], envs);
    const traffic = await load.stop();
    expect(now.code, now.stderr).toBe(0);
    expect(now.stdout).toMatch(
      /^itsbg: retired itsbg-itsbg-blue-\S+, itsbg-itsbg-blue-\S+ \(retired on request\)/,
    );
    expect(traffic.failed).toBe(0);
    const left = await replicasOf('itsbg');
    expect(left.map((r) => `${r.slot} ${r.version}`)).toEqual(['green 1.0.0', 'green 1.0.0']);
    expect(await servedVersion(ports.itsbg!)).toBe('1.0.0');
  }, 60_000);
});

describe('a version whose health check fails', () => {
  it('never receives traffic; the old one keeps serving; the command names the check', async () => {
    const first = await runItsctl(['deploy', '-e', 'itsbad', '-v', '1.0.0'], envs);
    expect(first.code, first.stderr).toBe(0);
    const bad = await deployUnderLoad('itsbad', ['-v', '2.0.0-bad']);
    expect(bad.run.code).toBe(1);
    expect(bad.run.stderr).toMatch(
      /health check "database" failed on itsbad-itsbad-blue-\S+: GET \/health\/ready → 503: database is "fail" \(connection refused\)/,
    );
    expect(bad.run.stderr).toMatch(/rolled back \(1\.0\.0 keeps serving\)/);
    expect(bad.traffic.failed).toBe(0);
    expect(Object.keys(bad.traffic.versions)).toEqual(['1.0.0']);
    expect((await replicasOf('itsbad')).map((r) => r.version)).toEqual(['1.0.0', '1.0.0']);
    const history = JSON.parse(
      (await runItsctl(['history', '-e', 'itsbad', '--json'], envs)).stdout,
    ) as Array<{ outcome: string; reason: string }>;
    expect(history[0]).toMatchObject({ outcome: 'rolled-back' });
    expect(history[0]!.reason).toMatch(/database/);
  }, 180_000);
});

describe('locks and interruption', () => {
  it('lets one of two concurrent deploys proceed; the other gets a lock error', async () => {
    const [a, b] = await Promise.all([
      spawnItsctl(['deploy', '-e', 'itslock', '-v', '1.0.0'], envs),
      spawnItsctl(['deploy', '-e', 'itslock', '-v', '1.1.0'], envs),
    ]);
    const codes = [a.code, b.code].sort();
    expect(codes).toEqual([0, 1]);
    const loser = a.code === 1 ? a : b;
    expect(loser.stderr).toMatch(
      /environment itslock is locked by .+ \(pid \d+ on .+\) since .+: deploy 1\.(0|1)\.0/,
    );
    expect(await replicasOf('itslock')).toHaveLength(2);
    const lock = await runItsctl(['lock', 'status', '-e', 'itslock'], envs);
    expect(lock.stdout).toMatch(/itslock: free/);
  }, 180_000);

  it('after kill -9 mid-deploy the old version still serves and the next command cleans up, saying so', async () => {
    const first = await runItsctl(['deploy', '-e', 'itskill', '-v', '1.0.0'], envs);
    expect(first.code, first.stderr).toBe(0);
    const load = startLoad({ url: `http://127.0.0.1:${ports.itskill}/`, rps: 100, maxDurationMs: 90_000 });
    // Killed while the first new replica is being checked: it is started but not yet in the router.
    const killed = await spawnItsctl(['deploy', '-e', 'itskill', '-v', '1.1.0'], envs, (text, kill) => {
      if (/\[2\/\d+\] check/.test(text)) kill('SIGKILL');
    });
    expect(killed.signal).toBe('SIGKILL');
    expect(await servedVersion(ports.itskill!)).toBe('1.0.0');
    const leftovers = await replicasOf('itskill');
    expect(leftovers.some((r) => r.version === '1.1.0')).toBe(true);

    const lockShown = await runItsctl(['lock', 'status', '-e', 'itskill'], envs);
    expect(lockShown.stdout).toMatch(/locked by/);
    const next = await runItsctl(['deploy', '-e', 'itskill', '-v', '1.0.0', '-s', 'rolling'], envs);
    const traffic = await load.stop();
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/took over the lock of itskill .*no longer running/);
    expect(next.stderr).toMatch(/found deployment \S+ \(1\.1\.0, .*interrupted after \d+ step\(s\)/);
    expect(next.stderr).toMatch(/cleaning up: undoing its steps/);
    expect(traffic.failed).toBe(0);
    const final = await replicasOf('itskill');
    expect(final).toHaveLength(2);
    expect(final.every((r) => r.version === '1.0.0' && r.state === 'running')).toBe(true);
    const status = JSON.parse((await runItsctl(['status', '-e', 'itskill', '--json'], envs)).stdout) as {
      replicas: Array<{ router: string }>;
    };
    expect(status.replicas.every((r) => r.router.startsWith('ready UP'))).toBe(true);
  }, 240_000);

  it('SIGTERM mid-deploy rolls back and leaves the old version serving', async () => {
    const run = await spawnItsctl(['deploy', '-e', 'itskill', '-v', '1.1.0'], envs, (text, kill) => {
      if (/\[2\/\d+\] check/.test(text) && !text.includes('received')) kill('SIGTERM');
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/received SIGTERM: stopping after the current step and rolling back/);
    expect(await servedVersion(ports.itskill!)).toBe('1.0.0');
    const final = await replicasOf('itskill');
    expect(final.map((r) => r.version)).toEqual(['1.0.0', '1.0.0']);
  }, 120_000);
});

describe('status, history, audit and locks by hand', () => {
  it('shows the serving version, the audit log, and releases a held lock (audited)', async () => {
    const status = await runItsctl(['status', '-e', 'itsroll'], envs);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(
      /^itsroll: serving 1\.0\.0 \(sha256:\w+\) at http:\/\/127\.0\.0\.1:\d+\n {2}router: running, traffic on slot blue/,
    );
    const audit = await runItsctl(['history', '-e', 'itsroll', '--audit'], envs);
    expect(audit.stdout).toMatch(/ rollback: \S+: rolling 1\.1\.0 → 1\.0\.0/);
    const history = await runItsctl(['history', '-e', 'itsroll', '-n', '1'], envs);
    expect(history.stdout.trim().split('\n')).toHaveLength(1);
    expect(history.stdout).toMatch(/rollback 1\.1\.0 → 1\.0\.0 rolling succeeded/);

    const store = new DeployStore(join(envs.stateDir, 'itsroll', 'deploy.sqlite'));
    store.acquireLock(
      {
        environment: 'itsroll',
        holder: 'someone',
        pid: process.pid,
        host: hostname(),
        reason: 'deploy 9.9.9',
        deploymentId: 'dX',
      },
      600,
      { isAlive: () => true, hostname: hostname(), now: () => new Date() },
    );
    store.close();
    const locked = await runItsctl(['deploy', '-e', 'itsroll', '-v', '1.1.0'], envs);
    expect(locked.code).toBe(1);
    expect(locked.stderr).toMatch(
      /environment itsroll is locked by someone \(pid \d+ on .+\) since .+: deploy 9\.9\.9/,
    );
    expect((await runItsctl(['lock', 'status', '-e', 'itsroll', '--json'], envs)).stdout).toMatch(
      /"holder": "someone"/,
    );
    const released = await runItsctl(['lock', 'release', '-e', 'itsroll'], envs);
    expect(released.stdout).toBe('itsroll: released\n');
    expect(released.stderr).toMatch(/released the lock held by someone/);
    expect((await runItsctl(['lock', 'release', '-e', 'itsroll'], envs)).stdout).toBe(
      'itsroll: was not locked\n',
    );
    expect((await runItsctl(['history', '-e', 'itsroll', '--audit', '--json'], envs)).stdout).toMatch(
      /"action": "lock-release"/,
    );
  }, 60_000);
});

describe('bad input changes nothing', () => {
  it('rejects unknown environments, strategies and versions, listing what exists', async () => {
    const env = await runItsctl(['deploy', '-e', 'nope'], envs);
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(
      /unknown environment "nope"[\s\S]*use one of: itsbad, itsbg, itskill, itslock, itsroll/,
    );
    const strategy = await runItsctl(['deploy', '-e', 'itsroll', '-s', 'yolo'], envs);
    expect(strategy.code).toBe(2);
    expect(strategy.stderr).toMatch(/unknown strategy "yolo"[\s\S]*rolling, blue-green, canary/);
    const version = await runItsctl(['deploy', '-e', 'itsroll', '-v', '9.9.9'], envs);
    expect(version.code).toBe(2);
    expect(version.stderr).toMatch(
      /version "9\.9\.9" of its-testsvc is not on this engine[\s\S]*versions that exist: .*1\.0\.0, 1\.1\.0/,
    );
  }, 60_000);

  it('rejects versions with shell metacharacters, in the CLI and in scripts/deploy.sh', async () => {
    const before = await replicasOf('itsroll');
    const cli = await runItsctl(['deploy', '-e', 'itsroll', '-v', '1.0;rm -rf /'], envs);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/version "1\.0;rm -rf \/" is not a valid image tag/);
    const script = spawnSync(
      join(repoRoot, 'scripts', 'deploy.sh'),
      ['-e', 'itsroll', '-v', '1.0;rm -rf /'],
      {
        encoding: 'utf8',
        env: { ...process.env, ITS_DEPLOY_ENVIRONMENTS: envs.dir, ITS_DEPLOY_STATE_DIR: envs.stateDir },
      },
    );
    expect(script.status).toBe(2);
    expect(script.stderr).toMatch(/not a valid version/);
    const flag = spawnSync(join(repoRoot, 'scripts', 'deploy.sh'), ['-e', 'itsroll', '--force'], {
      encoding: 'utf8',
    });
    expect(flag.status).toBe(2);
    expect(flag.stderr).toMatch(/unknown option "--force"/);
    expect(await replicasOf('itsroll')).toEqual(before);
  }, 60_000);

  it('reports every error of a malformed environment file at once, with field paths', async () => {
    writeFileSync(
      join(envs.dir, 'broken.yml'),
      'app: Bad_Name\nimage: {}\nreplicas: 0\nrouter: { port: 70000 }\nstrategy: { default: canary-ish }\nextra: 1\n',
    );
    const run = await runItsctl(['deploy', '-e', 'broken', '--dry-run'], envs);
    expect(run.code).toBe(2);
    for (const field of [
      'app:',
      'image.repository:',
      'replicas:',
      'router.port:',
      'strategy.default:',
      '(root): Unrecognized key',
    ])
      expect(run.stderr).toContain(field);
  }, 60_000);

  it('--dry-run prints the exact plan and changes nothing', async () => {
    const before = await replicasOf('itsroll');
    const run = await runItsctl(['deploy', '-e', 'itsroll', '-v', '1.1.0', '--dry-run'], envs);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/plan: rolling of itsroll: 1\.0\.0 \(sha256:\w+\) → 1\.1\.0 \(sha256:\w+\)/);
    expect(run.stdout).toMatch(
      /\[prepare\] check itsroll-itsroll-blue-\S+: container, api, database, external, performance/,
    );
    expect(run.stdout).toMatch(/undo: router: drain/);
    expect(run.stdout).toMatch(/dry run: nothing was changed/);
    expect(await replicasOf('itsroll')).toEqual(before);
  }, 60_000);

  it('--dry-run -s canary prints each step with its weights, pause, thresholds and warm-up', async () => {
    const before = await replicasOf('itsroll');
    const run = await runItsctl(
      ['deploy', '-e', 'itsroll', '-v', '1.1.0', '-s', 'canary', '--dry-run'],
      envs,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/plan: canary of itsroll: 1\.0\.0 \(sha256:\w+\) → 1\.1\.0/);
    // The environment's defaults: 5 → 25 → 50 → 100 %, 30 s each, a fresh baseline.
    for (const [i, weight] of [
      [1, 5],
      [2, 25],
      [3, 50],
    ])
      expect(run.stdout).toMatch(
        new RegExp(
          `canary step ${i}/3: ${weight} % of traffic to \\S+ for 30 s — canary ${weight} % / fresh baseline`,
        ),
      );
    expect(
      run.stdout.match(/judged by: error rate fails above \+1 % \(one-sided, α 0\.05, power 0\.8\)/g),
    ).toHaveLength(3);
    expect(run.stdout).toMatch(
      /warm-up: each new replica's first 5 s excluded; inconclusive holds the step up to 3 × 30 s more/,
    );
    expect(run.stdout).toMatch(/dry run: nothing was changed/);
    expect(await replicasOf('itsroll')).toEqual(before);
  }, 60_000);

  it('a router port another process holds: the deploy fails naming the port and how to find the holder; freed, the next deploy works', async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(ports.itstaken!, '127.0.0.1', r));
    try {
      const run = await runItsctl(['deploy', '-e', 'itstaken', '-v', '1.0.0'], envs);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        `fix: another process or container holds 127.0.0.1:${ports.itstaken} — \`ss -ltnp 'sport = :${ports.itstaken}'\` names a process`,
      );
      expect((await replicasOf('itstaken')).filter((r) => r.state === 'running')).toEqual([]);
    } finally {
      await new Promise((r) => holder.close(r));
    }
    const next = await runItsctl(['deploy', '-e', 'itstaken', '-v', '1.0.0'], envs);
    expect(next.code, next.stderr).toBe(0);
    expect(await servedVersion(ports.itstaken!)).toBe('1.0.0');
  }, 120_000);
});
