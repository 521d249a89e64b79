#!/usr/bin/env node
/**
 * The load and API-performance suites: autocannon against a running API, bounded in time and
 * connections, writing autocannon's JSON for `itsctl gate` to judge with k6-style thresholds
 * (deploy/quality-gates.yml → performance.api and load.sustained). autocannon has no exit code for
 * thresholds and no p95: the gate interpolates it and says so.
 *
 *   node scripts/load-test.mjs [--url http://localhost:8000] [--profile sustained|performance]
 *                              [--duration S] [--connections N] [--out FILE] [--api-key KEY] [--start-api]
 *
 * Profiles (defaults; --duration and --connections override, capped at 120 s and 200 connections):
 *   performance  10 s, 10 connections  → reports/perf/api-autocannon.json  (API response time)
 *   sustained    20 s, 50 connections  → reports/load/autocannon.json      (the stack under steady load)
 * The request mix is what the dashboard and probes do: /health, the camera list, latest counts and a
 * 24-hour aggregate query; with --api-key (or E2E/LOAD_API_KEY; scopes ingest, read and cameras:write,
 * since it creates its camera) one request in five ingests a crossing and every request carries the key
 * (one client at one address: anonymous, it would meet the API's per-address rate limit within seconds).
 * --start-api starts the API from the sources on a free 127.0.0.1 port with an embedded store in a
 * temp dir (and an admin token to create its own ingest key), for a run without the stack.
 * Exit code: 0 when the run completed (the verdict is the gate's), 1 when the API was unreachable, 2 on bad usage.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PROFILES = {
  performance: { duration: 10, connections: 10, out: 'reports/perf/api-autocannon.json' },
  sustained: { duration: 20, connections: 50, out: 'reports/load/autocannon.json' },
};

export function parseArgs(argv, env = process.env) {
  const opts = {
    url: env.API_URL ?? 'http://localhost:8000',
    profile: 'sustained',
    apiKey: env.LOAD_API_KEY,
    startApi: false,
  };
  const problems = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) problems.push(`${a}: needs a value`);
      return v ?? '';
    };
    if (a === '--url') opts.url = value().replace(/\/$/, '');
    else if (a === '--profile') opts.profile = value();
    else if (a === '--duration') opts.duration = Number(value());
    else if (a === '--connections') opts.connections = Number(value());
    else if (a === '--out') opts.out = value();
    else if (a === '--api-key') opts.apiKey = value();
    else if (a === '--start-api') opts.startApi = true;
    else if (a === '--help' || a === '-h') opts.help = true;
    else problems.push(`${a}: unknown option (see --help)`);
  }
  const profile = PROFILES[opts.profile];
  if (!profile)
    problems.push(`--profile: '${opts.profile}' is not one of ${Object.keys(PROFILES).join(', ')}`);
  opts.duration ??= profile?.duration;
  opts.connections ??= profile?.connections;
  opts.out ??= profile?.out;
  // Bounded by design: a load test that can run away is a denial of service on a shared machine.
  if (!Number.isInteger(opts.duration) || opts.duration < 1 || opts.duration > 120)
    problems.push(`--duration: ${opts.duration} is not a whole number of seconds between 1 and 120`);
  if (!Number.isInteger(opts.connections) || opts.connections < 1 || opts.connections > 200)
    problems.push(`--connections: ${opts.connections} is not a whole number between 1 and 200`);
  if (!opts.startApi) {
    try {
      const u = new URL(opts.url);
      if (!['http:', 'https:'].includes(u.protocol)) problems.push(`--url: ${opts.url} is not http(s)`);
    } catch {
      problems.push(`--url: '${opts.url}' is not a URL`);
    }
  }
  return { opts, problems };
}

/**
 * The request mix: what operators' dashboards, probes and (with a key) the vision worker send. Pure.
 * With a key every request carries it: the load generator is one client at one address, and the API
 * limits anonymous callers per address (RATE_LIMIT_ANONYMOUS_PER_MIN, 1 200 a minute by default — a
 * dashboard audience comes from many addresses); a key has its own, larger bucket.
 */
