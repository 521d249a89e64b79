import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine } from '@its/docker-engine';
import { startLoad } from '@its/deploy';
import {
  DOCKER,
  buildTestImages,
  cleanUp,
  freePort,
  makeEnvironments,
  runItsctl,
  testEnvironment,
  type TestEnvironments,
} from './test-support.fixture.js';

// Breaks something on purpose: the router's state directory (<state>/<env>/router, bind-mounted at
// /var/run/its-router) is deleted while the router runs. HAProxy keeps serving from memory, but its
// admin socket is gone. Commands must say so at once (not wait 15 s for a socket that will never
// answer), and the next deploy recreates the directory from the running replicas and restarts the
// router — under 100 rps, measuring how many requests that restart costs: a published port belongs to
// one container, and the container sees the deleted directory until it restarts, so a short gap in
// accepting connections is the engine's limit (docs/deploy.md, "A deleted state directory").

const APP = 'itslost';
const engine = new DockerEngine({ socketPath: '/var/run/docker.sock' });
let envs: TestEnvironments;
let port = 0;
/** The digest 1.1.0 was deployed as: the last successful deployment when the directory is deleted. */
let lastDigest = '';
const routerDir = () => join(envs.stateDir, APP, 'router');

async function servedVersion(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  return ((await res.json()) as { version: string }).version;
}

beforeAll(async () => {
  await cleanUp([APP]);
  buildTestImages();
  port = await freePort();
  // Blue-green: after two deploys both slots run (the previous set is kept for rollback), so the
  // recreated router must find the serving slot from the history, not from which slot has replicas.
  envs = makeEnvironments({ [APP]: testEnvironment(APP, port, 'blue-green') });
  for (const version of ['1.0.0', '1.1.0']) {
    const run = await runItsctl(['deploy', '-e', APP, '-v', version], envs);
    if (run.code !== 0) throw new Error(`deploy ${version} failed: ${run.stderr}`);
    lastDigest = /digest:\s+(sha256:\w+)/.exec(run.stdout + run.stderr)?.[1] ?? '';
  }
  if (!lastDigest) throw new Error('the deploy of 1.1.0 printed no digest');
}, 300_000);

afterAll(async () => {
  await cleanUp([APP]);
}, 120_000);

describe('a router whose state directory was deleted under it', () => {
  it('keeps serving, and status says what happened at once instead of timing out', async () => {
    rmSync(routerDir(), { recursive: true, force: true });
    expect(await servedVersion()).toBe('1.1.0');
    const started = Date.now();
    const status = await runItsctl(['status', '-e', APP], envs);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(
      new RegExp(`router ${APP}-${APP}-router is running, but its state directory \\S+ was deleted under it`),
    );
    expect(status.stderr).toMatch(/`itsctl deploy -e itslost` recreates it/);
    expect(status.stderr).not.toMatch(/did not answer in 15000 ms/);
  }, 60_000);

  it('a dry run plans against the router as the deploy will recreate it, and changes nothing', async () => {
    const run = await runItsctl(['deploy', '-e', APP, '-v', '1.0.0', '--dry-run'], envs);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/plan: blue-green of itslost: 1\.1\.0 \(sha256:\w+\) → 1\.0\.0/);
    expect(run.stdout).toMatch(/note: .*the deploy will recreate it from the running replicas/);
    expect(run.stdout).not.toMatch(/would fail/);
    expect(existsSync(routerDir())).toBe(false);
  }, 60_000);

  it('the next deploy recreates it from the running replicas and restarts the router; requests lost are counted', async () => {
    const load = startLoad({ url: `http://127.0.0.1:${port}/`, rps: 100, maxDurationMs: 120_000 });
    await new Promise((r) => setTimeout(r, 1000));
    const run = await runItsctl(['deploy', '-e', APP, '-v', '1.0.0'], envs);
    await new Promise((r) => setTimeout(r, 1000));
    const traffic = await load.stop();
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/state directory \S+ was deleted under it/);
    // Both slots ran: the serving one (1.1.0's) came from the last successful deployment, and the
    // deployment then switched away from that slot.
    const chosen =
      /traffic on slot (blue|green) \(it runs the last successful deployment \((sha256:\w+)\)\)/.exec(
        run.stderr,
      );
    expect(chosen, run.stderr).not.toBeNull();
    expect(chosen![2]).toBe(lastDigest);
    const other = chosen![1] === 'blue' ? 'green' : 'blue';
    expect(run.stderr).toContain(`traffic now on slot ${chosen![1]}, after: slot ${other}`);
    expect(run.stderr).toMatch(/did not accept connections for about \d+ ms while it restarted/);

    // The cost of the restart, measured: every failure falls in one short window (the router's restart);
    // the blue-green switch itself still loses nothing.
    const failedAt = traffic.timeline.filter((t) => !t.ok).map((t) => t.atMs);
    const windowMs = failedAt.length > 0 ? Math.max(...failedAt) - Math.min(...failedAt) : 0;
    console.log(
      `router restart after a deleted state directory: ${traffic.failed} of ${traffic.sent} requests failed, within ${Math.round(windowMs)} ms (100 rps)`,
    );
    expect(windowMs).toBeLessThan(3000);
    expect(traffic.failed).toBeLessThanOrEqual(300);
    expect(traffic.versions['1.0.0']).toBeGreaterThan(0);

    // The directory is real again: files written from the live router, a socket that answers.
    expect(readFileSync(join(routerDir(), 'slot.map'), 'utf8')).toBe(`active ${other}\n`);
    expect(existsSync(join(routerDir(), 'admin.sock'))).toBe(true);
    expect(await servedVersion()).toBe('1.0.0');
    const status = await runItsctl(['status', '-e', APP], envs);
    expect(status.code, status.stderr).toBe(0);
    // A later restart by the daemon comes back serving the same set (it reads the recreated files).
    expect(spawnSync(DOCKER, ['restart', `${APP}-${APP}-router`]).status).toBe(0);
    for (let i = 0; i < 50 && !(await engine.inspectContainer(`${APP}-${APP}-router`))?.State.Running; i++)
      await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1500));
    expect(await servedVersion()).toBe('1.0.0');
  }, 240_000);
});
