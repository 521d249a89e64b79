import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@its/core';
import { evaluatePromQueries } from './prometheus.js';
import type { PromQuery } from './prometheus.js';

/**
 * evaluatePromQueries against a real Prometheus 2.42 (Debian's package). With a `prometheus` binary
 * on this machine (PROMETHEUS_BIN or /usr/bin/prometheus) it runs that on a free 127.0.0.1 port;
 * otherwise it runs the repo's docker/prometheus image (its-prometheus:test, built here if absent)
 * with the port published on 127.0.0.1 only. Either way Prometheus scrapes itself under two job
 * names, so `up` has two series and each job's `up` has one.
 */

const execFileAsync = promisify(execFile);
/** Every docker command is bounded, so a stuck daemon fails the suite with a message instead of hanging it. */
const run = (bin: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeout?: number } = {}) =>
  execFileAsync(bin, args, { timeout: 60_000, maxBuffer: 64 * 1024 * 1024, ...opts });
const REPO = resolve(fileURLToPath(new URL('../../../../', import.meta.url)));
const DOCKER = process.env.DOCKER_BIN ?? '/usr/bin/docker';
const IMAGE = process.env.ITS_PROMETHEUS_IMAGE ?? 'its-prometheus:test';
const BINARY =
  process.env.PROMETHEUS_BIN ?? (existsSync('/usr/bin/prometheus') ? '/usr/bin/prometheus' : undefined);
const LABEL = 'its.test=delivery-prometheus-analysis';

const configFor = (selfTarget: string) => `global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['${selfTarget}']
  - job_name: prometheus-twin
    static_configs:
      - targets: ['${selfTarget}']
`;

interface RunningPrometheus {
  baseUrl: string;
  /** Stops the server (the last test uses it to break things on purpose). */
  stop(): Promise<void>;
  /** Removes everything it created. */
  remove(): Promise<void>;
  how: string;
}

async function startWithBinary(bin: string, dir: string): Promise<RunningPrometheus> {
  const port = await freePort();
  await writeFile(join(dir, 'prometheus.yml'), configFor(`127.0.0.1:${port}`));
  const child: ChildProcess = spawn(
    bin,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return { baseUrl: `http://127.0.0.1:${port}`, stop, remove: stop, how: `${bin} (pid ${child.pid})` };
}

async function ensureImage(): Promise<void> {
  try {
    await run(DOCKER, ['image', 'inspect', IMAGE]);
  } catch {
    // Debian's prometheus package on the project's base image; the classic builder needs no buildx.
    await run(DOCKER, ['build', '-t', IMAGE, join(REPO, 'docker/prometheus')], {
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
      timeout: 240_000,
    });
  }
}

const CONTAINER = `its-delivery-prom-test-${process.pid}-${Date.now().toString(36)}`;

async function startWithDocker(dir: string): Promise<RunningPrometheus> {
  await ensureImage();
  // Copied in, not bind-mounted: when the tests themselves run in a container beside the daemon
  // (the integration-tests service mounts docker.sock), a host path would not be this directory.
  // World-readable, because the image runs as the prometheus user.
  const config = join(dir, 'prometheus.yml');
  await writeFile(config, configFor('localhost:9090'));
  await chmod(config, 0o644);
  const name = CONTAINER;
  // The image's own command reads /etc/prometheus/prometheus.yml and listens on 9090.
  await run(DOCKER, ['create', '--name', name, '--label', LABEL, '-p', '127.0.0.1::9090', IMAGE]);
  await run(DOCKER, ['cp', config, `${name}:/etc/prometheus/prometheus.yml`]);
  await run(DOCKER, ['start', name]);
  const { stdout } = await run(DOCKER, ['port', name, '9090/tcp']);
  const published = stdout
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.startsWith('127.0.0.1:'));
  if (!published) throw new Error(`container ${name} published no 127.0.0.1 port: ${stdout}`);
  return {
    baseUrl: `http://${published}`,
    stop: async () => {
      await run(DOCKER, ['stop', '-t', '5', name]);
    },
    remove: async () => {
      await run(DOCKER, ['rm', '-f', '-v', name]).catch(() => undefined);
    },
    how: `container ${name} (${IMAGE})`,
  };
}

