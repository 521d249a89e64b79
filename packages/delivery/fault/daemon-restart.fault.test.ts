import { spawn, spawnSync } from 'node:child_process';
import { openSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine } from '@its/docker-engine';
import {
  buildTestImages,
  cleanUp,
  freePort,
  makeEnvironments,
  runItsctl,
  testEnvironment,
  type TestEnvironments,
} from '../test/deploy/test-support.fixture.js';

// Fault test: stops the Docker daemon under a deployed environment and starts it again, then checks
// the environment came back by itself (restart policies), serving the same version through the
// router, and that the next deployment works. It restarts the machine's dockerd, so it never runs
// with the other suites: `npm run test:fault` (vitest.fault.config.ts), in CI after them.

const APP = 'itsrestart';
const engine = new DockerEngine({ socketPath: '/var/run/docker.sock' });
let envs: TestEnvironments;
let port = 0;

function dockerdPid(): number | undefined {
  const r = spawnSync('pgrep', ['-x', 'dockerd'], { encoding: 'utf8' });
  const pid = Number(r.stdout.trim().split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Polls until the check passes or the bound runs out (readiness, not a sleep). */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end)
      throw new Error(`${what}: not within ${timeoutMs} ms (${String(last ?? 'no answer')})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function served(): Promise<string | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
  if (res.status !== 200) return undefined;
  return ((await res.json()) as { version: string }).version;
}

beforeAll(async () => {
  if (process.getuid?.() !== 0)
    throw new Error('the daemon-restart fault test needs root (it restarts dockerd)');
  if (dockerdPid() === undefined)
    throw new Error('dockerd is not running as a process this test can restart');
  await cleanUp([APP]);
  buildTestImages();
  port = await freePort();
  envs = makeEnvironments({ [APP]: testEnvironment(APP, port, 'rolling') });
  const first = await runItsctl(['deploy', '-e', APP, '-v', '1.0.0'], envs);
  expect(first.code, first.stderr).toBe(0);
}, 300_000);

afterAll(async () => {
  await cleanUp([APP]);
}, 120_000);

describe('a Docker daemon restart', () => {
  it('brings the environment back by itself: same version, both replicas, the router; the next deploy works', async () => {
    const before = (await engine.listContainers({ 'its.app': APP })).map((c) => c.Names[0]).sort();
    expect(before).toHaveLength(3);
    expect(await served()).toBe('1.0.0');

    const pid = dockerdPid()!;
    process.kill(pid, 'SIGTERM');
    await until('dockerd to exit', async () => (dockerdPid() === undefined ? true : undefined), 60_000);
    // While the daemon is down the environment is down too (live-restore is off): that is the fault.
    await expect(served()).rejects.toThrow();

    const log = openSync('/var/log/dockerd.log', 'a');
    spawn('dockerd', [], { detached: true, stdio: ['ignore', log, log] }).unref();
    await until('the engine to answer', async () => (await engine.ping(), true), 60_000);

    // Nobody restarts anything: the restart policies do.
    const version = await until('the router to serve again', served, 60_000);
    expect(version).toBe('1.0.0');
    const after = await engine.listContainers({ 'its.app': APP });
    expect(after.map((c) => c.Names[0]).sort()).toEqual(before);
    expect(after.every((c) => c.State === 'running')).toBe(true);

    const status = await runItsctl(['status', '-e', APP, '--json'], envs);
    expect(status.code, status.stderr).toBe(0);
    const report = JSON.parse(status.stdout) as {
      router: { running: boolean };
      serving: { version: string };
      replicas: Array<{ router: string }>;
    };
    expect(report.router.running).toBe(true);
    expect(report.serving.version).toBe('1.0.0');
    // The router re-resolved its servers by name (IPs may change across a daemon restart).
    await until(
      'both servers UP in the router',
      async () => {
        const s = await runItsctl(['status', '-e', APP, '--json'], envs);
        const r = JSON.parse(s.stdout) as { replicas: Array<{ router: string }> };
        return r.replicas.every((x) => /UP/.test(x.router)) ? true : undefined;
      },
      30_000,
    );

    const next = await runItsctl(['deploy', '-e', APP, '-v', '1.1.0'], envs);
    expect(next.code, next.stderr).toBe(0);
    expect(await served()).toBe('1.1.0');
  }, 300_000);
});
