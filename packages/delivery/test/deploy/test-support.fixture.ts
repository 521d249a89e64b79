import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { runCli } from '../../src/cli/program.js';
import { DockerEngine } from '@its/docker-engine';

/** Shared by the deployment integration tests and the benchmark: images, environments, the CLI. */

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..', '..', '..');
const itsctlSource = join(here, '..', '..', 'src', 'bin', 'itsctl.ts');
const tsx = createRequire(import.meta.url).resolve('tsx');
export const DOCKER = '/usr/bin/docker';

function docker(args: string[], input?: string): void {
  const r = spawnSync(DOCKER, args, {
    input,
    encoding: 'utf8',
    env: { ...process.env, DOCKER_BUILDKIT: '0' },
  });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed: ${r.stderr}`);
}

/** The test service at three versions (one whose database check fails) and the router image. */
export function buildTestImages(): void {
  const engineHas = (ref: string) =>
    spawnSync(DOCKER, ['image', 'inspect', ref], { stdio: 'ignore' }).status === 0;
  if (!engineHas('node:24-bookworm-slim') || !engineHas('debian:bookworm-slim'))
    throw new Error('base images missing: run scripts/bootstrap-base-images.sh first');
  docker(['build', '-q', '-t', 'its-haproxy:latest', join(repoRoot, 'docker', 'haproxy')]);
  docker(['build', '-q', '-t', 'its-testsvc:latest', join(repoRoot, 'docker', 'testsvc')]);
  docker(['tag', 'its-testsvc:latest', 'its-testsvc:1.0.0']);
  // Distinct digests, so history tells versions apart as it would in a registry.
  docker(
    ['build', '-q', '-t', 'its-testsvc:1.1.0', '-'],
    'FROM its-testsvc:latest\nLABEL its.test.version=1.1.0\n',
  );
  docker(
    ['build', '-q', '-t', 'its-testsvc:2.0.0-bad', '-'],
    'FROM its-testsvc:latest\nENV FAIL_READY=1\nLABEL its.test.version=2.0.0-bad\n',
  );
  // Versions that pass every health check and then misbehave under traffic (canary and watch tests).
  const faulty: Record<string, string> = {
    '3.0.0-errors': 'ENV ERROR_RATE=0.05',
    '3.0.0-slow': 'ENV LATENCY_FACTOR=2',
    '3.0.0-late': 'ENV FAIL_AFTER_MS=12000',
  };
  for (const [tag, env] of Object.entries(faulty))
    docker(
      ['build', '-q', '-t', `its-testsvc:${tag}`, '-'],
      `FROM its-testsvc:latest\n${env}\nLABEL its.test.version=${tag}\n`,
    );
}

export { freePort } from '@its/core';

export interface TestEnvironments {
  dir: string;
  stateDir: string;
}

export function makeEnvironments(files: Record<string, string>): TestEnvironments {
  const dir = mkdtempSync(join(tmpdir(), 'its-deploy-envs-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, `${name}.yml`), text);
  return { dir, stateDir: mkdtempSync(join(tmpdir(), 'its-deploy-state-')) };
}

export function testEnvironment(
  app: string,
  port: number,
  strategy: 'rolling' | 'blue-green' | 'canary',
  extra = '',
  strategyExtra = '',
): string {
  return [
    `app: ${app}`,
    'image: { repository: its-testsvc, defaultVersion: 1.0.0 }',
    ...(extra.includes('replicas:') ? [] : ['replicas: 2']),
    `router: { port: ${port}, drainTimeoutMs: 5000 }`,
    `strategy: { default: ${strategy}, keepPreviousSeconds: 600${strategyExtra ? `, ${strategyExtra}` : ''} }`,
    // A short watch keeps every deployment test exercising it without waiting a minute each.
    ...(extra.includes('watch:') ? [] : ['watch: { seconds: 2, intervalMs: 500 }']),
    // The machine is shared and busy: a loose latency SLO keeps the performance check about the
    // service, not about the neighbours (its failure path is unit-tested with a scripted clock). The
    // test service reports a database entry, so the database check (off by default) is turned on.
    'healthChecks: { api: { retries: 40, intervalMs: 250 }, container: { timeoutMs: 20000 }, database: { enabled: true }, performance: { p95Ms: 2000 } }',
    extra,
  ].join('\n');
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs itsctl as its own process (the real entry point, without the npx launcher in between). */
export function spawnItsctl(
  args: string[],
  envs: TestEnvironments,
  onStderr?: (text: string, kill: (signal: NodeJS.Signals) => void) => void,
): Promise<CliRun> & { pid: number | undefined } {
  const child = spawn(process.execPath, ['--conditions=source', '--import', tsx, itsctlSource, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ITS_DEPLOY_ENVIRONMENTS: envs.dir, ITS_DEPLOY_STATE_DIR: envs.stateDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    onStderr?.(stderr, (signal) => child.kill(signal));
  });
  const done = new Promise<CliRun>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return Object.assign(done, { pid: child.pid });
}

/** Runs itsctl in this process (same code path as the binary; its coverage counts). */
export async function runItsctl(args: string[], envs: TestEnvironments): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: { ...process.env, ITS_DEPLOY_ENVIRONMENTS: envs.dir, ITS_DEPLOY_STATE_DIR: envs.stateDir },
    cwd: repoRoot,
    now: () => new Date(),
  });
  return { code, signal: null, stdout, stderr };
}

/** Removes every container and network the tests created for these apps. */
export async function cleanUp(apps: string[]): Promise<void> {
  const engine = new DockerEngine({ socketPath: '/var/run/docker.sock' });
  for (const app of apps) {
    for (const c of await engine.listContainers({ 'its.app': app })) await engine.removeContainer(c.Id);
    await engine.removeNetworks({ 'its.app': app });
  }
}