/** Polls until `check` holds; the deadline turns a hang into a clear failure. */
async function waitFor(what: string, check: () => Promise<boolean>, deadlineMs = 60_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

let prom: RunningPrometheus;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'its-prom-test-'));
  prom = BINARY ? await startWithBinary(BINARY, dir) : await startWithDocker(dir);
  // Each probe has its own timeout: a connection that never answers must not outlive the deadline.
  const probe = (path: string) => fetch(`${prom.baseUrl}${path}`, { signal: AbortSignal.timeout(2000) });
  await waitFor(`${prom.how} to be ready`, async () => (await probe('/-/ready')).status === 200);
  // Ready is not scraped: wait until both jobs have one sample of `up`.
  await waitFor('the first scrape of both jobs', async () => {
    const res = await probe(`/api/v1/query?query=${encodeURIComponent('count(up == 1)')}`);
    const body = (await res.json()) as { data?: { result?: { value: [number, string] }[] } };
    return body.data?.result?.[0]?.value[1] === '2';
  });
  // Room for a cold `docker build` of the image (apt inside; about 10 s measured here, far more on a slow mirror).
}, 300_000);

afterAll(async () => {
  await prom?.remove();
  // Also when start-up failed half-way, after `docker create` made the container.
  if (!BINARY) await run(DOCKER, ['rm', '-f', '-v', CONTAINER]).catch(() => undefined);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function evaluateOne(q: PromQuery, opts: Parameters<typeof evaluatePromQueries>[2] = {}) {
  const [result] = await evaluatePromQueries(prom.baseUrl, [q], { timeoutMs: 5000, ...opts });
  return result!;
}

describe('evaluatePromQueries against a real Prometheus', () => {
  it('one series at its minimum passes', async () => {
    expect(await evaluateOne({ name: 'self-up', query: 'up{job="prometheus"}', min: 1 })).toEqual({
      name: 'self-up',
      query: 'up{job="prometheus"}',
      verdict: 'pass',
      value: 1,
      sentence: 'self-up is 1, at least 1',
    });
  });

  it('an aggregated counter is judged against min and max', async () => {
    const query = 'sum(prometheus_http_requests_total)';
    const pass = await evaluateOne({ name: 'requests', query, min: 1 });
    expect(pass.verdict).toBe('pass');
    expect(pass.value).toBeGreaterThanOrEqual(1);
    const fail = await evaluateOne({ name: 'requests', query, max: 0 });
    expect(fail.verdict).toBe('fail');
    expect(fail.sentence).toMatch(/^requests is \d+, above the maximum 0$/);
  });

  it('substitutes variables into the query that is sent', async () => {
    const r = await evaluateOne(
      { name: 'twin-up', query: 'up{job="{{job}}"}', min: 1, max: 1 },
      { vars: { job: 'prometheus-twin' } },
    );
    expect(r).toMatchObject({ query: 'up{job="prometheus-twin"}', verdict: 'pass', value: 1 });
  });

  it('a variable that would inject PromQL is refused and nothing is judged', async () => {
    const r = await evaluateOne(
      { name: 'twin-up', query: 'up{job="{{job}}"}', max: 0 },
      { vars: { job: 'nope"} or vector(0) or up{job="x' } },
    );
    expect(r.verdict).toBe('inconclusive');
    expect(r.sentence).toMatch(/^twin-up was not sent: \{\{job\}\} = .* is refused/);
  });

  it('a metric that does not exist: inconclusive "no values found", not a pass', async () => {
    expect(
      await evaluateOne({ name: 'ghost', query: 'its_metric_that_does_not_exist_total', max: 1 }),
    ).toMatchObject({
      verdict: 'inconclusive',
      value: null,
      sentence: expect.stringMatching(/^no values found for ghost: the query matched no series/) as unknown,
    });
  });

  it('two series: inconclusive, naming the count and asking to aggregate', async () => {
    const r = await evaluateOne({ name: 'all-up', query: 'up', min: 1 });
    expect(r.verdict).toBe('inconclusive');
    expect(r.sentence).toMatch(
      /^all-up returned 2 series \(.*\); a limit needs one number: aggregate the query with sum/,
    );
    expect(r.sentence).toContain('job="prometheus"');
    expect(r.sentence).toContain('job="prometheus-twin"');
  });

  it('a syntax error: inconclusive with Prometheus’s own error text', async () => {
    const r = await evaluateOne({ name: 'broken', query: 'sum(up', max: 1 });
    expect(r.verdict).toBe('inconclusive');
    expect(r.sentence).toMatch(
      /^Prometheus rejected broken \(HTTP 400\): bad_data: .*parse error.*unclosed left parenthesis/,
    );
  });

  it('scalars are judged; NaN (0/0) is no value', async () => {
    expect(await evaluateOne({ name: 'both-up', query: 'scalar(sum(up))', min: 2, max: 2 })).toMatchObject({
      verdict: 'pass',
      value: 2,
    });
    expect(await evaluateOne({ name: 'ratio', query: '0/0', max: 0.01 })).toMatchObject({
      verdict: 'inconclusive',
      sentence: 'no values found for ratio: the query returned NaN (typically 0/0: a ratio with no requests)',
    });
  });

  it('a range vector: inconclusive, asking for an instant query', async () => {
    expect(
      (await evaluateOne({ name: 'range', query: 'up{job="prometheus"}[1m]', min: 1 })).sentence,
    ).toMatch(/^range returned a range vector; write an instant query/);
  });

  it('`now` sets the evaluation time: an hour before the server started there is no data', async () => {
    const r = await evaluateOne(
      { name: 'self-up', query: 'up{job="prometheus"}', min: 1 },
      { now: () => new Date(Date.now() - 3_600_000) },
    );
    expect(r).toMatchObject({ verdict: 'inconclusive', value: null });
    expect(r.sentence).toMatch(/^no values found for self-up/);
  });

  it('several queries at once keep their own verdicts', async () => {
    const results = await evaluatePromQueries(prom.baseUrl, [
      { name: 'a', query: 'up{job="prometheus"}', min: 1 },
      { name: 'b', query: 'up{job="prometheus"}', max: 0 },
      { name: 'c', query: 'absent_metric_xyz', max: 1 },
    ]);
    expect(results.map((r) => [r.name, r.verdict])).toEqual([
      ['a', 'pass'],
      ['b', 'fail'],
      ['c', 'inconclusive'],
    ]);
  });

  // Last on purpose: it stops the server.
  it('with Prometheus stopped every query is inconclusive, saying it cannot be reached', async () => {
    await prom.stop();
    const results = await evaluatePromQueries(
      prom.baseUrl,
      [
        { name: 'self-up', query: 'up{job="prometheus"}', min: 1 },
        { name: 'errors', query: 'sum(rate(x[1m]))', max: 0.01 },
      ],
      { timeoutMs: 2000 },
    );
    for (const r of results) {
      expect(r.verdict).toBe('inconclusive');
      expect(r.value).toBeNull();
      // A connect to a port nobody listens on can, rarely, meet itself (TCP self-connect) and then
      // time out instead of being refused; either way it must be inconclusive with the reason.
      expect(r.sentence).toMatch(
        new RegExp(
          `^(cannot reach Prometheus at ${prom.baseUrl} for ${r.name} \\(|Prometheus at ${prom.baseUrl} did not answer ${r.name} within 2000 ms$)`,
        ),
      );
    }
  });
});
