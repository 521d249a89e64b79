/**
 * The production image under load: SIGTERM while clients are mid-request must finish every request that
 * was already sent and stop the container within 2 s, with exit code 0. Real engine, real image,
 * bounded load from this process against the port published on 127.0.0.1.
 */
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDockerCli } from '@its/docker-engine';

const docker = resolveDockerCli();
const image = process.env.ITS_PRODUCTION_IMAGE ?? 'its-camera-ai:production';
const name = `its-shutdown-test-${process.pid}`;
const run = (args: string[]) =>
  execFileSync(docker, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** One GET on a fresh connection (no keep-alive), so every request's fate is its own. */
function get(
  port: number,
  path: string,
): Promise<{ ok: boolean; status?: number; error?: string; path: string; body?: string }> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close' }, timeout: 5000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c.slice(0, 200)));
        res.on('end', () =>
          resolve({
            ok: res.statusCode === 200,
            status: res.statusCode ?? 0,
            path,
            ...(res.statusCode === 200 ? {} : { body }),
          }),
        );
        res.on('error', (err) => resolve({ ok: false, error: err.message, path }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ ok: false, error: err.message, path }));
    req.end();
  });
}

let port = 0;

beforeAll(async () => {
  try {
    run(['image', 'inspect', image]);
  } catch {
    // Not built yet on this machine: build it (BuildKit reuses every cached layer).
    execFileSync(docker, ['build', '-f', 'docker/Dockerfile', '--target', 'production', '-t', image, '.'], {
      cwd: new URL('../../../../', import.meta.url).pathname,
      env: { ...process.env, DOCKER_BUILDKIT: '1' },
      stdio: 'ignore',
    });
  }
  run(['run', '-d', '--name', name, '--read-only', '--tmpfs', '/tmp', '-p', '127.0.0.1::8000', image, 'api']);
  port = Number(run(['port', name, '8000/tcp']).split('\n')[0]?.split(':').pop());
  // Readiness: poll /health until it answers 200 (the embedded store migrates first).
  const deadline = Date.now() + 60_000;
  for (;;) {
    if ((await get(port, '/health')).ok) break;
    if (Date.now() > deadline)
      throw new Error(`the api in ${image} never became healthy: ${run(['logs', '--tail', '20', name])}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}, 900_000);

afterAll(() => {
  try {
    run(['rm', '-f', name]);
  } catch {
    // already gone
  }
});

describe('production image: graceful shutdown', () => {
  it('drains in-flight requests and exits 0 within 2 s of SIGTERM', async () => {
    const CLIENTS = 8;
    const MAX_REQUESTS = 1500;
    let sent = 0;
    let stop = false;
    const results: Awaited<ReturnType<typeof get>>[] = [];
    const client = async () => {
      while (!stop && sent < MAX_REQUESTS) {
        sent++;
        results.push(await get(port, sent % 2 ? '/health' : '/metrics'));
      }
    };
    const clients = Array.from({ length: CLIENTS }, () => client());
    // Let the load run until a few hundred requests have completed, then signal while requests are open.
    while (results.length < 200 && sent < MAX_REQUESTS) await new Promise((r) => setTimeout(r, 10));
    const inFlightAtSignal = sent - results.length;
    stop = true; // no new requests after the signal: everything counted below was sent before it
    const signalledAt = Date.now();
    run(['kill', '--signal', 'SIGTERM', name]);
    await Promise.all(clients);
    run(['wait', name]);
    const state = JSON.parse(run(['inspect', '--format', '{{json .State}}', name])) as {
      ExitCode: number;
      FinishedAt: string;
    };
    const stoppedAfterMs = new Date(state.FinishedAt).getTime() - signalledAt;

    const failed = results.filter((r) => !r.ok);
    expect(inFlightAtSignal).toBeGreaterThan(0);
    expect(failed).toEqual([]);
    expect(results.length).toBe(sent);
    expect(state.ExitCode).toBe(0);
    expect(stoppedAfterMs).toBeLessThan(2000);
    expect(run(['logs', name]) + '').toMatch(/SIGTERM/);
  }, 120_000);
});