export function planRequests(now, apiKey, cameraId) {
  const to = new Date(Math.floor(now / 60_000) * 60_000).toISOString();
  const from = new Date(Date.parse(to) - 24 * 3600_000).toISOString();
  const auth = apiKey ? { headers: { authorization: `Bearer ${apiKey}` } } : {};
  const reads = [
    { method: 'GET', path: '/health' },
    { method: 'GET', path: '/api/v1/cameras', ...auth },
    { method: 'GET', path: '/api/v1/counts/latest', ...auth },
    {
      method: 'GET',
      path: `/api/v1/aggregates?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&bucket=1h`,
      ...auth,
    },
  ];
  if (!apiKey || !cameraId) return reads;
  const ingest = {
    method: 'POST',
    path: '/api/v1/ingest/events',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    // A fresh id per request, or the API rightly deduplicates the crossing.
    setupRequest: (req) => ({
      ...req,
      body: JSON.stringify({
        events: [
          {
            id: randomUUID(),
            cameraId,
            lineId: 'load-1',
            lane: 'L1',
            class: 'car',
            direction: 'forward',
            ts: new Date().toISOString(),
            speedKmh: 50,
            trackId: 'load',
          },
        ],
      }),
    }),
  };
  return [...reads, ingest];
}

async function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

async function waitHealthy(url, ms) {
  const deadline = Date.now() + ms;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err.cause?.code ?? err.message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url}/health did not answer 200 within ${ms / 1000} s (last: ${last})`);
}

/** Starts the API from its sources (as `npm run dev` would, without watching) on a free loopback port. */
async function startApi() {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'its-load-api-'));
  const adminToken = randomBytes(24).toString('hex');
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', 'apps/api/src/server.ts'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        ADMIN_TOKEN: adminToken,
        LOG_LEVEL: 'warn',
        DATABASE_URL: '',
        REDIS_URL: '',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise((res) => child.once('exit', res));
  await Promise.race([
    waitHealthy(url, 60_000),
    exited.then((code) => Promise.reject(new Error(`the API exited (${code}) before it was healthy`))),
  ]);
  return {
    url,
    adminToken,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function post(url, path, body, token) {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${path} → ${res.status}: ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

async function main() {
  const { opts, problems } = parseArgs(process.argv.slice(2));
  if (opts.help) {
    process.stdout.write(`${fileURLToPath(import.meta.url)}\n`);
    return 0;
  }
  if (problems.length) {
    process.stderr.write(`load-test: ${problems.join('\nload-test: ')}\n`);
    return 2;
  }
  const log = (s) => process.stderr.write(`load-test: ${s}\n`);
  let api;
  let url = opts.url;
  let apiKey = opts.apiKey;
  try {
    if (opts.startApi) {
      api = await startApi();
      url = api.url;
      // It sets up its own camera, ingests and reads: all three scopes (a default key has no cameras:write).
      apiKey = (
        await post(
          url,
          '/api/v1/admin/api-keys',
          { name: 'load-test', scopes: ['ingest', 'read', 'cameras:write'] },
          api.adminToken,
        )
      ).key;
      log(`started the API at ${url}`);
    } else {
      await waitHealthy(url, 10_000);
    }
    let cameraId;
    if (apiKey) {
      const line = {
        id: 'load-1',
        name: 'load line',
        lane: 'L1',
        a: { x: 0.1, y: 0.5 },
        b: { x: 0.9, y: 0.5 },
        direction: 'both',
      };
      cameraId = (
        await post(
          url,
          '/api/v1/cameras',
          {
            name: `load test ${new Date().toISOString()}`,
            streamUrl: 'rtsp://127.0.0.1/load',
            location: { lat: 0, lon: 0 },
            lines: [line],
          },
          apiKey,
        )
      ).id;
    }
    const requests = planRequests(Date.now(), apiKey, cameraId);
    log(
      `${opts.profile}: ${opts.duration} s, ${opts.connections} connections, ${requests.length} request kinds against ${url}`,
    );
    const result = await autocannon({
      url,
      connections: opts.connections,
      duration: opts.duration,
      requests,
      timeout: 10,
    });
    const out = resolve(ROOT, opts.out);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify({ ...result, profile: opts.profile })}\n`);
    log(
      `${result.requests.total} requests, ${result.non2xx} non-2xx, ${result.errors} errors, latency p50 ${result.latency.p50} ms, p90 ${result.latency.p90} ms, p97.5 ${result.latency.p97_5} ms, p99 ${result.latency.p99} ms → ${relative(ROOT, out)}`,
    );
    return 0;
  } catch (err) {
    log(`FAILED: ${err.message}`);
    return 1;
  } finally {
    await api?.stop();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  process.exitCode = await main();
